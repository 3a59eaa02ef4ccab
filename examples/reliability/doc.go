// Package reliability proves, with figures, that the reference backend (examples/nexus)
// keeps working and loses nothing under load, faults, shutdown and hostile traffic.
//
// The tests build the real nexus binary once (go build, without -race) and run it as a
// child process, handing it a loopback socket the test opened (as systemd socket
// activation does, so no other process can take the port), against real services from
// internal/testenv: a fresh PostgreSQL database per test (behind a TCP proxy the test
// cuts when the test is about the database), a redis-server owned by the test (killed and
// restarted when the test is about Redis) and an httptest server speaking the OpenAI chat
// completions API for ARIA. Every loop is bounded in requests and in time.
//
//   - TestSustainedLoad: a mixed workload (register, login, refresh, formulas, bookings,
//     enrollments, ARIA chat) at high concurrency; zero 5xx and zero unexpected statuses,
//     then the database is read directly: no double-booked slot, no group above its
//     capacity, every acknowledged write present, nothing written that was not
//     acknowledged; resident memory flat between the two halves of the run.
//   - TestRedisKilledMidLoad: the backend's redis-server is killed mid-load and restarted:
//     no 5xx from the workload, rate limits fail open as configured and enforce again
//     after the restart, the cache serves throughout and hits again, and revoked tokens
//     stay refused (revocation falls back to the database).
//   - TestPostgresCutMidLoad: the database connection is cut mid-load: /ready turns 503
//     within 2 s, /live stays 200, requests fail fast with 503 problem+json, everything
//     recovers after the restore, and no write is half-done.
//   - TestSIGTERMUnderLoad: /ready flips to 503 first, every in-flight request completes,
//     the process exits 0 within the drain bound.
//   - TestHostileTraffic: oversized bodies and headers, slowloris connections, Host
//     injection, spoofed X-Forwarded-For, malformed JSON, invalid UTF-8, path traversal
//     and decompression bombs each get the right 4xx, and the server stays healthy.
//   - TestHostileForwardedHeaders: a production backend behind a trusted loopback proxy
//     that sets X-Forwarded-For and passes other headers through, as nginx does: clients
//     forging Forwarded (for=, proto=, host=), X-Real-IP or X-Forwarded-Host neither
//     escape the login limit, nor see /health details, nor get a redirect loop or a
//     redirect to their host, nor choose the access log's client address.
//   - TestFuzzTargetsRunInCI: lists every FuzzX of the repository and checks that .ci/run
//     runs each one for a bounded time.
//
// The default variant is sized for CI (the whole package in a few minutes on two
// cores); -heavy, or HARDEN_RELIABILITY=heavy, multiplies requests and clients.
//
// The exported part is what the tests report with: Counts tallies responses by status
// class and exact status with latency quantiles (its zero value is ready and it is safe
// for concurrent use), and Report renders sections of named figures as Markdown. The
// repository's RELIABILITY.md is regenerated, from the examples directory, with
//
//	go test ./reliability -count=1 -timeout 20m -args -report ../../RELIABILITY.md
//
// (add -heavy after -args for the heavy variant), or with the script .ci/reliability from
// the repository root. The report is written only when every test passed.
package reliability
