package httpapi

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/nexus-reussite/harden/examples/nexus/internal/httpapi/openapitest"
)

// routeList records the patterns routes registers.
type routeList []string

func (l *routeList) Handle(pattern string, _ http.Handler) { *l = append(*l, pattern) }

// servedRoutes lists the routes the API serves as "METHOD /path", in the document's
// spelling: the ServeMux patterns (where "/{$}" is the path "/") and the probes
// answered ahead of the mux. routes only wraps handlers, calling none, so a zero API
// lists them.
func servedRoutes(t *testing.T) []string {
	var patterns routeList
	(&API{}).routes(&patterns)
	for _, p := range probePaths {
		patterns = append(patterns, http.MethodGet+" "+p)
	}
	var out []string
	for _, p := range patterns {
		method, path, ok := strings.Cut(p, " ")
		if !ok || !strings.HasPrefix(path, "/") || strings.HasSuffix(path, "...}") || path != "/{$}" && strings.HasSuffix(path, "/") {
			t.Errorf("pattern %q has no OpenAPI equivalent: name a method and a path of fixed segments and {name} wildcards", p)
			continue
		}
		if path == "/{$}" {
			path = "/"
		}
		out = append(out, method+" "+path)
	}
	slices.Sort(out)
	return out
}

// TestOpenAPIDescribesEveryRoute: every route is an operation of the document and every
// operation of the document is a route.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	v, err := openapitest.New(openapiJSON)
	if err != nil {
		t.Fatal(err)
	}
	served, documented := servedRoutes(t), v.Operations()
	if len(served) < 30 {
		t.Fatalf("only %d routes found: %v", len(served), served)
	}
	for _, r := range served {
		if !slices.Contains(documented, r) {
			t.Errorf("%s is routed but not in openapi.json", r)
		}
	}
	for _, op := range documented {
		if !slices.Contains(served, op) {
			t.Errorf("%s is in openapi.json but not routed", op)
		}
	}
}

// TestOpenAPIDocumentServed: the embedded document is served as JSON, cacheable, with a
// strong ETag that conditional requests revalidate.
func TestOpenAPIDocumentServed(t *testing.T) {
	h := openapiHandler()
	get := func(method string, hdr ...string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, openapiPath, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	w := get(http.MethodGet)
	etag := w.Header().Get("ETag")
	if w.Code != http.StatusOK || !bytes.Equal(w.Body.Bytes(), OpenAPI()) || w.Header().Get("Content-Type") != "application/json" ||
		w.Header().Get("Cache-Control") != "public, max-age=300" || len(etag) < 20 || etag[0] != '"' {
		t.Fatalf("GET: %d %v", w.Code, w.Header())
	}
	if get(http.MethodGet).Header().Get("ETag") != etag {
		t.Fatal("ETag changes between requests")
	}
	for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag, "*"} {
		if w := get(http.MethodGet, "If-None-Match", inm); w.Code != http.StatusNotModified || w.Body.Len() != 0 || w.Header().Get("ETag") != etag {
			t.Errorf("If-None-Match %s: %d %q", inm, w.Code, w.Body.String())
		}
	}
	for _, inm := range []string{`"other"`, etag[:len(etag)-2] + `"`, strings.Trim(etag, `"`)} {
		if w := get(http.MethodGet, "If-None-Match", inm); w.Code != http.StatusOK {
			t.Errorf("If-None-Match %s: %d, want 200", inm, w.Code)
		}
	}
	// The document is a valid OpenAPI 3.1 document.
	if _, err := openapitest.New(OpenAPI()); err != nil {
		t.Fatal(err)
	}
	// OpenAPI hands out a copy.
	OpenAPI()[0] = 'x'
	if openapiJSON[0] != '{' {
		t.Fatal("OpenAPI returned the embedded bytes")
	}
}

// FuzzETagListed: a list naming the tag, weakly or among others, matches; the check
// never panics.
func FuzzETagListed(f *testing.F) {
	for _, s := range []string{"", "*", `"a"`, `W/"a", "b"`, `,,`, `"a`, ` W/ "a" `} {
		f.Add(s)
	}
	const etag = `"tag"`
	f.Fuzz(func(t *testing.T, list string) {
		got := etagListed(list, etag)
		if !got && (!etagListed(list+","+etag, etag) || !etagListed("W/"+etag+", "+list, etag)) {
			t.Fatalf("appending the tag to %q does not match", list)
		}
		if got && !strings.Contains(list, etag) && !strings.Contains(list, "*") {
			t.Fatalf("%q matched without naming the tag", list)
		}
	})
}
