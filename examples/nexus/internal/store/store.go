// Package store keeps the backend's data in SQLite or PostgreSQL: every SQL statement of
// the backend is here, with the migrations of both dialects embedded.
//
// Statements are methods of [Queries], which both [DB] (one statement, its own
// connection) and [Tx] (inside [DB.InTx]) carry. Statements use $n placeholders, which
// both drivers accept. The rules that must hold under concurrent requests are enforced
// by the schema and reported as the errors of package domain: a second live booking of a
// slot (domain.ErrSlotTaken, a partial unique index), a seventh student in a group
// (domain.ErrGroupFull, a conditional update and a CHECK constraint), the quotas of
// domain.Quotas (a conditional upsert for ARIA; for counted quotas, a transaction that
// first locks the account's row, see lockQuota).
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" database/sql driver
	"github.com/nexus-reussite/harden/pool"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"github.com/prometheus/client_golang/prometheus"
	_ "modernc.org/sqlite" // "sqlite" database/sql driver

	"github.com/nexus-reussite/harden/examples/nexus/internal/config"
	"github.com/nexus-reussite/harden/examples/nexus/internal/domain"
	"github.com/nexus-reussite/harden/examples/nexus/internal/redact"
)

//go:embed migrations
var migrationsFS embed.FS

// Drivers, as database/sql names them.
const (
	SQLite   = "sqlite"
	Postgres = "pgx"
)

// querier runs statements: the pool (poolQuerier) or a transaction (txQuerier).
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRow(ctx context.Context, query string, args ...any) rowScanner
}

type poolQuerier struct{ *pool.Pool }

func (p poolQuerier) QueryRow(ctx context.Context, query string, args ...any) rowScanner {
	return p.QueryRowContext(ctx, query, args...)
}

type txQuerier struct{ *sql.Tx }

func (t txQuerier) QueryRow(ctx context.Context, query string, args ...any) rowScanner {
	return t.QueryRowContext(ctx, query, args...)
}

// Queries are the backend's statements, run on the database or in a transaction.
type Queries struct{ q querier }

// DB is the database: a harden pool and the dialect it speaks.
type DB struct {
	Queries
	pool   *pool.Pool
	driver string
	quotas domain.Quotas // enforced by the statements that take from them
}

// Tx is a transaction opened by DB.InTx.
type Tx struct{ Queries }

// Open opens DATABASE_URL (or the SQLite file of the user cache directory) through a
// harden pool sized by cfg.Pool, and checks that it answers. Errors never quote a
// credential of DATABASE_URL.
func Open(ctx context.Context, cfg *config.Config, log *slog.Logger, reg prometheus.Registerer) (*DB, error) {
	driver, dsn, err := config.DatabaseTarget(cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	pc := cfg.Pool
	pc.Logger, pc.Registerer, pc.Name = log, reg, "main"
	if driver == SQLite {
		if dir := filepath.Dir(dsn); dir != "." {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return nil, fmt.Errorf("sqlite directory: %w", err)
			}
		}
		// WAL lets readers run beside the writer; IMMEDIATE transactions take the write
		// lock up front so concurrent writers queue on busy_timeout instead of failing.
		q := url.Values{}
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "foreign_keys(1)")
		q.Add("_pragma", "synchronous(NORMAL)")
		q.Set("_txlock", "immediate")
		dsn = "file:" + dsn + "?" + q.Encode()
		// A local file: a few connections, no recycling, nothing to pre-ping.
		pc.Size, pc.Overflow, pc.Recycle, pc.DisablePrePing = 4, pool.NoOverflow, -1, true
	}
	// Driver errors may quote the DSN: every error below is redacted.
	p, err := pool.Open(driver, dsn, pc)
	if err != nil {
		return nil, redact.Error(err, cfg.DatabaseURL)
	}
	if err := p.Check(ctx); err != nil {
		_ = p.Close()
		return nil, fmt.Errorf("database unreachable (%s): %w", redact.DSN(driver, cfg.DatabaseURL), redact.Error(err, cfg.DatabaseURL))
	}
	return &DB{Queries: Queries{q: poolQuerier{p}}, pool: p, driver: driver, quotas: cfg.Quotas}, nil
}

// Driver is the database/sql driver: SQLite or Postgres.
func (db *DB) Driver() string { return db.driver }

// Pool is the connection pool, for its statistics and its health check.
func (db *DB) Pool() *pool.Pool { return db.pool }

// Close closes the pool.
func (db *DB) Close() error { return db.pool.Close() }

// Migrate applies the embedded migrations of the database's dialect. Replicas starting
// together on a fresh PostgreSQL database migrate one at a time, under an advisory lock;
// SQLite's IMMEDIATE transactions serialise writers.
func (db *DB) Migrate(ctx context.Context) error {
	dialect, dir := goose.DialectPostgres, "migrations/postgres"
	if db.driver == SQLite {
		dialect, dir = goose.DialectSQLite3, "migrations/sqlite"
	}
	sub, err := fs.Sub(migrationsFS, dir)
	if err != nil {
		return err
	}
	var opts []goose.ProviderOption
	if db.driver == Postgres {
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(dialect, db.pool.DB(), sub, opts...)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	return nil
}

// InTx runs fn in a transaction, committing when it returns nil.
func (db *DB) InTx(ctx context.Context, fn func(*Tx) error) error {
	tx, err := db.pool.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(&Tx{Queries{q: txQuerier{tx}}}); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// lockQuota bumps the quota serial of account id: until the transaction ends, other
// transactions checking a quota of the same account wait here (PostgreSQL locks the row;
// SQLite runs one write transaction at a time), so the count that follows is not stale.
func (tx *Tx) lockQuota(ctx context.Context, id int64) error {
	_, err := tx.q.ExecContext(ctx, `UPDATE users SET quota_serial = quota_serial + 1 WHERE id = $1`, id)
	return err
}

// ErrNoSchema is returned by CountFormulas on a database that was never migrated.
var ErrNoSchema = errors.New("store: schema missing")

// CountFormulas counts the formulas; a database without the schema gives ErrNoSchema.
func (db *DB) CountFormulas(ctx context.Context) (int, error) {
	var n int
	err := db.q.QueryRow(ctx, `SELECT COUNT(*) FROM formulas`).Scan(&n)
	if err != nil && isUndefinedTable(err) {
		return 0, ErrNoSchema
	}
	return n, err
}

// Unreachable reports errors that mean the database cannot be reached right now (no
// connection within the pool timeout, connection refused, reset or closed before or
// during a query) rather than a fault of the request or of the code.
func Unreachable(err error) bool {
	var ne net.Error
	var ce *pgconn.ConnectError
	return errors.Is(err, pool.ErrTimeout) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.As(err, &ce) || errors.As(err, &ne) ||
		pgconn.SafeToRetry(err)
}

// sqlState is the SQLSTATE of a PostgreSQL error, "" for other errors.
func sqlState(err error) string {
	var sc interface{ SQLState() string }
	if errors.As(err, &sc) {
		return sc.SQLState()
	}
	return ""
}

// isUniqueViolation reports a unique or primary-key constraint failure in either dialect.
func isUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	if s := sqlState(err); s != "" {
		return s == "23505"
	}
	msg := err.Error()
	return strings.Contains(msg, "UNIQUE constraint failed") || strings.Contains(msg, "constraint failed: PRIMARY KEY")
}

// isCheckViolation reports a CHECK constraint failure in either dialect.
func isCheckViolation(err error) bool {
	if err == nil {
		return false
	}
	if s := sqlState(err); s != "" {
		return s == "23514"
	}
	return strings.Contains(err.Error(), "CHECK constraint failed")
}

// isUndefinedTable reports a missing table in either dialect.
func isUndefinedTable(err error) bool {
	if s := sqlState(err); s != "" {
		return s == "42P01"
	}
	return strings.Contains(err.Error(), "no such table")
}

// rowScanner is a *sql.Row or *sql.Rows.
type rowScanner interface{ Scan(dest ...any) error }

// queryAll runs a query and scans every row with scan.
func queryAll[T any](ctx context.Context, q querier, scan func(rowScanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
