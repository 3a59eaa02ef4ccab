package main

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" database/sql driver
	"github.com/nexus-reussite/harden/pool"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"github.com/prometheus/client_golang/prometheus"
	_ "modernc.org/sqlite" // "sqlite" database/sql driver
)

//go:embed migrations
var migrationsFS embed.FS

// database is the backend's store handle: the pool and the dialect it speaks.
type database struct {
	*pool.Pool
	driver string // "sqlite" or "pgx"
}

// openDatabase opens DATABASE_URL (or the embedded SQLite file) through a harden pool
// and checks it answers.
func openDatabase(ctx context.Context, cfg *Config, log *slog.Logger, reg prometheus.Registerer) (*database, error) {
	driver, dsn, err := databaseTarget(cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	pc := cfg.Pool
	pc.Logger, pc.Registerer, pc.Name = log, reg, "main"
	if driver == "sqlite" {
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
		return nil, redactErr(err, cfg.DatabaseURL)
	}
	if err := p.Check(ctx); err != nil {
		_ = p.Close()
		return nil, fmt.Errorf("database unreachable (%s): %w", redactDSN(driver, cfg.DatabaseURL), redactErr(err, cfg.DatabaseURL))
	}
	return &database{Pool: p, driver: driver}, nil
}

// migrate applies the embedded migrations of the database's dialect.
func (d *database) migrate(ctx context.Context) error {
	dialect, dir := goose.DialectPostgres, "migrations/postgres"
	if d.driver == "sqlite" {
		dialect, dir = goose.DialectSQLite3, "migrations/sqlite"
	}
	sub, err := fs.Sub(migrationsFS, dir)
	if err != nil {
		return err
	}
	var opts []goose.ProviderOption
	if d.driver == "pgx" {
		// Replicas starting together on a fresh database migrate one at a time, under a
		// PostgreSQL advisory lock. (SQLite's IMMEDIATE transactions serialize writers.)
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(dialect, d.DB(), sub, opts...)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	return nil
}

// isUniqueViolation reports a unique or primary-key constraint failure in either dialect.
func isUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	var sc interface{ SQLState() string }
	if errors.As(err, &sc) {
		return sc.SQLState() == "23505"
	}
	msg := err.Error()
	return strings.Contains(msg, "UNIQUE constraint failed") || strings.Contains(msg, "constraint failed: PRIMARY KEY")
}

// isCheckViolation reports a CHECK constraint failure in either dialect.
func isCheckViolation(err error) bool {
	if err == nil {
		return false
	}
	var sc interface{ SQLState() string }
	if errors.As(err, &sc) {
		return sc.SQLState() == "23514"
	}
	return strings.Contains(err.Error(), "CHECK constraint failed")
}

// tx runs fn in a transaction, committing when it returns nil.
func (d *database) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := d.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}
