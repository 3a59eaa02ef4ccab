package compress_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/nexus-reussite/harden/compress"
)

// readFromRecorder records whether the middleware handed a copy to the underlying
// writer's ReadFrom (the sendfile path of net/http).
type readFromRecorder struct {
	*httptest.ResponseRecorder
	readFrom      bool
	readFromBytes int64
}

func (r *readFromRecorder) ReadFrom(src io.Reader) (int64, error) {
	r.readFrom = true
	n, err := io.Copy(r.ResponseRecorder, src)
	r.readFromBytes += n
	return n, err
}

// onlyReader hides WriterTo so io.Copy goes through the destination's ReadFrom.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func TestReadFromKeepsUnderlyingReadFromForPlainResponses(t *testing.T) {
	c := mustNew(t, compress.Config{})
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{7}, 50_000)...)
	rec := &readFromRecorder{ResponseRecorder: httptest.NewRecorder()}
	c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := w.(io.ReaderFrom); !ok {
			t.Fatal("wrapper is not an io.ReaderFrom")
		}
		w.Header().Set("Content-Type", "image/png")
		if _, err := io.Copy(w, onlyReader{bytes.NewReader(png)}); err != nil {
			t.Fatal(err)
		}
	})).ServeHTTP(rec, httptestRequest("zstd"))
	if !rec.readFrom || !bytes.Equal(rec.Body.Bytes(), png) || rec.Header().Get("Content-Encoding") != "" {
		t.Fatalf("readFrom delegated=%v, %d bytes, encoding %q", rec.readFrom, rec.Body.Len(), rec.Header().Get("Content-Encoding"))
	}
}

func TestReadFromCompressesAndDecides(t *testing.T) {
	c := mustNew(t, compress.Config{})
	for _, size := range []int{10, 499, 500, 3000, 200_000} {
		body := jsonBody(size)[:size]
		for _, enc := range []string{"zstd", "gzip"} {
			rec := serve(c.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				n, err := io.Copy(w, onlyReader{bytes.NewReader(body)})
				if err != nil || n != int64(size) {
					t.Errorf("copy: %d, %v", n, err)
				}
			})), "GET", enc, nil)
			got := rec.Header().Get("Content-Encoding")
			if (size >= compress.DefaultMinSize) != (got == enc) {
				t.Fatalf("%d bytes via %s: Content-Encoding %q", size, enc, got)
			}
			if !bytes.Equal(decode(t, got, rec.Body.Bytes()), body) {
				t.Fatalf("%d bytes via %s: body differs", size, enc)
			}
		}
	}
}

func TestServeFileThroughMiddleware(t *testing.T) {
	dir := t.TempDir()
	doc := jsonBody(40 << 10)
	img := append([]byte("GIF89a"), bytes.Repeat([]byte{1, 2, 3}, 20_000)...)
	if err := os.WriteFile(filepath.Join(dir, "formules.json"), doc, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "logo.gif"), img, 0o600); err != nil {
		t.Fatal(err)
	}
	c := mustNew(t, compress.Config{})
	srv := httptest.NewServer(c.Handler(http.FileServer(http.Dir(dir))))
	defer srv.Close()
	for name, tc := range map[string]struct {
		want    []byte
		wantEnc string
	}{"/formules.json": {doc, "zstd"}, "/logo.gif": {img, ""}} {
		res, raw := get(t, srv.Client(), "GET", srv.URL+name, "zstd")
		if res.Header.Get("Content-Encoding") != tc.wantEnc || !bytes.Equal(decode(t, tc.wantEnc, raw), tc.want) {
			t.Fatalf("%s: Content-Encoding %q, %d bytes", name, res.Header.Get("Content-Encoding"), len(raw))
		}
		if tc.wantEnc == "" && res.ContentLength != int64(len(tc.want)) {
			t.Fatalf("%s: Content-Length %d, want %d", name, res.ContentLength, len(tc.want))
		}
	}
}

func TestReadFromHandsOverWholeBodyWhenHeadersDecide(t *testing.T) {
	c := mustNew(t, compress.Config{})
	rec := &readFromRecorder{ResponseRecorder: httptest.NewRecorder()}
	var copied int64
	c.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "video/mp4")
		copied, _ = w.(io.ReaderFrom).ReadFrom(onlyReader{bytes.NewReader(make([]byte, 100))})
	})).ServeHTTP(rec, httptestRequest("gzip"))
	if rec.readFromBytes != 100 || copied != 100 || rec.Body.Len() != 100 || rec.Code != 200 {
		t.Fatalf("delegated %d bytes, copied=%d body=%d code=%d", rec.readFromBytes, copied, rec.Body.Len(), rec.Code)
	}
}
