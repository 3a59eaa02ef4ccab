package main

import (
	"net/http"
	"strings"

	"github.com/nexus-reussite/harden/internal/problem"
	"github.com/nexus-reussite/harden/observe"
)

// withProblemFallback answers the mux's own 404 and 405 as problem+json (with Allow
// kept) instead of its plain-text bodies.
func withProblemFallback(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern != "" {
			observe.SetRoute(r.Context(), pattern)
			mux.ServeHTTP(w, r)
			return
		}
		rec := &statusOnly{header: http.Header{}}
		h.ServeHTTP(rec, r)
		if allow := rec.header.Get("Allow"); allow != "" {
			w.Header().Set("Allow", allow)
		}
		switch {
		case rec.status == http.StatusMethodNotAllowed:
			problem.Error(w, rec.status, "method not allowed; allowed: "+strings.ReplaceAll(rec.header.Get("Allow"), ",", ", "))
		case rec.status >= 300 && rec.status < 400:
			// The mux redirects to the cleaned path; pass it on.
			w.Header().Set("Location", rec.header.Get("Location"))
			w.WriteHeader(rec.status)
		default:
			problem.Error(w, http.StatusNotFound, "no such endpoint")
		}
	})
}

// statusOnly records the status and headers a fallback handler writes, dropping its body.
type statusOnly struct {
	header http.Header
	status int
}

func (s *statusOnly) Header() http.Header         { return s.header }
func (s *statusOnly) Write(b []byte) (int, error) { return len(b), nil }
func (s *statusOnly) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
}

func fail405(w http.ResponseWriter) {
	problem.Error(w, http.StatusMethodNotAllowed, "method not allowed")
}
