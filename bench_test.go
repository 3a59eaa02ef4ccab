package harden_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/nexus-reussite/harden"
	"github.com/nexus-reussite/harden/observe"
	"github.com/nexus-reussite/harden/ratelimit"
)

// BenchmarkStack is the cost of the whole stack around a small JSON route, per request,
// with the route looked up in the mux (a ServeMux) or not (a wrapped mux).
func BenchmarkStack(b *testing.B) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":1,"name":"Alice"}`)
	})
	for _, tc := range []struct {
		name string
		app  http.Handler
	}{
		{"mux", mux},
		{"wrapped", http.HandlerFunc(mux.ServeHTTP)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s, err := harden.New(harden.Config{
				AllowedHosts: []string{host},
				Logger:       observe.NewJSONLogger(io.Discard, nil),
				RateLimit:    ratelimit.Config{Rule: ratelimit.MustParseRule("1000000000 per second")},
			})
			if err != nil {
				b.Fatal(err)
			}
			h := s.Handler(tc.app)
			req := httptest.NewRequest(http.MethodGet, "https://"+host+"/users/1", nil)
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatal(w.Code)
				}
			}
		})
	}
}
