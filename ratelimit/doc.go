// Package ratelimit is rate limiting middleware with the rule syntax of Flask-Limiter,
// enforced for real: every window of a rule is checked and charged at once, clients are
// told apart through trusted proxies only, and counts can live in Redis so that every
// instance of an application enforces the same limit (package ratelimit/redisstore).
//
// # Rules
//
// ParseRule reads "1000 per day;100 per hour;2 per second", "10/minute" or
// "5 per 30 seconds" (limits separated by ";" or ","; periods second, minute, hour, day,
// month = 30 days, year = 365 days, optionally with a multiplier). A request is admitted
// only if every limit of the rule admits it, and a rejected request charges none of
// them. Errors give the byte position of the problem. DefaultRule is the production
// default, "1000 per day;100 per hour;2 per second".
//
// # Strategies
//
// FixedWindow (the default) opens a window at the first request and counts until it
// ends, as go-limiter does. SlidingWindow weighs the previous window by the share of it
// still inside the sliding period, so a client cannot spend two quotas around a window
// edge.
//
// # Middleware
//
// New(Config{}) limits each client IP to DefaultRule in memory. The main settings and
// their defaults:
//
//   - Rule: DefaultRule. Strategy: FixedWindow. Name: "default".
//   - Store: a private MemoryStore (262144 keys at most, idle keys swept every minute).
//     Pass a redisstore.Store to share counts across instances, or any go-limiter store
//     through NewGoLimiterStore.
//   - Key: the client IP. Forwarded and X-Forwarded-For are believed only from
//     TrustedProxies (none by default) and walked from the right; IPv6 clients are
//     grouped by /64 (IPv6PrefixLen). HeaderKey, ContextKey, FirstKey and CompositeKey
//     build API-key, user and composite keys; a key function that finds nothing falls
//     back to the client IP.
//   - Scope: ScopeGlobal counts all routes together; ScopeRoute and ScopeRouteMethod
//     count each r.Pattern (and method) apart. Limiter.With derives a per-route limiter
//     sharing the store and settings, to stack a tighter limit on some routes.
//   - Cost: 1 unit per request. ExemptPaths, ExemptCIDRs and Exempt let requests
//     through uncounted.
//   - Headers: RateLimit-Policy and RateLimit (draft-ietf-httpapi-ratelimit-headers)
//     plus X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset (Unix time) of
//     the tightest limit; Retry-After (seconds) on 429.
//   - Rejections: 429 with an application/problem+json body, replaceable by
//     DenyHandler (DecisionFrom gives the decision).
//   - Store failures: fail-open (logged once per outage and counted), or FailClosed
//     with a 503 problem+json, replaceable by UnavailableHandler.
//   - Shadow: count and log would-be rejections without rejecting.
//   - Registerer: harden_ratelimit_requests_total{limiter,outcome} and
//     harden_ratelimit_store_errors_total{limiter}. Logger: discard by default.
//   - Now: time.Now, the clock of X-RateLimit-Reset.
//
// # Usage
//
//	rule, err := ratelimit.ParseRule(cmp.Or(os.Getenv("RATELIMIT_DEFAULT"), ratelimit.DefaultRule))
//	lim, err := ratelimit.New(ratelimit.Config{
//		Rule:           rule,
//		TrustedProxies: []string{"10.0.0.0/8"},
//		ExemptPaths:    []string{"/live", "/ready", "/health", "/metrics"},
//	})
//	login, err := lim.With("login", ratelimit.MustParseRule("5 per minute"))
//	mux.Handle("POST /api/auth/login", login.Handler(loginHandler))
//	http.ListenAndServe(":5000", lim.Handler(mux))
//
// # Cost
//
// With the memory store, an admitted request costs one allocation with rate limit
// headers (the formatted values and the array backing the header slices share it) and
// none with HeadersNone: keys are built on the stack and looked up without a string,
// and X-Forwarded-For is walked in place. The clock is read once: X-RateLimit-Reset
// reuses the store's reading when the limiter and its memory store share a clock, as
// they do by default. Other stores receive the key as a string, one allocation more. A
// rejected request with the default problem+json body costs thirteen.
//
// Stores implement Store; package ratelimit/storetest is the conformance suite every
// implementation must pass.
//
// # Concurrency limits and load shedding
//
// A rate limit does not stop expensive requests (a password hash, a call to a language
// model) arriving faster than the server serves them. NewConcurrency returns a gate
// bounding the requests in flight. A request finding every slot taken waits in a
// bounded first-come-first-served queue; one finding the queue full, or waiting past
// QueueTimeout, is shed at once: 503 problem+json with Retry-After: 1, replaceable by
// ShedHandler. A client that goes away leaves the queue at once; a handler that panics
// gives its slot back. ConcurrencyConfig{} means:
//
//   - An adaptive limit between GOMAXPROCS and 1000, after the gradient controllers of
//     Envoy's adaptive concurrency filter and Netflix's concurrency-limits: the no-load
//     latency is measured at MinLimit (again every minute, for a moment); the limit
//     then grows by its square root while the mean latency stays within 1.5× of it,
//     and shrinks in proportion beyond. Limit sets a fixed limit instead.
//   - A queue as long as the limit, 1 s at most. One limit for all requests; Key gives
//     each key (r.Pattern, a client, a user) its own, for at most 10000 keys at once.
//   - No Sheddable class (requests shed first), no exemptions: exempt health probes.
//   - With a Registerer: harden_concurrency_in_flight, _queued, _limit, _keys,
//     _shed_total{reason} and _queue_wait_seconds, labelled by Name.
//
// Place the gate outside the rate limiters it guards, so that a shed request spends no
// quota: mux.Handle("POST /login", gate.Handler(loginLimit.Handler(h))), or
// gate.Handler(lim.Handler(mux)) for the whole server. A gate inside the ServeMux sits
// inside a limiter wrapping the ServeMux, which has counted the request already. A
// gate outside the ServeMux sees no r.Pattern: to key it by route, resolve the pattern
// with (*http.ServeMux).Handler. The adaptive limit follows one latency signal, so give
// it one kind of work (per route, or routes of similar cost) whose latency grows with
// load elsewhere (a database, an upstream API). Around CPU-bound work it keeps every
// core busy: a fixed Limit below GOMAXPROCS keeps one for the other routes.
package ratelimit
