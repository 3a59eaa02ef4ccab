// Package observe gives an HTTP server what an SRE expects on day one: request IDs, JSON
// access logs, panic recovery, Prometheus RED metrics and Sentry error and performance
// reporting, in one middleware.
//
// # Usage
//
// The Observer is the outermost middleware, so that it also logs and counts what the
// middleware inside it answers on its own (a 429, a 403); Router lets it name the route
// of those responses. From the package example:
//
//	mux := http.NewServeMux()
//	mux.HandleFunc("GET /courses/{id}", ...)
//	o, err := observe.New(observe.Config{
//		Registerer: reg, // a *prometheus.Registry
//		Router:     mux, // routes named before the request reaches the mux
//		SkipPaths:  []string{"/live"},
//	})
//	if err != nil {
//		...
//	}
//	defer o.Shutdown(context.Background()) // flushes Sentry when SentryDSN is set
//	h := o.Handler(limiter.Handler(mux))
//
// # Defaults, and what they cost
//
// The zero Config:
//
//   - Access log: JSON lines on standard output at INFO (Logger nil). The Observer
//     encodes these lines itself, byte for byte as slog.JSONHandler would, into a
//     pooled buffer, and writes each with one Write call under a mutex. A Logger made
//     by NewJSONLogger (to another writer or level) keeps this path; any other Logger
//     receives a slog.Record per request, which takes more time and allocations
//     (benchmarks/README.md has the figures). slog.New(slog.DiscardHandler) turns
//     logging off. Every path is logged (SkipPaths none).
//   - Request IDs: X-Request-ID (RequestIDHeader); an incoming ID of up to 128 bytes
//     (MaxRequestIDLength) is kept, otherwise 32 hex characters are generated from one
//     128-bit random draw (GenerateRequestID).
//   - Client address: the TCP peer (TrustedProxies none). With trusted proxies, only the
//     header family named by ClientIPHeader is believed, X-Forwarded-For by default.
//   - Routes: r.Pattern as a ServeMux directly below sets it (Router nil). With a
//     Router, each request is looked up once more before the next handler runs.
//     Requests no route matched are labelled "unmatched" (UnmatchedRoute).
//   - Recovery: a 500 application/problem+json naming the request ID (PanicHandler).
//   - Metrics: none (Registerer nil). With a Registerer, each request updates an
//     in-flight gauge and four series found with one map lookup; MetricsHandler serves
//     the Registerer when it is a Gatherer (Gatherer), with no token (MetricsToken);
//     duration buckets prometheus.DefBuckets, classic histograms only
//     (NativeHistograms false).
//   - Sentry: off (SentryDSN empty). With a DSN, each request gets its own hub; errors
//     only (TracesSampleRate 0); Shutdown flushes within 2 s (FlushTimeout).
//   - Clock: time.Now (Now).
//
// Handlers log with observe.Logger(r.Context()), which carries request_id and trace_id;
// observe.RequestID and observe.TraceID return the identifiers themselves.
//
// # Request IDs and traces
//
// An incoming X-Request-ID is kept when it is 1 to 128 bytes of letters, digits and
// "-_.:/+=@"; otherwise a new ID is generated. The ID is echoed in the response header
// and stored in the context. A valid W3C traceparent header supplies the trace ID; with
// Sentry tracing on and no traceparent, the Sentry transaction's trace ID is used.
// Without either, requests have no trace ID.
//
// # Access log
//
// One line per request, message "http request", with method, route, path, status,
// bytes, duration_ms, request_id, trace_id (when present), client_ip and user_agent.
// Level: ERROR for status >= 500 or a panic, WARN for 4xx, INFO otherwise. Successful
// requests to SkipPaths are not logged. ContextHandler adds the request fields to any
// slog handler (the access line has them already, so they are not added to it twice).
//
// # Routes
//
// Metrics, access lines and Sentry transactions name a request by its route pattern,
// never by its raw path, so that the number of series stays bounded. Without a Router
// the pattern is the one a ServeMux sets on the request when the Observer wraps it
// directly. Middleware in between that answers on its own (a rate limiter's 429) or
// replaces the request (r.WithContext) hides that pattern; set Config.Router to the
// ServeMux and the Observer looks the route up first and names the response by it
// whoever writes it. It does not set r.Pattern on the request it passes on: that stays
// the router's to set, so middleware in between cannot mistake itself for being on a
// route. A Router may be any type with ServeMux's Handler method, so handlers served
// ahead of the application's mux (probes, say) are named too; a chain that routes on
// its own (a composition serving probes, or a router other than a ServeMux) names the
// route with SetRoute, which wins over both. A CONNECT request keeps
// a pattern only when the pattern names CONNECT: for a CONNECT redirect, ServeMux
// reports the path the client sent.
//
// # Recovery
//
// A panic is logged once (with its stack, on the access log line), counted in
// harden_http_panics_total and sent to Sentry. If the handler had not written headers,
// the headers it set are dropped and PanicHandler writes the response, by default a 500
// application/problem+json naming the request ID. If headers were already sent, nothing
// more is written and the connection is aborted (http.ErrAbortHandler), so the client
// cannot take a truncated body for a complete one. A handler panicking with
// http.ErrAbortHandler is not reported and the panic continues to the server.
//
// # Metrics
//
// With a Registerer: harden_http_requests_total (counter), harden_http_request_duration_seconds
// (histogram, prometheus.DefBuckets, native histogram optional),
// harden_http_request_size_bytes and harden_http_response_size_bytes (histograms, 64 B
// to 16 MiB), labelled method (standard methods, else OTHER), route and code (status
// class "2xx"); harden_http_requests_in_flight (gauge) and harden_http_panics_total{method,
// route}. When the request has a trace ID, the counter and the duration histogram carry
// it as an exemplar (visible in the OpenMetrics format). MetricsHandler serves the
// registry, optionally behind a bearer token (MetricsToken); ServeMetrics serves it on a
// separate listener.
//
// # Sentry
//
// With a SentryDSN, each request gets its own hub (the global sentry hub is never
// touched). Panics are sent as unhandled exceptions with their stack trace and the
// request (URL, method, headers, query string; never the body nor cookies).
// Authorization, Proxy-Authorization, Cookie, Set-Cookie, X-Api-Key and ScrubHeaders are
// replaced by "[Filtered]", as are the values of sensitive query parameters (password,
// token, access_token, refresh_token, api_key, secret, code and ScrubQueryParams) and any
// ScrubValues found in the event. With TracesSampleRate > 0, requests are sampled as
// transactions named after the route pattern (source "route"), continuing an incoming
// sentry-trace or traceparent. Shutdown flushes pending events within FlushTimeout
// (default 2 s).
//
// sentry-go has had no profiling since v0.31.0, so observe offers no profiles sample
// rate; use net/http/pprof or a continuous profiler instead.
package observe
