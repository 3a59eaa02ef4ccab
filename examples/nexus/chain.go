package main

import (
	"context"
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"
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

// setupComponents builds the middleware and stores the handler chain uses.
func (a *app) setupComponents() error {
	return nil
}

// handler assembles the middleware chain around the routes. Probes and /metrics sit
// outside the application chain: never rate limited, never redirected.
func (a *app) handler() http.Handler {
	api := a.routes()
	root := http.NewServeMux()
	root.Handle("GET /live", http.HandlerFunc(a.handleLive))
	root.Handle("GET /ready", http.HandlerFunc(a.handleReady))
	root.Handle("GET /health", http.HandlerFunc(a.handleHealth))
	root.Handle("GET /metrics", promhttp.HandlerFor(a.registry, promhttp.HandlerOpts{}))
	root.Handle("/", withProblemFallback(api))
	return root
}

// limited applies a per-route rate-limit rule.
func (a *app) limited(_ string, next http.Handler) http.Handler { return next }

// cached serves next through the HTTP response cache under tag.
func (a *app) cached(_ string, next http.Handler) http.Handler { return next }

// invalidateTags drops cached responses carrying tag, on every instance.
func (a *app) invalidateTags(_ context.Context, _ ...string) error { return nil }

// pageNonce is the CSP nonce of the request.
func (a *app) pageNonce(*http.Request) string { return "" }

// handleCacheStats reports the response cache (admins only).
func (a *app) handleCacheStats(w http.ResponseWriter, _ *http.Request, _ *principal) error {
	return unavailable("the response cache is not enabled")
}

// flush sends buffered telemetry before exit.
func (a *app) flush() {}
