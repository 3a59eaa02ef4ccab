// Package testenv gives tests real services: a Redis client with its own key prefix, a
// fresh PostgreSQL database per test, a private redis-server process the test may kill and
// restart, and a TCP proxy the test can cut and restore.
//
// Services are found through HARDEN_REDIS_URL (default redis://127.0.0.1:6379/0) and
// HARDEN_DATABASE_URL (default postgres://root@127.0.0.1:5432/test?sslmode=disable). When a
// service is unreachable the test is skipped with one line saying how to enable it, unless
// HARDEN_REQUIRE_SERVICES=1, in which case it fails.
package testenv

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
)

// Environment variables read by this package.
const (
	EnvRedisURL        = "HARDEN_REDIS_URL"
	EnvDatabaseURL     = "HARDEN_DATABASE_URL"
	EnvRequireServices = "HARDEN_REQUIRE_SERVICES"
)

// Default service addresses.
const (
	DefaultRedisURL    = "redis://127.0.0.1:6379/0"
	DefaultDatabaseURL = "postgres://root@127.0.0.1:5432/test?sslmode=disable"
)

// Required reports whether HARDEN_REQUIRE_SERVICES=1 is set.
func Required() bool { return os.Getenv(EnvRequireServices) == "1" }

// Unavailable skips t (or fails it when services are required) with a one-line reason.
func Unavailable(t testing.TB, service, env string, err error) {
	t.Helper()
	if Required() {
		t.Fatalf("%s unavailable (%v) and %s=1", service, err, EnvRequireServices)
	}
	t.Skipf("%s unavailable (%v); start it or set %s", service, err, env)
}

// RandomName returns prefix followed by 12 random hex characters.
func RandomName(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
