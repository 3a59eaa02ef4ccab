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
// them. Errors give the byte position of the problem. DefaultRule,
// "1000 per day;100 per hour;2 per second", applies when Config.Rule is empty.
//
// Windows are fixed by default: a window opens at a client's first request and counts
// until it ends, as go-limiter does. Config.SlidingWindow weighs the previous window by
// the share of it still inside the sliding period instead, so a client cannot spend two
// quotas around a window edge.
//
// # Middleware
//
// New(Config{}) limits each client IP to DefaultRule in memory. The main settings and
// their defaults:
//
//   - Store: a memory store private to the limiter (262144 keys at most, idle keys
//     swept every minute). A redisstore.Store shares counts across instances; its
//     Prefix, which names the application, is required, so two services on one Redis
//     never share counters unless given the same prefix.
//   - Key: the client IP. Forwarding headers are believed only from TrustedProxies
//     (none by default), and only the family named by ClientIPHeader: X-Forwarded-For
//     by default, walked from the right; "Forwarded" (RFC 7239); or a single-address
//     header such as X-Real-IP. Headers of other families are ignored, since a proxy
//     passes through the ones it does not set. IPv6 clients are grouped by /64
//     (IPv6PrefixLen). HeaderKey, ContextKey, FirstKey and CompositeKey build API-key,
//     user and composite keys, and IPKey(cfg) the client IP exactly as the limiter of
//     cfg resolves it; a key function that finds nothing falls back to the client IP.
//   - Routes: every request the limiter guards counts together; PerRoute counts each
//     r.Pattern apart. Limiter.With derives a per-route limiter sharing the store and
//     settings, to stack a tighter limit on some routes.
//   - Cost: 1 unit per request. ExemptPaths, ExemptCIDRs and Exempt let requests
//     through uncounted.
//   - Headers: RateLimit-Policy and RateLimit (draft-ietf-httpapi-ratelimit-headers)
//     with one item each, for the tightest window of the rule, e.g.
//     `"default-1s";q=2;w=1` and `"default-1s";r=1;t=1`: about 75 bytes with DefaultRule,
//     whatever the number of windows; Retry-After (seconds) on 429. The tightest window
//     is the one with the fewest units left, on a tie the one whose quota is whole again
//     first, and on 429 the one that blocks longest (store.Decision.Tightest), whose t
//     is then Retry-After with fixed windows. Limiters stacked on a route each add their
//     item. HeadersAll adds X-RateLimit-Limit, X-RateLimit-Remaining and
//     X-RateLimit-Reset (Unix time) of the same window, about 80 bytes more, for clients
//     that read only those.
//   - Rejections: 429 with an application/problem+json body, replaceable by
//     DenyHandler (DecisionFrom gives the decision).
//   - Store failures: fail-open (logged once per outage and counted), or FailClosed
//     with a 503 problem+json, replaceable by UnavailableHandler.
//   - Shadow: count and log would-be rejections without rejecting.
//   - Registerer: harden_ratelimit_requests_total{limiter,outcome} and
//     harden_ratelimit_store_errors_total{limiter}. Logger: discard by default.
//   - Now: time.Now, the clock of X-RateLimit-Reset and of the default memory store.
//
// The package example wires a limiter around a mux with a tighter rule on one route.
// Package ratelimit/store is the contract a backend implements, and
// ratelimit/storetest the conformance suite every backend must pass.
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
