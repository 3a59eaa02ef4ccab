package main

import (
	"context"
	"net/http"
	"time"

	"github.com/nexus-reussite/harden/observe"
	"github.com/nexus-reussite/harden/security"
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

// handler assembles the middleware chain, outermost first:
//
//	observe    request ID, access log, RED metrics, panic recovery, Sentry
//	probes     /live /ready /health (health) and /metrics: never limited or redirected
//	security   allowed hosts, HTTPS redirect + HSTS (production), CSP with nonces,
//	           security headers, CORS, CSRF, body limit, cookie hardening
//	ratelimit  default rule per client IP (shared through Redis when configured)
//	compress   zstd / gzip responses; gzip / zstd request bodies decoded, at most
//	           MAX_CONTENT_LENGTH decoded bytes (security bounds the encoded ones)
//	routes     per-route limits (login, register) and the response cache (formulas)
func (a *app) handler() http.Handler {
	var h http.Handler = withProblemFallback(a.routes())
	h = a.compressor.Handler(h)
	h = a.limiter.Handler(h)
	h = a.security.Handler(h)
	h = a.probes(h)
	return a.observer.Handler(h)
}

// probes serves the health endpoints and /metrics ahead of the application chain.
func (a *app) probes(next http.Handler) http.Handler {
	metrics := a.observer.MetricsHandler()
	app := a.health.Handler(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/metrics":
			observe.SetRoute(r.Context(), "GET /metrics")
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				w.Header().Set("Allow", "GET, HEAD")
				fail405(w)
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
func (a *app) limited(rule string, next http.Handler) http.Handler {
	return a.routeLimits[rule].Handler(next)
}

// cached serves next through the HTTP response cache of tag.
func (a *app) cached(tag string, next http.Handler) http.Handler {
	return a.httpCaches[tag].Handler(next)
}

// invalidateTags drops cached responses carrying the tags, on every instance that shares
// the cache store.
func (a *app) invalidateTags(ctx context.Context, tags ...string) error {
	return a.cache.InvalidateTags(ctx, tags...)
}

// pageNonce is the CSP nonce of the request.
func (a *app) pageNonce(r *http.Request) string { return security.Nonce(r.Context()) }

// flush sends buffered telemetry (Sentry events) before exit.
func (a *app) flush() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.observer.Shutdown(ctx); err != nil {
		a.log.Warn("sentry flush", "err", err)
	}
}
