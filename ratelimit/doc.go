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
//     plus X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset (Unix time) of
//     the tightest limit; Retry-After (seconds) on 429.
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
package ratelimit
