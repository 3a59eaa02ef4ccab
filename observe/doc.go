// Package observe gives an HTTP server what an SRE expects on day one: request IDs, JSON
// access logs, panic recovery, Prometheus RED metrics and Sentry error and performance
// reporting, in one middleware.
//
// # Usage
//
//	o, err := observe.New(observe.Config{
//		Logger:           observe.NewJSONLogger(os.Stdout, level), // level from ParseLevel(LOG_LEVEL)
//		TrustedProxies:   []string{"10.0.0.0/8"},
//		SkipPaths:        []string{"/live", "/ready", "/metrics"},
//		Registerer:       reg,                     // a *prometheus.Registry
//		SentryDSN:        os.Getenv("SENTRY_DSN"), // empty: Sentry off
//		Environment:      os.Getenv("APP_ENV"),
//		TracesSampleRate: rate,                    // from ParseSampleRate(SENTRY_TRACES_SAMPLE_RATE)
//	})
//	if err != nil { ... }
//	defer o.Shutdown(ctx)             // flushes Sentry, bounded by FlushTimeout
//	srv.Handler = o.Handler(mux)      // directly around the http.ServeMux
//	mux.Handle("GET /metrics", o.MetricsHandler())
//
// # Defaults (zero Config)
//
// Request IDs in X-Request-ID (RequestIDHeader), incoming ones up to 128 bytes
// (MaxRequestIDLength), generated ones 32 hex characters (GenerateRequestID); recovery
// with a 500 problem (PanicHandler); access logs discarded (Logger nil), every path
// logged (SkipPaths none); the TCP peer is the client (TrustedProxies none); no metrics
// (Registerer nil), MetricsHandler serving the Registerer when it is a Gatherer
// (Gatherer) with no token (MetricsToken), duration buckets prometheus.DefBuckets,
// classic histograms only (NativeHistograms false), unmatched routes labelled
// "unmatched" (UnmatchedRoute); Sentry off (SentryDSN empty), and with a DSN errors only
// (TracesSampleRate 0), flushed within 2 s on Shutdown (FlushTimeout); clock time.Now
// (Now).
//
// Handlers log with observe.Logger(r.Context()), which carries request_id and trace_id;
// observe.RequestID and observe.TraceID return the identifiers themselves.
//
// # Request IDs and traces
//
// An incoming X-Request-ID is kept when it is 1 to 128 bytes of letters, digits and
// "-_.:/+=@"; otherwise a 32-hex-character random ID is generated. The ID is echoed in the
// response header and stored in the context. A valid W3C traceparent header supplies the
// trace ID; with Sentry tracing on and no traceparent, the Sentry transaction's trace ID
// is used. Without either, requests have no trace ID.
//
// # Access log
//
// One line per request, message "http request", with method, route (the ServeMux
// pattern), path, status, bytes, duration_ms, request_id, trace_id (when present),
// client_ip (X-Forwarded-For / Forwarded believed only from TrustedProxies) and
// user_agent. Level: ERROR for status >= 500 or a panic, WARN for 4xx, INFO otherwise.
// Successful requests to SkipPaths are not logged. Logger nil discards logs;
// ContextHandler adds the request fields to any slog handler (the access line has them
// already, so they are not added to it twice).
//
// With a Logger built by NewJSONLogger or NewJSONHandler (alone or under ContextHandler),
// access lines skip slog: the Observer encodes them itself into a pooled buffer, byte for
// byte what slog.JSONHandler writes, with no allocation and about a fifth of the time. Any
// other handler, including one derived with WithAttrs or WithGroup, gets a slog.Record.
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
// to 16 MiB), labelled method (standard methods, else OTHER), route (r.Pattern, or
// "unmatched" when no pattern matched: never the raw path) and code (status class
// "2xx"); harden_http_requests_in_flight (gauge) and harden_http_panics_total{method,
// route}. When the request has a trace ID, the counter and the duration histogram carry
// it as an exemplar (visible in the OpenMetrics format). MetricsHandler serves the
// registry, optionally behind a bearer token (MetricsToken); ServeMetrics serves it on a
// separate listener.
//
// The route is read from the request after the ServeMux has set r.Pattern. When the
// Observer wraps the ServeMux directly that just works. When other middleware sits in
// between (the Observer outermost, so it also logs their 429 or 403 responses) and
// replaces the request with r.WithContext, wrap the ServeMux with CaptureRoute:
//
//	srv.Handler = o.Handler(limiter.Handler(secure.Handler(observe.CaptureRoute(mux))))
//
// Routers other than ServeMux report their pattern with SetRoute.
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
// Profiling: the original deployment asked for a profiles sample rate. sentry-go removed
// profiling in v0.31.0 and v0.50.0 (the version this module uses) has no
// ProfilesSampleRate option, so observe offers none; use net/http/pprof or continuous
// profiling outside Sentry instead.
package observe
