package pool_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver

	"github.com/nexus-reussite/harden/health"
	"github.com/nexus-reussite/harden/pool"
)

// databaseURL is the server to use, such as
// "postgres://app:secret@db.internal:5432/app?sslmode=verify-full".
func databaseURL() string { return os.Getenv("DATABASE_URL") }

// A pool on PostgreSQL through pgx's database/sql driver, with leak detection and a
// readiness check. It needs a server, so here it is compiled, and run by a test when one
// is available.
func Example_postgres() {
	p, err := pool.Open("pgx", databaseURL(), pool.Config{
		Size:          10,
		Overflow:      10,
		Timeout:       5 * time.Second,
		LeakThreshold: 30 * time.Second,
	})
	if err != nil {
		panic(err)
	}
	defer p.Close()
	ctx := context.Background()

	// The Pool's methods wait at most Timeout for a connection, whatever ctx says.
	var n int
	if err := p.QueryRowContext(ctx, "SELECT $1::int + 1", 41).Scan(&n); err != nil {
		panic(err)
	}
	fmt.Println(n)

	h, err := health.New(health.Config{Checks: []health.Check{
		{Name: "database", Func: p.Check, ComponentType: "datastore"},
	}})
	if err != nil {
		panic(err)
	}
	fmt.Println(h.Diagnose(ctx, io.Discard))
}
