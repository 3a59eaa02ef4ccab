package compress_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/nexus-reussite/harden/compress"
)

// An outer middleware may rewrite a header value in place after the handler returns
// (h["Vary"][0] = …). Each response must own its header slices, so such a write cannot
// reach another response.
func TestHeaderValuesAreNotSharedBetweenResponses(t *testing.T) {
	body := jsonBody(2000)
	for _, key := range []string{"Vary", "Content-Encoding"} {
		t.Run(key, func(t *testing.T) {
			c := mustNew(t, compress.Config{})
			inner := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write(body)
			}))
			outer := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				inner.ServeHTTP(w, r)
				if v := w.Header()[key]; len(v) > 0 {
					v[0] = "mutated"
				}
			})
			for _, enc := range []string{"zstd", "gzip"} {
				for i := range 3 {
					rec := httptest.NewRecorder()
					r := httptest.NewRequest(http.MethodGet, "/", nil)
					r.Header.Set("Accept-Encoding", enc)
					outer.ServeHTTP(rec, r)
					// The recorder snapshots the headers when they are written, before
					// the outer write: each response shows the values compress set.
					h := rec.Result().Header
					if h.Get("Vary") != "Accept-Encoding" || h.Get("Content-Encoding") != enc {
						t.Fatalf("%s response %d: Vary %q, Content-Encoding %q; want Accept-Encoding, %s",
							enc, i, h.Get("Vary"), h.Get("Content-Encoding"), enc)
					}
				}
			}
		})
	}
}
