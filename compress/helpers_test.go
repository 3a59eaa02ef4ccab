package compress_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/nexus-reussite/harden/compress"
)

// jsonBody returns a JSON document of at least n bytes, shaped like an API listing.
func jsonBody(n int) []byte {
	type item struct {
		ID      int      `json:"id"`
		Name    string   `json:"name"`
		Level   string   `json:"level"`
		Price   int      `json:"price_tnd"`
		Hours   int      `json:"hours_per_month"`
		Feature []string `json:"features"`
	}
	var items []item
	var out []byte
	for i := 0; len(out) < n; i++ {
		items = append(items, item{
			ID: i, Name: fmt.Sprintf("Formule %d", i), Level: "terminale", Price: 180 + i%7*10,
			Hours: 8 + i%4, Feature: []string{"suivi", "bilan", fmt.Sprintf("groupe-%d", i%6)},
		})
		out, _ = json.Marshal(items)
	}
	return out
}

// mustNew builds a Compressor or fails the test.
func mustNew(t testing.TB, cfg compress.Config) *compress.Compressor {
	t.Helper()
	c, err := compress.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// decode undoes the Content-Encoding of a response body.
func decode(t testing.TB, enc string, body []byte) []byte {
	t.Helper()
	switch enc {
	case "":
		return body
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("gzip header: %v", err)
		}
		out, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("gzip body: %v", err)
		}
		return out
	case "zstd":
		zr, err := zstd.NewReader(bytes.NewReader(body), zstd.WithDecoderConcurrency(1))
		if err != nil {
			t.Fatalf("zstd: %v", err)
		}
		defer zr.Close()
		out, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("zstd body: %v", err)
		}
		return out
	}
	t.Fatalf("unexpected Content-Encoding %q", enc)
	return nil
}

// serve runs one request through h and returns the recorded response.
func serve(h http.Handler, method, acceptEncoding string, hdr http.Header) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "/", nil)
	if acceptEncoding != "" {
		r.Header.Set("Accept-Encoding", acceptEncoding)
	}
	for k, v := range hdr {
		r.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

// compressBytes encodes data with enc, for request bodies.
func compressBytes(t testing.TB, enc string, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	switch enc {
	case "gzip":
		zw := gzip.NewWriter(&buf)
		_, _ = zw.Write(data)
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	case "zstd":
		zw, err := zstd.NewWriter(&buf)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = zw.Write(data)
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatalf("compressBytes: %q", enc)
	}
	return buf.Bytes()
}

func readCloser(b []byte) io.ReadCloser { return io.NopCloser(bytes.NewReader(b)) }

func nopWriter() http.ResponseWriter { return httptest.NewRecorder() }
