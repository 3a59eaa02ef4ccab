// Package harden makes a Go web service production-ready: a set of independent net/http
// middleware packages, and a composition of all of them in one call.
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
//     rules, per-route limits, client keys through trusted proxies, IETF RateLimit headers,
//     concurrency limits with load shedding; [github.com/nexus-reussite/harden/ratelimit/redisstore]
//     shares limits across instances.
//   - [github.com/nexus-reussite/harden/pool]: a database/sql pool configured with SQLAlchemy's
//     knobs, acquire timeout, leak detection, stats and metrics.
//   - [github.com/nexus-reussite/harden/cache]: TTL tiers, a stampede-proof GetOrLoad, tags and
//     an HTTP response cache; [github.com/nexus-reussite/harden/cache/rediscache] for Redis and a
//     two-level cache with cross-instance invalidation.
//   - [github.com/nexus-reussite/harden/observe]: request IDs, JSON access logs, panic recovery,
//     Prometheus RED metrics and Sentry.
//   - [github.com/nexus-reussite/harden/health]: /live, /ready and /health with cached parallel
//     checks, drain on shutdown, and a command-line report.
//
// Every middleware has the same shape: New(Config) returns a value whose Handler method wraps
// the next http.Handler; a zero Config field means the documented production default. The
// responses a middleware writes itself (400, 413, 429, 503, 500…) are
// application/problem+json.
//
// # One call
//
// New composes the packages into a [Stack], and [Stack.Handler] wraps the application's
// http.ServeMux with all of them, outermost first:
//
//	observe    request ID, panic recovery, access log, metrics, Sentry
//	probes     /live, /ready, /health and /metrics, answered here
//	security   allowed hosts, HTTPS, security headers and CSP, CORS, CSRF, body limit
//	ratelimit  the limit per client
//	compress   response compression
//	the mux    per-route response caches and concurrency limits, then the handlers
//
// Observe is outermost so that it logs and counts what every other layer answers; it names
// each request by the mux pattern it matches, the 429s of the rate limiter included. The
// probes and /metrics come before security and the rate limit, so an orchestrator reaches
// them by IP over plain HTTP and a flood never locks it out; no compression or response
// cache layer sees them, and /metrics is sent with Cache-Control: no-store. A response
// cache wraps a route, never the mux: [Stack.HTTPCache] makes one that stores into the
// Stack's cache, and requests carrying credentials (Authorization, Cookie) bypass it.
// [Stack.Concurrency] makes a per-route gate that sheds load with 503.
//
// The settings every package needs are given once in [Config]: the profile, the allowed
// hosts, the trusted proxies and the header family they set, the logger and the Prometheus
// registry. Each fills the field of the same name in the per-package Configs that leave it
// zero; setting it there to another value is an error. The per-package Configs carry
// everything else, and the Stack hands back each part (Observer, Security, Limiter,
// Compressor, Health, Cache) to go further.
//
// The zero Config is safe in production: HTTPS only, and plain HTTP gets 400 rather than a
// redirect until AllowedHosts names where to send it; forwarding headers believed from
// nobody; health details shown to nobody; metrics collected in a registry of the Stack's own
// and served at /metrics only to a holder of Observe.MetricsToken (in Development, to
// anyone). Like the probes, /metrics also answers plain HTTP, where the token crosses the
// network in clear: scrape it over a private network or TLS. Without a token, serve the
// metrics on a listener only the scraper reaches with Stack.Observer().ServeMetrics.
// Response caches (Stack.HTTPCache) do not tell clients whether a response came from them
// (Cache-Status) outside Development.
//
// A service that assembles the packages itself keeps the same order. The reference backend
// in examples/nexus does so.
package harden
