package pool_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-reussite/harden/internal/testenv"
	"github.com/nexus-reussite/harden/pool"
)

func TestExhaustionTimesOut(t *testing.T) {
	dsn := testenv.Postgres(t)
	const timeout = time.Second
	p := openPG(t, dsn, pool.Config{Size: 2, Overflow: 1, Timeout: timeout})
	ctx := context.Background()

	held := make([]*sql.Conn, 0, 3)
	for range 3 {
		c, err := p.Conn(ctx)
		require.NoError(t, err)
		require.NoError(t, c.PingContext(ctx))
		held = append(held, c)
	}
	require.Equal(t, 3, p.Stats().InUse)

	ops := map[string]func() error{
		"Conn": func() error { _, err := p.Conn(ctx); return err },
		"ExecContext": func() error {
			_, err := p.ExecContext(ctx, "SELECT 1")
			return err
		},
		"QueryContext": func() error {
			_, err := p.QueryContext(ctx, "SELECT 1")
			return err
		},
		"QueryRowContext": func() error {
			var n int
			return p.QueryRowContext(ctx, "SELECT 1").Scan(&n)
		},
		"BeginTx": func() error {
			_, err := p.BeginTx(ctx, nil)
			return err
		},
	}
	t.Run("every entry point", func(t *testing.T) {
		for name, op := range ops {
			t.Run(name, func(t *testing.T) {
				t.Parallel() // all wait out the timeout together
				start := time.Now()
				err := op()
				waited := time.Since(start)
				require.ErrorIs(t, err, pool.ErrTimeout)
				require.ErrorIs(t, err, context.DeadlineExceeded)
				var te *pool.TimeoutError
				require.ErrorAs(t, err, &te)
				assert.Equal(t, 3, te.InUse)
				assert.Equal(t, 3, te.MaxOpen)
				assert.Equal(t, timeout, te.Timeout)
				assert.Contains(t, err.Error(), "limit of 3 connections reached")
				assert.GreaterOrEqual(t, waited, timeout, "must wait the full pool timeout")
				assert.Less(t, waited, timeout+2*time.Second, "must not wait much longer than the pool timeout")
			})
		}
	})
	assert.EqualValues(t, len(ops), p.Stats().AcquireTimeouts)
	assert.GreaterOrEqual(t, p.Stats().WaitCount, int64(len(ops)))

	t.Run("caller deadline wins", func(t *testing.T) {
		cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		defer cancel()
		_, err := p.Conn(cctx)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.NotErrorIs(t, err, pool.ErrTimeout, "the caller's own deadline is not the pool's timeout")
	})
	t.Run("caller cancel", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		time.AfterFunc(20*time.Millisecond, cancel)
		_, err := p.Conn(cctx)
		require.ErrorIs(t, err, context.Canceled)
		assert.NotErrorIs(t, err, pool.ErrTimeout)
	})

	// A returned connection goes to the next waiter.
	done := make(chan error, 1)
	go func() {
		var n int
		done <- p.QueryRowContext(ctx, "SELECT 1").Scan(&n)
	}()
	time.Sleep(50 * time.Millisecond) // let the waiter queue up before the release
	require.NoError(t, held[0].Close())
	require.NoError(t, <-done)
	for _, c := range held[1:] {
		require.NoError(t, c.Close())
	}
}

// killBackends terminates every server process of the pool's database but the admin's own,
// and waits until they are gone.
func killBackends(t *testing.T, admin *sql.DB) {
	t.Helper()
	ctx := context.Background()
	_, err := admin.ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()`)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		var n int
		require.NoError(t, admin.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&n))
		return n == 0
	}, 5*time.Second, 10*time.Millisecond)
}

// warm opens n connections at once and returns them to the pool, so n are idle.
func warm(t *testing.T, p *pool.Pool, n int) {
	t.Helper()
	ctx := context.Background()
	cs := make([]*sql.Conn, n)
	for i := range cs {
		c, err := p.Conn(ctx)
		require.NoError(t, err)
		require.NoError(t, c.PingContext(ctx))
		cs[i] = c
	}
	for _, c := range cs {
		require.NoError(t, c.Close())
	}
	require.Equal(t, n, p.Stats().Idle)
}

func TestPrePingReplacesTerminatedBackends(t *testing.T) {
	dsn := testenv.Postgres(t)
	admin := adminDB(t, dsn)
	ctx := context.Background()
	const n = 4

	// Control: without the pre-ping, a connection whose backend was terminated while idle
	// reaches the caller as an error. This is what the pre-ping is for.
	t.Run("without pre-ping callers see errors", func(t *testing.T) {
		p := openPG(t, dsn, pool.Config{Size: n, DisablePrePing: true})
		warm(t, p, n)
		killBackends(t, admin)
		var failures int
		for range n {
			var one int
			if err := p.DB().QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
				failures++
			}
		}
		assert.Positive(t, failures)
	})

	for _, via := range []string{"Pool", "DB"} {
		t.Run("pre-ping via "+via, func(t *testing.T) {
			logs := &records{}
			p := openPG(t, dsn, pool.Config{Size: n, PrePingIdle: -1, Logger: slog.New(logs)})
			warm(t, p, n)
			killBackends(t, admin)
			for i := range 3 * n {
				var one int
				var err error
				if via == "Pool" {
					err = p.QueryRowContext(ctx, "SELECT 1").Scan(&one)
				} else {
					err = p.DB().QueryRowContext(ctx, "SELECT 1").Scan(&one)
				}
				require.NoError(t, err, "query %d after the backends were killed", i)
				require.Equal(t, 1, one)
			}
			// Sequential calls reuse the newest connection; taking n at once reaches every
			// dead one left idle.
			warm(t, p, n)
			assert.EqualValues(t, n, p.Stats().ClosedPing, "every dead connection is found by the pre-ping")
			assert.Len(t, logs.matching("pool: pre-ping failed, replacing connection"), n)
		})
	}

	t.Run("default window pings connections idle past it", func(t *testing.T) {
		p := openPG(t, dsn, pool.Config{Size: n, PrePingIdle: 100 * time.Millisecond})
		warm(t, p, n)
		killBackends(t, admin)
		time.Sleep(150 * time.Millisecond) // idle past the bypass window
		for range 2 * n {
			var one int
			require.NoError(t, p.QueryRowContext(ctx, "SELECT 1").Scan(&one))
		}
		warm(t, p, n)
		assert.EqualValues(t, n, p.Stats().ClosedPing)
	})
}

func TestProxyCutSurfacesErrorsAndRecovers(t *testing.T) {
	dsn := testenv.Postgres(t)
	proxy := testenv.StartProxy(t, pgTarget(t))
	pdsn := viaProxy(t, dsn, proxy.Addr())
	const timeout = time.Second
	p := openPG(t, pdsn+"&connect_timeout=1", pool.Config{Size: 2, Overflow: 2, Timeout: timeout, PrePingIdle: -1, CheckTimeout: time.Second})
	ctx := context.Background()
	warm(t, p, 2)
	require.NoError(t, p.Check(ctx))

	// A link cut while the connections sit idle and then restored costs callers nothing:
	// the pre-ping finds the dead connections and the pool dials new ones.
	proxy.Cut()
	proxy.Restore()
	for i := range 4 {
		var one int
		require.NoError(t, p.QueryRowContext(ctx, "SELECT 1").Scan(&one), "call %d after a cut while idle", i)
	}
	warm(t, p, 2) // reaches every idle connection
	assert.EqualValues(t, 2, p.Stats().ClosedPing)

	// A statement running when the link is cut fails promptly, not when it would have ended.
	busy := make(chan error, 1)
	go func() {
		_, err := p.ExecContext(ctx, "SELECT pg_sleep(30)")
		busy <- err
	}()
	require.Eventually(t, func() bool { return p.Stats().InUse == 1 }, 5*time.Second, 5*time.Millisecond)
	time.Sleep(50 * time.Millisecond) // the statement is on the wire
	cutAt := time.Now()
	proxy.Cut()
	select {
	case err := <-busy:
		require.Error(t, err)
		assert.Less(t, time.Since(cutAt), 5*time.Second)
	case <-time.After(10 * time.Second):
		t.Fatal("a statement on a cut connection did not fail")
	}

	// While cut, every call fails within the pool timeout (plus the dial timeout).
	for i := range 6 {
		start := time.Now()
		var one int
		err := p.QueryRowContext(ctx, "SELECT 1").Scan(&one)
		require.Error(t, err, "call %d during the cut", i)
		assert.Less(t, time.Since(start), timeout+2*time.Second, "call %d took too long", i)
	}
	require.Error(t, p.Check(ctx))
	s := p.Stats()
	assert.Positive(t, s.OpenErrors, "dials through the cut proxy fail")
	assert.Positive(t, s.ClosedPing+s.ClosedBroken, "connections cut while idle are discarded")

	proxy.Restore()
	require.Eventually(t, func() bool {
		var one int
		return p.QueryRowContext(ctx, "SELECT 1").Scan(&one) == nil
	}, 10*time.Second, 50*time.Millisecond, "the pool must recover once the link is back")
	// Recovered for good: a burst of concurrent calls all succeed.
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			var one int
			errs <- p.QueryRowContext(ctx, "SELECT 1").Scan(&one)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.NoError(t, p.Check(ctx))
}

func TestLeakReportedWithStackPostgres(t *testing.T) {
	dsn := testenv.Postgres(t)
	logs := &records{}
	const threshold = time.Second
	p := openPG(t, dsn, pool.Config{LeakThreshold: threshold, Logger: slog.New(logs)})
	ctx := context.Background()

	tx, err := p.BeginTx(ctx, nil) // the transaction holds its connection
	require.NoError(t, err)
	_, err = tx.ExecContext(ctx, "SELECT 1")
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(logs.matching("pool: connection leak: held past the leak threshold")) == 1 },
		10*time.Second, 10*time.Millisecond)
	leak := logs.matching("pool: connection leak: held past the leak threshold")[0]
	assert.True(t, strings.HasPrefix(leak["stack"], "github.com/nexus-reussite/harden/pool_test.TestLeakReportedWithStackPostgres"),
		"the stack starts where the connection was taken:\n%s", leak["stack"])
	assert.Contains(t, leak["stack"], "postgres_test.go:")
	assert.Equal(t, "default", leak["pool"])
	require.NoError(t, tx.Rollback())
	require.Eventually(t, func() bool { return len(logs.matching("pool: previously reported leaked connection returned")) == 1 },
		5*time.Second, 10*time.Millisecond)
	assert.Len(t, logs.matching("pool: connection leak: held past the leak threshold"), 1, "reported once")
	assert.EqualValues(t, 1, p.Stats().Leaks)

	// Short holds are never reported.
	for range 5 {
		var one int
		require.NoError(t, p.QueryRowContext(ctx, "SELECT 1").Scan(&one))
	}
	assert.EqualValues(t, 1, p.Stats().Leaks)
}

func TestRecycleShortLifetimePostgres(t *testing.T) {
	dsn := testenv.Postgres(t)
	p := openPG(t, dsn, pool.Config{Size: 2, Recycle: time.Second, RecycleJitter: 200 * time.Millisecond})
	ctx := context.Background()
	pid := func() int {
		var id int
		require.NoError(t, p.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&id))
		return id
	}
	first := pid()
	assert.Equal(t, first, pid(), "a young connection is reused")
	time.Sleep(1050 * time.Millisecond) // past Recycle for every connection
	assert.NotEqual(t, first, pid(), "a connection past pool_recycle is replaced")
	s := p.Stats()
	assert.Positive(t, s.ClosedRecycle+s.MaxLifetimeClosed)
}

func TestCheckPostgres(t *testing.T) {
	dsn := testenv.Postgres(t)
	ctx := context.Background()
	p := openPG(t, dsn, pool.Config{Size: 1, Overflow: pool.NoOverflow, CheckTimeout: 500 * time.Millisecond})
	var check func(context.Context) error = p.Check // the shape health checkers take
	_, err := p.ExecContext(ctx, "SELECT 1")        // dial outside the short check timeout
	require.NoError(t, err)
	require.NoError(t, check(ctx))

	c, err := p.Conn(ctx) // the only connection
	require.NoError(t, err)
	start := time.Now()
	err = check(ctx)
	require.Error(t, err, "an exhausted pool is not ready")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 2*time.Second)
	require.NoError(t, c.Close())
	require.NoError(t, check(ctx))

	bad := openPG(t, dsn, pool.Config{CheckQuery: "SELECT * FROM no_such_table", CheckTimeout: 10 * time.Second})
	err = bad.Check(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no_such_table")
}

func TestRawUnwrapsToDriverConn(t *testing.T) {
	dsn := testenv.Postgres(t)
	p, err := pool.Open("pgx", dsn, pool.Config{})
	require.NoError(t, err)
	defer p.Close()
	ctx := context.Background()
	c, err := p.Conn(ctx)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.Raw(func(dc any) error {
		pc, ok := pool.DriverConn(dc).(*stdlib.Conn)
		if !ok {
			return errors.New("not a pgx connection")
		}
		return pc.Conn().Ping(ctx)
	}))
	assert.Equal(t, "x", pool.DriverConn("x"), "other values pass through")
}

func TestTransactionsAndRowsReturnConnections(t *testing.T) {
	dsn := testenv.Postgres(t)
	p := openPG(t, dsn, pool.Config{Size: 2, Overflow: pool.NoOverflow, Timeout: 2 * time.Second})
	ctx := context.Background()
	_, err := p.ExecContext(ctx, "CREATE TABLE t (id int primary key, v text)")
	require.NoError(t, err)

	for i := range 10 { // more rounds than connections: each must come back
		tx, err := p.BeginTx(ctx, nil)
		require.NoError(t, err)
		_, err = tx.ExecContext(ctx, "INSERT INTO t VALUES ($1, $2)", i, "v")
		require.NoError(t, err)
		if i%2 == 0 {
			require.NoError(t, tx.Commit())
		} else {
			require.NoError(t, tx.Rollback())
		}
		rows, err := p.QueryContext(ctx, "SELECT id FROM t ORDER BY id")
		require.NoError(t, err)
		for rows.Next() {
		}
		require.NoError(t, rows.Err())
		require.NoError(t, rows.Close())
	}
	require.Eventually(t, func() bool { return p.Stats().InUse == 0 }, 5*time.Second, 5*time.Millisecond)
	var n int
	require.NoError(t, p.QueryRowContext(ctx, "SELECT count(*) FROM t").Scan(&n))
	assert.Equal(t, 5, n)

	err = p.QueryRowContext(ctx, "SELECT id FROM t WHERE id = -1").Scan(&n)
	require.ErrorIs(t, err, sql.ErrNoRows)
	row := p.QueryRowContext(ctx, "SELECT broken syntax")
	require.Error(t, row.Err())
	require.Error(t, row.Scan(&n))
	require.Eventually(t, func() bool { return p.Stats().InUse == 0 }, 5*time.Second, 5*time.Millisecond)

	// Concurrent use with more callers than connections.
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Go(func() {
			_, err := p.ExecContext(ctx, "UPDATE t SET v = $1 WHERE id = 0", fmt.Sprint(i))
			assert.NoError(t, err)
		})
	}
	wg.Wait()
}

// The Postgres example runs against a real server.
func TestExamplePostgres(t *testing.T) {
	t.Setenv("DATABASE_URL", testenv.Postgres(t))
	Example_postgres()
}

// TestConcurrentMixedUse drives every entry point at once over a pool smaller than the
// number of callers, with leak detection on and metrics scraped meanwhile, for the race
// detector; every call either succeeds or times out with ErrTimeout.
func TestConcurrentMixedUse(t *testing.T) {
	dsn := testenv.Postgres(t)
	reg := prometheus.NewRegistry()
	p := openPG(t, dsn, pool.Config{Size: 3, Overflow: 2, Timeout: 2 * time.Second, LeakThreshold: 20 * time.Millisecond,
		PrePingIdle: -1, Registerer: reg, Logger: slog.New(&records{})})
	ctx := context.Background()
	_, err := p.ExecContext(ctx, "CREATE TABLE c (n int)")
	require.NoError(t, err)

	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
				_, _ = reg.Gather()
				_ = p.Stats()
			}
		}
	})
	var callers sync.WaitGroup
	for g := range 16 {
		callers.Go(func() {
			for i := range 15 {
				err := mixedCall(ctx, p, (g+i)%5, i)
				if err != nil && !errors.Is(err, pool.ErrTimeout) {
					t.Errorf("caller %d call %d: %v", g, i, err)
				}
			}
		})
	}
	callers.Wait()
	close(stop)
	wg.Wait()
	require.Eventually(t, func() bool { return p.Stats().InUse == 0 }, 5*time.Second, 5*time.Millisecond)
	s := p.Stats()
	assert.LessOrEqual(t, s.MaxOpenConnections, 5)
	assert.Positive(t, s.Leaks, "transactions held past the threshold are reported")
}

// TestTimeoutBoundsDialToHungServer: a server that accepts connections and never answers
// (an overloaded or wedged PostgreSQL) cannot hold callers past the pool timeout, even
// though no connection is in use and the driver has no connect timeout of its own.
func TestTimeoutBoundsDialToHungServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var mu sync.Mutex
	var held []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c) // accepted, never answered
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			_ = c.Close()
		}
	})

	const timeout = 300 * time.Millisecond
	p, err := pool.Open("pgx", "postgres://root@"+ln.Addr().String()+"/test?sslmode=disable", pool.Config{Timeout: timeout})
	require.NoError(t, err)
	defer p.Close()
	start := time.Now()
	_, err = p.ExecContext(context.Background(), "SELECT 1")
	waited := time.Since(start)
	require.ErrorIs(t, err, pool.ErrTimeout)
	var te *pool.TimeoutError
	require.ErrorAs(t, err, &te)
	assert.Zero(t, te.InUse)
	assert.Contains(t, err.Error(), "no connection within 300ms (0 in use)")
	assert.GreaterOrEqual(t, waited, timeout)
	assert.Less(t, waited, timeout+2*time.Second)
	assert.Positive(t, p.Stats().OpenErrors)
}

// mixedCall makes call number i of TestConcurrentMixedUse through the entry point kind.
func mixedCall(ctx context.Context, p *pool.Pool, kind, i int) error {
	switch kind {
	case 0:
		_, err := p.ExecContext(ctx, "INSERT INTO c VALUES ($1)", i)
		return err
	case 1:
		rows, err := p.QueryContext(ctx, "SELECT n FROM c LIMIT 5")
		if err != nil {
			return err
		}
		for rows.Next() {
		}
		return rows.Close()
	case 2:
		var n int
		return p.QueryRowContext(ctx, "SELECT count(*) FROM c").Scan(&n)
	case 3:
		tx, err := p.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		time.Sleep(30 * time.Millisecond) // held past the leak threshold
		_, err = tx.ExecContext(ctx, "INSERT INTO c VALUES (-1)")
		return errors.Join(err, tx.Commit())
	default:
		c, err := p.Conn(ctx)
		if err != nil {
			return err
		}
		return errors.Join(c.PingContext(ctx), c.Close())
	}
}
