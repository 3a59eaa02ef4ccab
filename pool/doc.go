// Package pool configures and watches a database/sql connection pool with the knobs of
// SQLAlchemy's QueuePool, and adds what HikariCP brings: a bounded acquire, a pre-ping that
// replaces dead connections before callers see them, recycling spread over time, leak
// reports with the stack of the code that took the connection, statistics and Prometheus
// metrics, and a readiness check.
//
// It works with any database/sql driver, which the program imports for its side effect of
// registering itself: for PostgreSQL through pgx,
//
//	import _ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
//
// and then pool.Open("pgx", databaseURL, pool.Config{}). The Postgres example shows a whole
// program; the tests run against PostgreSQL through pgx and against SQLite
// (modernc.org/sqlite). Pool's methods bound the wait for a connection; DB returns the
// *sql.DB itself.
//
// # Defaults and their database/sql mapping
//
// The zero Config is a production configuration:
//
//	SQLAlchemy     Config          default      database/sql
//	pool_size      Size            20           SetMaxIdleConns(Size)
//	max_overflow   Overflow        30           SetMaxOpenConns(Size+Overflow) = 50
//	pool_timeout   Timeout         60 s         the Pool's methods bound the acquire
//	pool_recycle   Recycle         1 h          SetConnMaxLifetime(Recycle)
//	               RecycleJitter   Recycle/10   each connection retires up to this much earlier
//	               IdleTimeout     none         SetConnMaxIdleTime(IdleTimeout)
//	pool_pre_ping  DisablePrePing  false (on)   ping at checkout when idle ≥ PrePingIdle (500 ms)
//	echo           Echo            false        statements logged at Info
//	               LeakThreshold   0 (off)      HikariCP's leakDetectionThreshold
//	               CheckTimeout    2 s          bounds Check ("SELECT 1")
//
// Overflow connections are closed when returned while Size are idle, as in QueuePool.
// SQLAlchemy's max_overflow=0 is NoOverflow and -1 is UnlimitedOverflow; pool_recycle=-1 is a
// negative Recycle.
//
// # Acquire timeout
//
// database/sql waits for a free connection as long as the caller's context lets it. The
// Pool's methods — Conn, ExecContext, QueryContext, QueryRowContext, BeginTx — bound that wait
// by Config.Timeout even when the context has no deadline, and fail with a *TimeoutError that
// matches ErrTimeout and context.DeadlineExceeded. The bound covers the whole acquisition:
// waiting, dialling a new connection and its pre-ping. The statement itself runs under the
// caller's context only. Use DB directly where an unbounded wait is wanted.
//
// # Pre-ping and recycle
//
// The pool wraps the driver's connections. When database/sql hands out a connection that was
// used before, the wrapper discards it if it is past its recycle age, and pings it if it has
// been idle at least PrePingIdle; a failed ping makes database/sql close it and retry on
// another or a new connection, so a server restart or a cut link costs the caller nothing
// once a server is reachable again. This applies to every use of DB too. Note that pgx's
// stdlib driver also pings connections idle for more than a second by itself.
//
// # Leak detection
//
// With LeakThreshold set, a connection kept out of the pool longer than the threshold —
// forgotten Rows, a transaction never committed, a Conn never closed — is logged once at Warn
// with the stack of the code that took it, and again at Info when it finally returns. A
// connection is watched from the moment it is handed out (a fresh one obtained through DB,
// from its first use). Stacks are captured only while detection is on.
//
// # Metrics
//
// Collector (or Config.Registerer) exports, labelled pool=Config.Name:
// harden_pool_connections_{max,open,in_use,idle}, harden_pool_utilization_ratio,
// harden_pool_waits_total, harden_pool_wait_seconds_total,
// harden_pool_acquire_duration_seconds (histogram), harden_pool_acquires_total,
// harden_pool_acquire_timeouts_total, harden_pool_connections_opened_total,
// harden_pool_connect_errors_total, harden_pool_leaks_total and
// harden_pool_connections_closed_total{reason} with reason recycle, max_idle, idle_timeout,
// ping_failed or broken. Stats returns the same numbers.
//
// # Readiness
//
// Check runs "SELECT 1" within CheckTimeout (2 s). Its signature is func(context.Context)
// error, the Func of a health.Check.
//
// # Driver features
//
// sql.Conn.Raw hands its callback the pool's wrapper around the driver's connection;
// DriverConn unwraps it, for pgx's CopyFrom, SQLite's Serialize and the like.
//
// # PgBouncer
//
// Behind PgBouncer in transaction pooling mode, consecutive statements on one client
// connection may reach different server connections, so server-side prepared statements
// and session state do not carry over:
//
//   - With pgx, add default_query_exec_mode=exec (or simple_protocol) to the URL so that no
//     statement is prepared and cached by name — unless PgBouncer is 1.21 or later with
//     max_prepared_statements set, which tracks protocol-level prepared statements itself.
//   - Avoid sql.DB.Prepare for long-lived statements, SET (use SET LOCAL inside a
//     transaction), advisory session locks, LISTEN and temporary tables outside a transaction.
//   - Size the pool against PgBouncer's default_pool_size rather than max_connections;
//     Recycle then bounds client connections to PgBouncer, and PgBouncer's server_lifetime
//     bounds its own.
//
// # SQLite
//
// SQLite allows one writer at a time; concurrent writers get "database is locked" (SQLITE_BUSY)
// unless they wait. For a write pool use Size 1 with NoOverflow, so writers queue in the pool
// under Config.Timeout rather than fail; readers can use a second pool opened on the same file
// in WAL mode (for modernc.org/sqlite: "file:app.db?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)").
// Recycle and the pre-ping buy nothing for a local file (a negative Recycle turns recycling
// off). ":memory:" gives each connection its own database, so an in-memory database shared
// by the pool needs Size 1 and NoOverflow as well.
package pool
