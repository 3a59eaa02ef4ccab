// Package health serves /live, /ready and /health for orchestrators, load balancers and
// humans, from named dependency checks run in parallel, each under a timeout, with the
// results cached.
//
// # Defaults (the zero Config)
//
//   - No checks; Interval 5 s (results cached that long, no background refresh); Timeout
//     2 s per check unless Check.Timeout says otherwise; checks are critical unless
//     NonCritical.
//   - Paths /live, /ready and /health; methods other than GET and HEAD get a 405
//     application/problem+json.
//   - Details shown to nobody, loopback included: no Token (when set, at least 16
//     bytes), no DetailCIDRs, no Authorize, no TrustedProxies (no forwarding header
//     is believed).
//   - No OnStatusChange hook, Logger discards, no metrics (Registerer nil), clock
//     time.Now.
//   - Ready-made checks: HTTP sends GET, expects 2xx and follows no redirect; Disk warns
//     at 90 % used and fails at 95 %; Memory warns at 80 % and fails at 95 % of the
//     runtime memory limit (GOMEMLIMIT) when one is set, and otherwise only observes.
//
// # Checks
//
// A Check is a name and a func(ctx) error. nil is pass; an error wrapped with Warning
// is warn; any other error is fail for a critical check and warn for a NonCritical one.
// A check that ignores its context is abandoned at its timeout (2 s by default) and
// reported as ErrTimeout; while it is still stuck, later runs report ErrStillRunning
// instead of starting it again, and a panic is reported as ErrPanic. Ready-made checks:
// SQL (a *sql.DB ping), HTTP (a dependency answering 2xx), Disk (used space, 90 % warn,
// 95 % fail), Memory (Go runtime memory against thresholds or GOMEMLIMIT) and, in
// package redischeck, a go-redis PING.
//
// # Caching
//
// Results are cached for Config.Interval (5 s by default): a flood of probes causes at
// most one run per interval, shared by all concurrent callers; a probe whose own request
// is cancelled stops waiting without cancelling the shared run. With
// Config.BackgroundRefresh, Start keeps the cache fresh so probes never wait.
//
// # Endpoints
//
//   - /live answers 200 while the process serves requests; it runs no check.
//   - /ready answers 503 until Start is called (startup complete), 503 as soon as Drain
//     is called (shutdown began), otherwise 503 when a critical check fails and 200 for
//     pass and warn.
//   - /health answers with the same status code and, for authorised callers, every check
//     with its status, duration, observed value, current and last error, plus version,
//     uptime, goroutines and memory.
//
// Bodies are application/health+json (IETF draft "Health Check Response Format for HTTP
// APIs": status, checks keyed by name, componentId, componentType, observedValue,
// observedUnit, time, output) and are never cached (Cache-Control: no-store). Methods
// other than GET and HEAD get a 405 application/problem+json, replaceable by
// Config.MethodNotAllowedHandler.
//
// # Who sees details
//
// Only authorised callers see anything beyond {"status":"..."}; error strings and
// internal host names never reach anyone else. A caller is authorised by
// "Authorization: Bearer <Config.Token>", by coming from Config.DetailCIDRs, or by
// Config.Authorize, which then decides alone. Without one of them nobody is.
//
// The client address matched against DetailCIDRs is the TCP peer, or, when the peer is
// one of Config.TrustedProxies, the address it forwards in the one header family named
// by Config.ClientIPHeader (X-Forwarded-For by default; a client's own Forwarded or
// X-Real-IP header is then ignored). A request from an untrusted peer that carries a
// forwarding header came through a proxy nobody listed, and no network matches it.
// Behind a proxy on the same host every visitor arrives from loopback. List that proxy
// in TrustedProxies; to see details from the host itself, send the token rather than
// listing loopback in DetailCIDRs.
//
// # Shutdown
//
// On SIGTERM call Shutdown(ctx, delay, server.Shutdown): /ready flips to 503 at once,
// the server keeps serving for delay so load balancers notice and stop sending traffic,
// then the listener closes and in-flight requests finish.
//
// # Diagnosis
//
// Diagnose(ctx, w) runs the checks now, prints a line per check for a human and returns
// an error when the status is fail, for a command-line "diagnose" that exits non-zero.
//
// # Metrics
//
// With Config.Registerer set: harden_health_check_status{check,status} (1 for the
// current status), harden_health_check_duration_seconds{check},
// harden_health_check_status_changes_total{check} and harden_health_ready. Status changes
// are also logged to Config.Logger and passed to Config.OnStatusChange.
//
// The examples show a server's whole lifecycle (Example_server), who sees details, and
// each ready-made check.
package health
