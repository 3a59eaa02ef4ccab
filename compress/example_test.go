package compress_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/klauspost/compress/gzip"

	"github.com/nexus-reussite/harden/compress"
)

// A Compressor with the Flask-Compress defaults in front of a JSON handler.
func Example() {
	c, err := compress.New(compress.Config{Level: 6, MinSize: 500})
	if err != nil {
		panic(err)
	}
	api := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"formules":[%s"Grand Oral"]}`, strings.Repeat(`"Groupe Réussite",`, 50))
	})
	h := c.Handler(api)

	req := httptest.NewRequest("GET", "/api/formules", nil)
	req.Header.Set("Accept-Encoding", "gzip, deflate, br, zstd")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println("Content-Encoding:", rec.Header().Get("Content-Encoding"))
	fmt.Println("Vary:", rec.Header().Get("Vary"))

	req.Header.Set("Accept-Encoding", "gzip")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	zr, _ := gzip.NewReader(rec.Body)
	body, _ := io.ReadAll(zr)
	fmt.Println("gzip decodes to", len(body), "bytes")
	// Output:
	// Content-Encoding: zstd
	// Vary: Accept-Encoding
	// gzip decodes to 977 bytes
}

// Small responses are not worth compressing, but still vary by Accept-Encoding.
func Example_minSize() {
	c, _ := compress.New(compress.Config{})
	h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"ok"}`)
	}))
	req := httptest.NewRequest("GET", "/health", nil)
	req.Header.Set("Accept-Encoding", "zstd")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Printf("encoding=%q vary=%q body=%s\n", rec.Header().Get("Content-Encoding"), rec.Header().Get("Vary"), rec.Body)
	// Output:
	// encoding="" vary="Accept-Encoding" body={"status":"ok"}
}

// Request bodies sent compressed are decoded for the handler, up to a cap; past it
// the client gets 413 problem+json.
func Example_requestBodies() {
	c, _ := compress.New(compress.Config{DecompressRequests: true, MaxDecompressedSize: 1 << 10})
	h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return // the middleware answers 413
		}
		fmt.Fprintf(w, "read %d bytes", len(b))
	}))
	for _, size := range []int{600, 5000} {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		_, _ = zw.Write(bytes.Repeat([]byte("a"), size))
		_ = zw.Close()
		req := httptest.NewRequest("POST", "/api/aria/chat", &buf)
		req.Header.Set("Content-Encoding", "gzip")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code == http.StatusOK {
			fmt.Println(rec.Code, rec.Body)
		} else {
			fmt.Println(rec.Code, rec.Header().Get("Content-Type"))
		}
	}
	// Output:
	// 200 read 600 bytes
	// 413 application/problem+json
}

// Preference lists come from configuration strings.
func ExampleParseEncodings() {
	encs, err := compress.ParseEncodings("gzip, zstd")
	fmt.Println(encs, err)
	_, err = compress.ParseEncodings("br")
	fmt.Println(err)
	// Output:
	// [gzip zstd] <nil>
	// compress: unsupported encoding: "br"
}
