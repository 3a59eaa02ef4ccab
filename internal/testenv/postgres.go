package testenv

import (
	"context"
	"database/sql"
	"net/url"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
)

// DatabaseURL returns the shared PostgreSQL server's URL.
func DatabaseURL() string { return envOr(EnvDatabaseURL, DefaultDatabaseURL) }

// Postgres creates a fresh database for the test and returns its URL. The database is
// dropped (with its connections terminated) when the test ends.
func Postgres(t testing.TB) string {
	t.Helper()
	admin, err := sql.Open("pgx", DatabaseURL())
	if err != nil {
		t.Fatalf("%s: %v", EnvDatabaseURL, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		_ = admin.Close()
		Unavailable(t, "postgres", EnvDatabaseURL, err)
	}
	name := RandomName("harden_test_")
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		_ = admin.Close()
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = admin.ExecContext(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", name)
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
		_ = admin.Close()
	})
	u, err := url.Parse(DatabaseURL())
	if err != nil {
		t.Fatalf("%s: %v", EnvDatabaseURL, err)
	}
	u.Path = "/" + name
	return u.String()
}

// PostgresDB opens a *sql.DB (pgx driver) on a fresh database; it is closed when the test ends.
func PostgresDB(t testing.TB) (*sql.DB, string) {
	t.Helper()
	dsn := Postgres(t)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatalf("open %s: %v", dsn, err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db, dsn
}
