package app

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/nexus-reussite/harden/examples/nexus/internal/httpapi"
)

// TestOpenAPIDocumentServed: /api/openapi.json goes through the whole chain: the
// embedded document under the API's security headers, cacheable, compressed for
// clients that ask, and revalidated with its ETag in either form.
func TestOpenAPIDocumentServed(t *testing.T) {
	s := newTestServer(t, sqliteBackend(t), nil)
	r := s.expect(http.StatusOK, "GET", "/api/openapi.json", "", nil, "Accept-Encoding", "identity")
	if !bytes.Equal(r.body, httpapi.OpenAPI()) || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("%s: %.80s", r.header.Get("Content-Type"), r.body)
	}
	if r.header.Get("Content-Security-Policy") == "" || r.header.Get("X-Content-Type-Options") != "nosniff" ||
		r.header.Get("Cache-Control") != "public, max-age=300" || r.header.Get("RateLimit-Policy") == "" {
		t.Fatalf("headers %v", r.header)
	}
	etag := r.header.Get("ETag")
	if !strings.HasPrefix(etag, `"`) {
		t.Fatalf("ETag %q", etag)
	}
	s.expect(http.StatusNotModified, "GET", "/api/openapi.json", "", nil, "If-None-Match", etag, "Accept-Encoding", "identity")

	z := s.expect(http.StatusOK, "GET", "/api/openapi.json", "", nil, "Accept-Encoding", "gzip")
	zetag := z.header.Get("ETag")
	if z.header.Get("Content-Encoding") != "gzip" || zetag == etag || !strings.HasPrefix(zetag, strings.TrimSuffix(etag, `"`)) {
		t.Fatalf("compressed: Content-Encoding %q, ETag %q (identity %q)", z.header.Get("Content-Encoding"), zetag, etag)
	}
	zr, err := gzip.NewReader(bytes.NewReader(z.body))
	if err != nil {
		t.Fatal(err)
	}
	if plain, _ := io.ReadAll(zr); !bytes.Equal(plain, httpapi.OpenAPI()) {
		t.Fatal("the compressed document differs")
	}
	s.expect(http.StatusNotModified, "GET", "/api/openapi.json", "", nil, "If-None-Match", zetag, "Accept-Encoding", "gzip")
}
