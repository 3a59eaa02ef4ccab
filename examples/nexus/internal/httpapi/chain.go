package httpapi

import (
	"context"
	"net/http"
	"strings"
)

// Rate-limit rules attached to single routes on top of the default rule.
const (
	ruleLogin    = "5 per minute"
	ruleRegister = "3 per minute"
	// ruleCSPReport budgets each client's CSP reports: with at most cspMaxReports
	// reports a request, one address gets at most 25 of the cspLogLimit reports logged
	// a minute, so one client's spam cannot crowd out the others' reports.
	ruleCSPReport = "5 per minute"
)

// CSP report bounds: reports taken from one request (a Reporting API batch), and
// reports logged a minute by every client together.
const (
	cspMaxReports = 5
	cspLogLimit   = 300
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
//	probes     /live /ready /health (health) and /metrics: never limited or redirected;
//	           /metrics needs METRICS_TOKEN when set, and moves to METRICS_ADDR when set
//	security   allowed hosts, HTTPS redirect + HSTS (production), CSP with nonces,
//	           security headers, CORS, CSRF, body limit, cookie hardening
//	shedding   concurrency gates of the password-hashing and ARIA routes: the excess
//	           is answered 503 + Retry-After at once, before any rate limit counts it
//	ratelimit  default rule per client IP (shared through Redis when configured)
//	compress   zstd / gzip responses; gzip / zstd request bodies decoded, at most
//	           MAX_CONTENT_LENGTH decoded bytes (security bounds the encoded ones)
//	routes     per-route limits (login, register) and the response cache (formulas)
//
// The Observer's Router knows the probes and the routes, so every response is logged
// and counted under its route pattern, whoever writes it: a 429 of the default limit or
// a 400 of the host check as much as the handler's own answer.
func (a *API) Handler() http.Handler { return a.observer.Handler(a.router) }

// router serves the probes ahead of the chain and every other request through it. As
// the Observer's Router it names a request by its probe's pattern or its route's.
type router struct {
	probes *http.ServeMux // /live, /ready, /health, /metrics
	api    *http.ServeMux // the routes, inside the chain
	chain  http.Handler   // security, ratelimit, compress, then api
}

// Handler returns the probe or the chain that serves r, and the pattern of the probe or
// route that matches it ("" when none does).
func (rt *router) Handler(r *http.Request) (http.Handler, string) {
	if h, pattern := rt.probes.Handler(r); pattern != "" {
		return h, pattern
	}
	_, pattern := rt.api.Handler(r)
	return rt.chain, pattern
}

func (rt *router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h, pattern := rt.probes.Handler(r); pattern != "" {
		h.ServeHTTP(w, r)
		return
	}
	rt.chain.ServeHTTP(w, r)
}

// setupRouter builds the routes, the chain around them and the probes.
func (a *API) setupRouter() error {
	api := http.NewServeMux()
	a.routes(api)
	var chain http.Handler = withProblemFallback(api)
	chain = a.compressor.Handler(chain)
	chain = a.limiter.Handler(chain)
	chain, err := a.withShedding(api, chain)
	if err != nil {
		return err
	}
	chain = a.security.Handler(chain)

	probes := http.NewServeMux()
	probes.Handle("/live", a.health.LiveHandler()) // the health handlers answer 405 to other methods
	probes.Handle("/ready", a.health.ReadyHandler())
	probes.Handle("/health", a.health.HealthHandler())
	// With METRICS_ADDR the metrics have a listener of their own (ServeMetrics) and
	// this one answers /metrics 404, as any unknown path.
	if a.cfg.MetricsAddr == "" {
		metrics := a.observer.MetricsHandler()
		probes.Handle("/metrics", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				w.Header().Set("Allow", "GET, HEAD")
				writeProblem(w, http.StatusMethodNotAllowed, "method not allowed")
				return
			}
			w.Header().Set("Cache-Control", "no-store")
			metrics.ServeHTTP(w, r)
		}))
	}
	*a.router = router{probes: probes, api: api, chain: chain}
	return nil
}

// limited adds the per-route rate limit of the route named name (login, register,
// csp_report) to next.
func (a *API) limited(name string, next http.Handler) http.Handler {
	return a.routeLimits[name].Handler(next)
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
