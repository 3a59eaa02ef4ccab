// Package poolbench measures package pool against the plain *sql.DB a Go user would
// otherwise configure by hand (same driver, pgx stdlib, and the same MaxOpen / MaxIdle /
// lifetime), on a real PostgreSQL server. Run:
//
//	go test -run '^$' -bench . -benchtime=200ms ./pool/
//
// BenchmarkSelect1 times one SELECT 1 round trip: the plain *sql.DB, the plain *sql.DB with
// a 60 s timeout context per call (how a caller bounds the wait by hand), the pool's *sql.DB
// (driver wrapper only) and the pool's QueryRowContext (wrapper plus bounded acquire).
// BenchmarkOverheadSQLite does the same on SQLite in memory, where no network hides the
// wrapper's own nanoseconds.
// The *Ratio variants interleave the sides in one loop, so background load hits them alike,
// and report the median per-round ratio of each side to the plain *sql.DB as "x-sqldb".
// BenchmarkContention runs 50 goroutines over 20 connections and reports acquire latency
// (mean and 99th percentile) besides ns/op.
package poolbench
