// Package harden is a set of independent net/http middleware packages that make a Go web
// service production-ready, and a reference backend that assembles them.
//
// Each concern is its own package; none imports another, so a service takes only what it
// needs:
//
//   - [github.com/nexus-reussite/harden/compress]: zstd and gzip response compression with
//     Accept-Encoding negotiation, a MIME allow-list, a minimum size, streaming and ETag care,
//     and capped request-body decompression.
//   - [github.com/nexus-reussite/harden/security]: secure headers, HTTPS redirect and HSTS,
//     CSP with nonces and violation reports, cookie hardening, CORS, allowed hosts, trusted
//     proxies, body limits and CSRF protection — safe with a zero Config.
//   - [github.com/nexus-reussite/harden/ratelimit]: "1000 per day;100 per hour;2 per second"
//     rules, per-route limits, client keys through trusted proxies, IETF RateLimit headers; a
//     memory store, and [github.com/nexus-reussite/harden/ratelimit/redisstore] to share limits
//     across instances.
//   - [github.com/nexus-reussite/harden/pool]: a database/sql pool configured with SQLAlchemy's
//     knobs, acquire timeout, leak detection, stats and metrics.
//   - [github.com/nexus-reussite/harden/cache]: TTL tiers, a stampede-proof GetOrLoad, tags and
//     an HTTP response cache; [github.com/nexus-reussite/harden/cache/rediscache] for Redis and a
//     two-level cache with cross-instance invalidation.
//   - [github.com/nexus-reussite/harden/observe]: request IDs, JSON access logs, panic recovery,
//     Prometheus RED metrics and Sentry.
//   - [github.com/nexus-reussite/harden/health]: /live, /ready and /health with cached parallel
//     checks, drain on shutdown, and a CLI report.
//
// Every middleware has the same shape: New(Config) returns a value whose Handler method wraps
// the next http.Handler; a zero Config field means the documented production default. The
// responses a middleware writes itself (413, 429, 503, 500…) are application/problem+json.
//
// The usual order, outermost first, is observe (request ID, recovery, logs, metrics), security
// (hosts, HTTPS, headers, CORS, body limit), ratelimit, compress, cache, then the application's
// mux. The reference backend in examples/nexus assembles them that way.
package harden
