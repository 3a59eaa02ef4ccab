package pool_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/nexus-reussite/harden/health"
	"github.com/nexus-reussite/harden/pool"
)

// The zero Config is a production QueuePool: 20 + 30 connections, 60 s timeout, one-hour
// recycle, pre-ping on.
func ExampleOpen() {
	p, err := pool.Open("sqlite", ":memory:", pool.Config{})
	if err != nil {
		panic(err)
	}
	defer p.Close()
	c := p.Config()
	fmt.Println("pool_size", c.Size, "max_overflow", c.Overflow, "max open", p.MaxOpen())
	fmt.Println("pool_timeout", c.Timeout, "pool_recycle", c.Recycle, "jitter", c.RecycleJitter)
	fmt.Println("pre-ping", !c.DisablePrePing, "after idle", c.PrePingIdle)

	var n int
	if err := p.QueryRowContext(context.Background(), "SELECT 1 + 1").Scan(&n); err != nil {
		panic(err)
	}
	fmt.Println("SELECT 1 + 1 =", n)
	// Output:
	// pool_size 20 max_overflow 30 max open 50
	// pool_timeout 1m0s pool_recycle 1h0m0s jitter 6m0s
	// pre-ping true after idle 500ms
	// SELECT 1 + 1 = 2
}

// When every connection is out, the next caller fails after pool_timeout with ErrTimeout,
// even though its own context has no deadline.
func ExampleTimeoutError() {
	p, err := pool.Open("sqlite", ":memory:", pool.Config{Size: 1, Overflow: pool.NoOverflow, Timeout: 20 * time.Millisecond})
	if err != nil {
		panic(err)
	}
	defer p.Close()
	ctx := context.Background()
	held, err := p.Conn(ctx)
	if err != nil {
		panic(err)
	}
	defer held.Close()

	_, err = p.ExecContext(ctx, "SELECT 1")
	var te *pool.TimeoutError
	fmt.Println(errors.Is(err, pool.ErrTimeout), errors.Is(err, context.DeadlineExceeded), errors.As(err, &te))
	fmt.Println(te.InUse, "of", te.MaxOpen, "in use; timeout", te.Timeout)
	// Output:
	// true true true
	// 1 of 1 in use; timeout 20ms
}

// Check is the Func of a health check.
func ExamplePool_Check() {
	p, err := pool.Open("sqlite", ":memory:", pool.Config{})
	if err != nil {
		panic(err)
	}
	defer p.Close()
	h, err := health.New(health.Config{Checks: []health.Check{
		{Name: "database", Func: p.Check, ComponentType: "datastore"},
	}})
	if err != nil {
		panic(err)
	}
	fmt.Println(h.Diagnose(context.Background(), io.Discard))
	// Output:
	// <nil>
}

// Behind sql.Conn.Raw, DriverConn reaches the driver's own connection: here SQLite's
// Serialize, which copies the whole database into memory.
func ExampleDriverConn() {
	p, err := pool.Open("sqlite", ":memory:", pool.Config{Size: 1, Overflow: pool.NoOverflow})
	if err != nil {
		panic(err)
	}
	defer p.Close()
	ctx := context.Background()
	c, err := p.Conn(ctx)
	if err != nil {
		panic(err)
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, "CREATE TABLE t (v text)"); err != nil {
		panic(err)
	}
	type serializer interface{ Serialize() ([]byte, error) }
	err = c.Raw(func(dc any) error {
		_, wrapped := dc.(serializer)
		s, ok := pool.DriverConn(dc).(serializer)
		fmt.Println("wrapper is a serializer:", wrapped, "driver's connection:", ok)
		if !ok {
			return nil
		}
		b, err := s.Serialize()
		if err != nil {
			return err
		}
		fmt.Printf("%s\n", b[:15])
		return nil
	})
	if err != nil {
		panic(err)
	}
	// Output:
	// wrapper is a serializer: false driver's connection: true
	// SQLite format 3
}

// Stats combines database/sql's statistics with the pool's own counters.
func ExamplePool_Stats() {
	p, err := pool.Open("sqlite", ":memory:", pool.Config{Size: 2})
	if err != nil {
		panic(err)
	}
	defer p.Close()
	ctx := context.Background()
	if _, err := p.ExecContext(ctx, "SELECT 1"); err != nil {
		panic(err)
	}
	s := p.Stats()
	fmt.Println("open", s.OpenConnections, "idle", s.Idle, "in use", s.InUse, "opened", s.Opened, "acquires", s.Acquires)
	fmt.Printf("utilization %.2f\n", s.Utilization())
	// Output:
	// open 1 idle 1 in use 0 opened 1 acquires 1
	// utilization 0.00
}
