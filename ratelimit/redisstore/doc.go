// Package redisstore is the Redis backend of package ratelimit: counters shared by every
// instance of an application, so a limit means the same thing with one process or ten.
//
// One Lua script reads, checks and charges every limit of a rule in a single round trip
// (EVALSHA, falling back to EVAL when the server answers NOSCRIPT), so a request is
// admitted only if all windows admit it and a rejected request charges none. All the
// windows of one client live in one packed value whose key carries the client key as
// hash tag ("myapp:ratelimit:{default:ip:192.0.2.1}:f" for Config.Prefix
// "myapp:ratelimit:"), so a take touches one slot of a Redis Cluster and costs two
// commands (GET, SET) whatever the number of windows. Time comes from the Redis server
// (TIME) unless Config.Now is set, so instances with skewed clocks still agree on
// windows.
//
// Config.Prefix is required. It is the only thing that keeps the counters of two
// services on one Redis apart (limiter names default to "default" everywhere), so name
// the application in it; instances of one application share limits by sharing it.
//
// A Redis that is down or slow must not slow every request: each call has a short
// timeout (Config.Timeout, default 50ms), and after Config.FailureThreshold consecutive
// failures (default 5) a circuit breaker fails calls at once for Config.Cooldown
// (default 1s) before letting one probe through. Failures are errors wrapping
// store.ErrUnavailable; the ratelimit.Limiter then fails open (the default) or closed.
package redisstore
