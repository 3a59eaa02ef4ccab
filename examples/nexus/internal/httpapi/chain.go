package httpapi

import (
	"context"
	"net/http"
	"strings"

	"github.com/nexus-reussite/harden/observe"
)

// Rate-limit rules attached to single routes on top of the default rule.
const (
	ruleLogin    = "5 per minute"
	ruleRegister = "3 per minute"
)

// Cache tags.
const tagFormulas = "formulas"

// cacheTags are the tags an admin may invalidate.
var cacheTags = []string{tagFormulas}

// cspReportPath receives the browsers' CSP violation reports.
const cspReportPath = "/api/csp-report"

// probePaths are served outside the application chain.
var probePaths = []string{"/live", "/ready", "/health", "/metrics"}

// Handler assembles the middleware chain, outermost first:
//
//	observe    request ID, access log, RED metrics, panic recovery, Sentry
//	probes     /live /ready /health (health) and /metrics: never limited or redirected
//	security   allowed hosts, HTTPS redirect + HSTS (production), CSP with nonces,
//	           security headers, CORS, CSRF, body limit, cookie hardening
//	ratelimit  default rule per client IP (shared through Redis when configured)
//	compress   zstd / gzip responses; gzip / zstd request bodies decoded, at most
//	           MAX_CONTENT_LENGTH decoded bytes (security bounds the encoded ones)
//	routes     per-route limits (login, register) and the response cache (formulas)
func (a *API) Handler() http.Handler {
	mux := http.NewServeMux()
	a.routes(mux)
	var h http.Handler = withProblemFallback(mux)
	h = a.compressor.Handler(h)
	h = a.limiter.Handler(h)
	h = a.security.Handler(h)
	h = a.probes(h)
	return a.observer.Handler(h)
}

// probes serves the health endpoints and /metrics ahead of the application chain.
func (a *API) probes(next http.Handler) http.Handler {
	metrics := a.observer.MetricsHandler()
	app := a.health.Handler(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/metrics":
			observe.SetRoute(r.Context(), "GET /metrics")
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				w.Header().Set("Allow", "GET, HEAD")
				writeProblem(w, http.StatusMethodNotAllowed, "method not allowed")
				return
			}
			metrics.ServeHTTP(w, r)
			return
		case "/live", "/ready", "/health":
			observe.SetRoute(r.Context(), "GET "+r.URL.Path)
		}
		app.ServeHTTP(w, r)
	})
}

// limited adds a per-route rate-limit rule to next.
func (a *API) limited(rule string, next http.Handler) http.Handler {
	return a.routeLimits[rule].Handler(next)
}

// cached serves next through the HTTP response cache of tag.
func (a *API) cached(tag string, next http.Handler) http.Handler {
	return a.httpCaches[tag].Handler(next)
}

// invalidateTags drops cached responses carrying the tags, on every instance that shares
// the cache store.
func (a *API) invalidateTags(ctx context.Context, tags ...string) error {
	return a.cache.InvalidateTags(ctx, tags...)
}

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
			writeProblem(w, rec.status, "method not allowed; allowed: "+strings.ReplaceAll(rec.header.Get("Allow"), ",", ", "))
		case rec.status >= 300 && rec.status < 400:
			// The mux redirects to the cleaned path; pass it on.
			w.Header().Set("Location", rec.header.Get("Location"))
			w.WriteHeader(rec.status)
		default:
			writeProblem(w, http.StatusNotFound, "no such endpoint")
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
