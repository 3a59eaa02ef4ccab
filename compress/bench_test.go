package compress_test

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/nexus-reussite/harden/compress"
	"github.com/nexus-reussite/harden/internal/testenv"
)

// perRequestCases are the responses whose cost is the middleware's own decisions
// rather than compression: a body under MinSize (its Content-Type set directly or
// with Set, for a browser's Accept-Encoding), a client that accepts no coding, a type
// outside the allow-list, a declared Content-Length under MinSize and a 304. The
// compressed cases show what the decisions add to a real encoding; "bare" is served
// without the middleware, as the reference.
func perRequestCases() []struct {
	name, accept string
	h            http.Handler
} {
	small := jsonBody(200)
	big := jsonBody(3 << 10)
	jsonCT := []string{"application/json"}
	pngCT := []string{"image/png"}
	length := []string{"200"}
	etag := []string{`"v1"`}
	write := func(body []byte) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header()["Content-Type"] = jsonCT
			_, _ = w.Write(body)
		})
	}
	return []struct {
		name, accept string
		h            http.Handler
	}{
		{"bare", "gzip", write(small)},
		{"small", "gzip", write(small)},
		{"small-set", "gzip, deflate, br, zstd", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			_, _ = w.Write(small)
		})},
		{"identity", "", write(small)},
		{"image", "gzip", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header()["Content-Type"] = pngCT
			_, _ = w.Write(big)
		})},
		{"content-length", "gzip", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header()["Content-Type"] = jsonCT
			w.Header()["Content-Length"] = length
			_, _ = w.Write(small)
		})},
		{"not-modified", "gzip", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header()["Etag"] = etag
			w.WriteHeader(http.StatusNotModified)
		})},
		{"3KiB-gzip", "gzip", write(big)},
		{"3KiB-zstd", "zstd", write(big)},
	}
}

// outerHeaders are response headers that middleware in front of compression (security
// headers, rate-limit state, request ID) has set by the time it runs; with them the
// header map is past the size Go keeps in one small group, as in a real stack.
var outerHeaders = map[string][]string{
	"Content-Security-Policy":      {"default-src 'none'; frame-ancestors 'none'"},
	"Cross-Origin-Opener-Policy":   {"same-origin"},
	"Cross-Origin-Resource-Policy": {"same-origin"},
	"Permissions-Policy":           {"camera=(), geolocation=(), microphone=()"},
	"Referrer-Policy":              {"strict-origin-when-cross-origin"},
	"Strict-Transport-Security":    {"max-age=31536000; includeSubDomains"},
	"X-Content-Type-Options":       {"nosniff"},
	"X-Frame-Options":              {"DENY"},
	"X-Ratelimit-Limit":            {"1000"},
	"X-Ratelimit-Remaining":        {"999"},
	"X-Ratelimit-Reset":            {"1796197500"},
	"X-Request-Id":                 {"0027af13c56ac921b1acebfa97db5796"},
}

// BenchmarkPerRequest measures the middleware on one request at a time; ns/op is
// the handler's cost plus the middleware's, the body dropped by a sink. "bare" is the
// small handler alone; "stacked" runs each case with outerHeaders already set.
func BenchmarkPerRequest(b *testing.B) {
	c := mustNew(b, compress.Config{})
	for _, stacked := range []bool{false, true} {
		prefix := ""
		if stacked {
			prefix = "stacked/"
		}
		for _, tc := range perRequestCases() {
			h := c.Handler(tc.h)
			if tc.name == "bare" {
				h = tc.h
			}
			b.Run(prefix+tc.name, func(b *testing.B) {
				r := httptest.NewRequest(http.MethodGet, "/api/formulas", nil)
				if tc.accept != "" {
					r.Header.Set("Accept-Encoding", tc.accept)
				}
				w := testenv.NewHeaderSink()
				b.ReportAllocs()
				for b.Loop() {
					w.Reset()
					if stacked {
						maps.Copy(w.H, outerHeaders)
					}
					h.ServeHTTP(w, r)
				}
			})
		}
	}
}
