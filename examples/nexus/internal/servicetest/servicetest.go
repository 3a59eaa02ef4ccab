// Package servicetest gives the backend's tests real services: a fresh PostgreSQL
// database per test, a private key prefix on the shared Redis server, a redis-server the
// test owns (to kill and restart), a TCP proxy the test can cut, a loopback port that
// refuses connections, and a buffer for the logs of a server under test.
//
// The shared servers are found through HARDEN_DATABASE_URL (default
// postgres://root@127.0.0.1:5432/test?sslmode=disable) and HARDEN_REDIS_URL (default
// redis://127.0.0.1:6379/0). A test whose service is unreachable is skipped with one line
// saying how to enable it, or fails when HARDEN_REQUIRE_SERVICES=1 (as in CI).
package servicetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" database/sql driver
	"github.com/redis/go-redis/v9"
)

// Environment variables read by this package.
const (
	EnvDatabaseURL     = "HARDEN_DATABASE_URL"
	EnvRedisURL        = "HARDEN_REDIS_URL"
	EnvRequireServices = "HARDEN_REQUIRE_SERVICES"
)

// Required reports whether unreachable services fail tests instead of skipping them.
func Required() bool { return os.Getenv(EnvRequireServices) == "1" }

// skipOrFail skips t because service is unreachable, or fails it when services are
// required.
func skipOrFail(t testing.TB, service, env string, err error) {
	t.Helper()
	if Required() {
		t.Fatalf("%s unreachable (%v) and %s=1", service, err, EnvRequireServices)
	}
	t.Skipf("%s unreachable (%v); start it or point %s at it", service, err, env)
}

// randomSuffix is 12 random hex characters.
func randomSuffix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// DatabaseURL is the shared PostgreSQL server.
func DatabaseURL() string {
	if v := os.Getenv(EnvDatabaseURL); v != "" {
		return v
	}
	return "postgres://root@127.0.0.1:5432/test?sslmode=disable"
}

// RedisURL is the shared Redis server.
func RedisURL() string {
	if v := os.Getenv(EnvRedisURL); v != "" {
		return v
	}
	return "redis://127.0.0.1:6379/0"
}

// Postgres creates a database of the test's own on the shared server and returns its
// URL; the database is dropped, its connections ended, when the test ends.
func Postgres(t testing.TB) string {
	t.Helper()
	server, err := sql.Open("pgx", DatabaseURL())
	if err != nil {
		t.Fatalf("%s: %v", EnvDatabaseURL, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := server.PingContext(ctx); err != nil {
		_ = server.Close()
		skipOrFail(t, "postgres", EnvDatabaseURL, err)
	}
	name := "nexus_test_" + randomSuffix()
	if _, err := server.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		_ = server.Close()
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		defer server.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = server.ExecContext(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", name)
		if _, err := server.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(DatabaseURL())
	if err != nil {
		t.Fatalf("%s: %v", EnvDatabaseURL, err)
	}
	u.Path = "/" + name
	return u.String()
}

// RedisPrefix checks that the shared Redis server answers and returns a key prefix of the
// test's own ("nexus-test:<random>:"); the keys under it are deleted when the test ends.
func RedisPrefix(t testing.TB) string {
	t.Helper()
	opt, err := redis.ParseURL(RedisURL())
	if err != nil {
		t.Fatalf("%s: %v", EnvRedisURL, err)
	}
	c := redis.NewClient(opt)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		skipOrFail(t, "redis at "+opt.Addr, EnvRedisURL, err)
	}
	prefix := "nexus-test:" + randomSuffix() + ":"
	t.Cleanup(func() {
		defer c.Close()
		ctx := context.Background()
		for iter := c.Scan(ctx, 0, prefix+"*", 500).Iterator(); iter.Next(ctx); {
			c.Del(ctx, iter.Val())
		}
	})
	return prefix
}
