// Command nexus is the Nexus Réussite platform API — tutoring for Tunisian lycée
// students, their parents and teachers — and the reference backend of harden: every
// production concern is a harden package, assembled in internal/httpapi.
//
// # Running
//
//	go run ./examples/nexus              # from the repository root
//
// With no configuration it serves on :5000 in development: an SQLite file of the working
// directory's own in the user cache directory (nexus-reussite/<directory>-<hash>/nexus.db,
// logged at start), rate limits of "10000 per day;1000 per hour;20 per second" per client,
// cache and token revocation in memory, random secrets per run, and demo data — four users
// (admin@, prof@, parent@ and eleve@nexus-reussite.com) whose password is
// NEXUS_DEMO_PASSWORD, set again at every start, or a random one logged once. With DATABASE_URL=postgres://… and REDIS_URL=redis://… the same binary runs on
// PostgreSQL and Redis, and several instances share limits, cache and revocations.
//
// Configuration is read from the environment and an optional .env file in the working
// directory (the environment wins); .env.example documents every variable and its
// default. APP_ENV=production refuses to start when SECRET_KEY or JWT_SECRET_KEY is
// missing, shorter than 32 characters or a published default, or when ALLOWED_HOSTS is
// empty ("*" allows any host explicitly), and names the variable. Behind a reverse proxy,
// TRUSTED_PROXIES and CLIENT_IP_HEADER (X-Forwarded-For, Forwarded, X-Real-IP…) name the
// proxy and the one header family it sets; REDIS_PREFIX (nexus:) starts every Redis key
// and channel; HEALTH_TOKEN or HEALTH_DETAIL_CIDRS unlock the details of /health.
// Production also refuses to start when /metrics would be public: METRICS_TOKEN (a bearer
// token the scraper sends) or METRICS_ADDR (a listener of its own, :9090) is required.
// ARIA_DAILY_LIMIT, BOOKING_MAX_ACTIVE, BOOKING_TIMEZONE, BOOKING_HOURS and
// PARENT_MAX_CHILDREN set the quotas on shared resources.
// Started by systemd socket activation (LISTEN_PID is the process, LISTEN_FDS=1), nexus
// serves on the socket it is given instead of listening on PORT.
//
// Subcommands:
//
//	nexus              serve (SIGTERM/SIGINT: /ready turns 503 for SHUTDOWN_DELAY, then
//	                   in-flight requests finish, Sentry is flushed, exit 0)
//	nexus diagnose     check configuration, database, Redis, secrets, mail and OpenAI, with
//	                   credentials masked; exit 1 on any failure
//	nexus healthcheck  GET /ready on the local port (container HEALTHCHECK); exit 1 unless 200
//	nexus reset-demo   delete the demo accounts, their bookings, sessions and groups and
//	                   create them afresh (development only)
//
// # Layout
//
// main.go reads the subcommand, .env and the environment, and runs it. The service lives
// in packages under internal/, each depending only on those above it:
//
//	redact      credentials hidden from logs, errors and reports
//	config      the environment contract: one table entry per variable
//	domain      the rules as plain Go: who acts for which student, booking slots,
//	            cancellation, group capacity, the ARIA quota, valid accounts and formulas
//	store       every SQL statement (SQLite and PostgreSQL) and the embedded migrations;
//	            the rules that must hold under concurrency are enforced here
//	auth        bcrypt passwords, JWT access and refresh tokens, sessions and revocation
//	aria        the client of the OpenAI-compatible assistant
//	httpapi     routes and handlers, the harden middleware chain, problem+json errors
//	app         assembly, demo data, serving with a graceful shutdown
//	diagnose    the diagnose command
//	servicetest real PostgreSQL, Redis, redis-server and a TCP proxy for the tests
//
// The example imports nothing of harden/internal, so it can be copied out of the
// repository and built on its own (.ci/copy-example checks it).
//
// # Middleware chain
//
// Outermost first: observe (request IDs, JSON access log, RED metrics by route pattern,
// recovery, Sentry); the probes /live, /ready, /health (health) and /metrics, never
// limited or redirected;
// security (allowed hosts, HTTPS redirect and HSTS in production, CSP with per-request
// nonces and a report endpoint, security headers, CORS, CSRF, body limit); shedding
// (concurrency gates of the password-hashing routes, HASH_*, and of ARIA, ARIA_*: the
// excess is answered 503 with Retry-After at once, spending no rate-limit quota); ratelimit
// (RATELIMIT_DEFAULT per client IP, in Redis when configured); compress (zstd, gzip
// responses; gzip and zstd request bodies decoded up to MAX_CONTENT_LENGTH, 413 past it,
// 415 for other codings);
// then the routes, where login ("5 per minute") and register ("3 per minute") carry their
// own limits and the formulas are served through the HTTP response cache (long tier,
// ETag/304, invalidated on every instance when an admin edits one; requests with a
// query string, a cookie or a token go to the handler and are not stored). The database is a
// harden pool (DB_POOL_*), migrated with goose from SQL embedded for both dialects.
//
// # API
//
// JSON everywhere, errors as application/problem+json. Access tokens (HS256, 1 h) and
// refresh tokens (30 d, rotated on use, reuse revokes the session) come from
// POST /api/auth/login; send them as "Authorization: Bearer …".
//
//	POST /api/auth/register | login | refresh | logout, GET /api/auth/me
//	GET  /api/formulas, GET /api/formulas/{id}, PUT /api/formulas/{id} (admin)
//	GET|POST /api/students, GET|PUT|DELETE /api/students/{id}, GET /api/students/{id}/dashboard
//	GET  /api/teachers, GET|POST /api/bookings, POST /api/bookings/{id}/cancel
//	GET  /api/groups, POST /api/groups/{id}/enrollments
//	POST /api/aria/chat, GET /api/aria/history
//	GET  /api/admin/cache/stats, POST /api/admin/cache/invalidate, GET /api/admin/pool/stats
//	GET  /api/config, GET /api/openapi.json (this list in OpenAPI 3.1, with every schema)
//	GET  / (HTML client), /live, /ready, /health, /metrics
//
// Registration creates students and parents only. Parents see their children, teachers
// the students they teach, students themselves, admins everyone. A teacher's slot is
// booked once (a partial unique index), a group never exceeds six students (a
// conditional update and a CHECK constraint), both under concurrent requests, and so do
// the quotas: a student's upcoming bookings, lessons within the bookable hours (422
// outside), a parent's children, and ARIA questions per day, whose unit is taken before
// the upstream call and given back when it fails. A teacher sees, on a student's
// dashboard, only their own bookings with the student. ARIA calls
// an OpenAI-compatible chat completions API (OPENAI_API_BASE, OPENAI_MODEL,
// OPENAI_API_KEY) and answers 503 "assistant not configured" without a key.
//
// deploy/ holds a Dockerfile, Kubernetes manifests, Prometheus alert rules with promtool
// unit tests, and a Grafana dashboard.
package main
