package poolbench

import (
	"context"
	"database/sql"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver

	"github.com/nexus-reussite/harden/internal/testenv"
	"github.com/nexus-reussite/harden/pool"
)

// acquireTimeout is the pool's default Config.Timeout, which the peer applies by hand.
const acquireTimeout = 60 * time.Second

// plainDB is the hand-configured peer: what the pool sets, done directly.
func plainDB(b *testing.B, dsn string, maxOpen, maxIdle int) *sql.DB {
	b.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		b.Fatal(err)
	}
	db.SetMaxOpenConns(maxOpen)
	db.SetMaxIdleConns(maxIdle)
	db.SetConnMaxLifetime(time.Hour)
	b.Cleanup(func() { _ = db.Close() })
	return db
}

func openPool(b *testing.B, dsn string, cfg pool.Config) *pool.Pool {
	b.Helper()
	p, err := pool.Open("pgx", dsn, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = p.Close() })
	return p
}

// querier runs one SELECT 1 and reads the answer.
type querier func(ctx context.Context) error

func viaDB(db *sql.DB) querier {
	return func(ctx context.Context) error {
		var n int
		return db.QueryRowContext(ctx, "SELECT 1").Scan(&n)
	}
}

// viaDBTimeout is what a caller of a plain *sql.DB writes to bound its wait the same way:
// a timeout context per call (which, unlike the pool's, bounds the statement too).
func viaDBTimeout(db *sql.DB, d time.Duration) querier {
	return func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		var n int
		return db.QueryRowContext(ctx, "SELECT 1").Scan(&n)
	}
}

func viaPool(p *pool.Pool) querier {
	return func(ctx context.Context) error {
		var n int
		return p.QueryRowContext(ctx, "SELECT 1").Scan(&n)
	}
}

type side struct {
	name string
	q    querier
}

func pgSides(b *testing.B) []side {
	dsn := testenv.Postgres(b)
	p := openPool(b, dsn, pool.Config{})
	db := plainDB(b, dsn, 50, 20)
	return []side{
		{"sqldb", viaDB(db)},
		{"sqldb+timeout", viaDBTimeout(db, acquireTimeout)},
		{"pool.DB", viaDB(p.DB())},
		{"pool", viaPool(p)},
	}
}

func sqliteSides(b *testing.B) []side {
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		b.Fatal(err)
	}
	db.SetMaxOpenConns(50)
	db.SetMaxIdleConns(20)
	db.SetConnMaxLifetime(time.Hour)
	b.Cleanup(func() { _ = db.Close() })
	p, err := pool.Open("sqlite", ":memory:", pool.Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = p.Close() })
	return []side{
		{"sqldb", viaDB(db)},
		{"sqldb+timeout", viaDBTimeout(db, acquireTimeout)},
		{"pool.DB", viaDB(p.DB())},
		{"pool", viaPool(p)},
	}
}

func each(b *testing.B, ss []side) {
	ctx := context.Background()
	for _, s := range ss {
		b.Run(s.name, func(b *testing.B) {
			if err := s.q(ctx); err != nil { // warm: one open connection
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := s.q(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// ratio runs the sides in turn within one loop, rotating which goes first; ns/op is the
// time of one round of all of them. x-sqldb is the median over rounds of a side's time
// over the plain *sql.DB's in the same round, which keeps a burst of load elsewhere on the
// machine from landing on one side only.
func ratio(b *testing.B, ss []side) {
	ctx := context.Background()
	for _, s := range ss {
		if err := s.q(ctx); err != nil {
			b.Fatal(err)
		}
	}
	ratios := make([][]float64, len(ss))
	spent := make([]time.Duration, len(ss))
	round := make([]time.Duration, len(ss))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		for k := range ss {
			i := (k + n) % len(ss)
			start := time.Now()
			if err := ss[i].q(ctx); err != nil {
				b.Fatal(err)
			}
			round[i] = time.Since(start)
			spent[i] += round[i]
		}
		for i := 1; i < len(ss); i++ {
			ratios[i] = append(ratios[i], float64(round[i])/float64(round[0]))
		}
		n++
	}
	for i, s := range ss {
		b.ReportMetric(float64(spent[i].Nanoseconds())/float64(n), s.name+"-ns/op")
		if i > 0 {
			slices.Sort(ratios[i])
			b.ReportMetric(ratios[i][len(ratios[i])/2], s.name+"-x-sqldb")
		}
	}
}

func BenchmarkSelect1(b *testing.B)      { each(b, pgSides(b)) }
func BenchmarkSelect1Ratio(b *testing.B) { ratio(b, pgSides(b)) }

// BenchmarkOverheadSQLite isolates the wrapper's own cost on a round trip that never
// leaves the process (SQLite in memory), where a few hundred nanoseconds are visible.
func BenchmarkOverheadSQLite(b *testing.B)      { each(b, sqliteSides(b)) }
func BenchmarkOverheadSQLiteRatio(b *testing.B) { ratio(b, sqliteSides(b)) }

// BenchmarkContention: 50 goroutines share 20 connections, each taking a connection,
// running SELECT 1 on it and returning it.
func BenchmarkContention(b *testing.B) {
	dsn := testenv.Postgres(b)
	const conns, goroutines = 20, 50
	p := openPool(b, dsn, pool.Config{Size: conns, Overflow: pool.NoOverflow})
	db := plainDB(b, dsn, conns, conns)
	for _, side := range []struct {
		name    string
		acquire func(context.Context) (*sql.Conn, error)
	}{
		{"sqldb", db.Conn},
		{"pool", p.Conn},
	} {
		b.Run(side.name, func(b *testing.B) {
			ctx := context.Background()
			warmConns(b, side.acquire, conns)
			b.ResetTimer()
			var mu sync.Mutex
			var waits []time.Duration
			b.SetParallelism((goroutines + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				local := make([]time.Duration, 0, 1024)
				for pb.Next() {
					start := time.Now()
					c, err := side.acquire(ctx)
					local = append(local, time.Since(start))
					if err != nil {
						b.Error(err)
						return
					}
					var n int
					if err := c.QueryRowContext(ctx, "SELECT 1").Scan(&n); err != nil {
						b.Error(err)
					}
					_ = c.Close()
				}
				mu.Lock()
				waits = append(waits, local...)
				mu.Unlock()
			})
			if len(waits) == 0 {
				return
			}
			slices.Sort(waits)
			var sum time.Duration
			for _, w := range waits {
				sum += w
			}
			b.ReportMetric(float64(sum.Nanoseconds())/float64(len(waits)), "acquire-ns/op")
			b.ReportMetric(float64(waits[len(waits)*99/100].Nanoseconds()), "acquire-p99-ns")
		})
	}
}

// warmConns opens n connections and returns them to the pool, so that dialling (slow,
// and at the mercy of the server's load) stays out of the measured iterations.
func warmConns(b *testing.B, acquire func(context.Context) (*sql.Conn, error), n int) {
	b.Helper()
	ctx := context.Background()
	held := make([]*sql.Conn, 0, n)
	for range n {
		c, err := acquire(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if err := c.PingContext(ctx); err != nil {
			b.Fatal(err)
		}
		held = append(held, c)
	}
	for _, c := range held {
		_ = c.Close()
	}
}
