package pool_test

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/nexus-reussite/harden/pool"
)

func sqliteFile(t *testing.T) string {
	return "file:" + filepath.Join(t.TempDir(), "test.db")
}

func openSQLite(t *testing.T, dsn string, cfg pool.Config) *pool.Pool {
	t.Helper()
	p, err := pool.Open("sqlite", dsn, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// hold takes n connections at once, runs a statement on each, and returns them.
func hold(t *testing.T, p *pool.Pool, n int) {
	t.Helper()
	ctx := context.Background()
	cs := make([]*sql.Conn, n)
	for i := range cs {
		c, err := p.Conn(ctx)
		require.NoError(t, err)
		_, err = c.ExecContext(ctx, "SELECT 1")
		require.NoError(t, err)
		cs[i] = c
	}
	for _, c := range cs {
		require.NoError(t, c.Close())
	}
}

func TestSQLiteSingleWriter(t *testing.T) {
	dsn := sqliteFile(t)
	p := openSQLite(t, dsn, pool.Config{Size: 1, Overflow: pool.NoOverflow, Timeout: 30 * time.Second, Recycle: -1})
	ctx := context.Background()
	_, err := p.ExecContext(ctx, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
	require.NoError(t, err)

	// Writers queue in the pool instead of failing with "database is locked".
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			tx, err := p.BeginTx(ctx, nil)
			if !assert.NoError(t, err) {
				return
			}
			_, err = tx.ExecContext(ctx, "INSERT INTO t (id, v) VALUES (?, ?)", i, "v")
			assert.NoError(t, err)
			assert.NoError(t, tx.Commit())
		})
	}
	wg.Wait()
	var n int
	require.NoError(t, p.QueryRowContext(ctx, "SELECT count(*) FROM t").Scan(&n))
	assert.Equal(t, 20, n)

	require.NoError(t, p.Close())

	// A writer held past the timeout makes the next one fail with ErrTimeout.
	const timeout = 200 * time.Millisecond
	p = openSQLite(t, dsn, pool.Config{Size: 1, Overflow: pool.NoOverflow, Timeout: timeout, Recycle: -1})
	tx, err := p.BeginTx(ctx, nil)
	require.NoError(t, err)
	_, err = tx.ExecContext(ctx, "INSERT INTO t (id, v) VALUES (100, 'held')")
	require.NoError(t, err)
	start := time.Now()
	_, err = p.ExecContext(ctx, "INSERT INTO t (id, v) VALUES (101, 'late')")
	require.ErrorIs(t, err, pool.ErrTimeout)
	assert.GreaterOrEqual(t, time.Since(start), timeout)
	require.NoError(t, tx.Commit())
	_, err = p.ExecContext(ctx, "INSERT INTO t (id, v) VALUES (101, 'late')")
	require.NoError(t, err)
}

func TestRecycleJitterSpreadsRetirement(t *testing.T) {
	const n = 20
	dsn := sqliteFile(t)
	cases := []struct {
		name     string
		jitter   time.Duration
		retiring func(t *testing.T, replaced int64)
	}{
		// With a one-hour recycle and six minutes of jitter, at 57 minutes each
		// connection has retired with probability one half: some have, some have not
		// (all or none: probability 2⁻¹⁹).
		{"default jitter", 0, func(t *testing.T, replaced int64) {
			assert.Greater(t, replaced, int64(0), "some connections retire before Recycle")
			assert.Less(t, replaced, int64(n), "not all connections retire at once")
		}},
		// Without jitter every connection lives exactly Recycle.
		{"no jitter", -1, func(t *testing.T, replaced int64) {
			assert.Zero(t, replaced)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p, err := pool.Open("sqlite", dsn, pool.Config{Size: n, Overflow: pool.NoOverflow, RecycleJitter: tc.jitter})
				require.NoError(t, err)
				defer p.Close()
				hold(t, p, n)
				require.EqualValues(t, n, p.Stats().Opened)

				time.Sleep(57 * time.Minute)
				hold(t, p, n)
				s := p.Stats()
				tc.retiring(t, s.Opened-n)
				assert.Equal(t, s.Opened-n, s.ClosedRecycle, "every replaced connection was recycled")

				// Past Recycle, every original connection is gone.
				time.Sleep(4 * time.Minute)
				hold(t, p, n)
				s = p.Stats()
				assert.GreaterOrEqual(t, s.Opened, int64(2*n))
				assert.GreaterOrEqual(t, s.ClosedRecycle+s.MaxLifetimeClosed, int64(n))
			})
		})
	}
}

func TestLeakReportedOnce(t *testing.T) {
	dsn := sqliteFile(t)
	synctest.Test(t, func(t *testing.T) {
		logs := &records{}
		p, err := pool.Open("sqlite", dsn, pool.Config{LeakThreshold: 10 * time.Second, Logger: slog.New(logs)})
		require.NoError(t, err)
		defer p.Close()
		ctx := context.Background()
		leaks := func() []map[string]string {
			synctest.Wait()
			return logs.matching("pool: connection leak: held past the leak threshold")
		}

		c, err := p.Conn(ctx) // a fresh connection, not used yet: watched all the same
		require.NoError(t, err)
		time.Sleep(9 * time.Second)
		assert.Empty(t, leaks(), "not before the threshold")
		time.Sleep(2 * time.Second)
		got := leaks()
		require.Len(t, got, 1)
		assert.Equal(t, "10s", got[0]["held"], "reported as the threshold passes")
		assert.Equal(t, "10s", got[0]["threshold"])
		assert.True(t, strings.HasPrefix(got[0]["stack"], "github.com/nexus-reussite/harden/pool_test.TestLeakReportedOnce"), got[0]["stack"])
		time.Sleep(time.Hour)
		assert.Len(t, leaks(), 1, "reported once, however long it is held")
		require.NoError(t, c.Close())
		synctest.Wait()
		returned := logs.matching("pool: previously reported leaked connection returned")
		require.Len(t, returned, 1)
		assert.Equal(t, "1h0m11s", returned[0]["held"])

		// The same connection, taken again through DB and briefly held: no report.
		for range 5 {
			tx, err := p.DB().BeginTx(ctx, nil)
			require.NoError(t, err)
			time.Sleep(9 * time.Second)
			require.NoError(t, tx.Commit())
		}
		time.Sleep(time.Minute)
		assert.Len(t, leaks(), 1)

		// A transaction left open is a leak too, reported with where it began.
		tx, err := p.DB().BeginTx(ctx, nil)
		require.NoError(t, err)
		time.Sleep(10 * time.Second)
		got = leaks()
		require.Len(t, got, 2)
		assert.True(t, strings.HasPrefix(got[1]["stack"], "github.com/nexus-reussite/harden/pool_test.TestLeakReportedOnce"), got[1]["stack"])
		require.NoError(t, tx.Rollback())
		assert.EqualValues(t, 2, p.Stats().Leaks)
	})
}

func TestLeakDetectionOffByDefault(t *testing.T) {
	dsn := sqliteFile(t)
	synctest.Test(t, func(t *testing.T) {
		logs := &records{}
		p, err := pool.Open("sqlite", dsn, pool.Config{Logger: slog.New(logs)})
		require.NoError(t, err)
		defer p.Close()
		c, err := p.Conn(context.Background())
		require.NoError(t, err)
		time.Sleep(24 * time.Hour)
		synctest.Wait()
		require.NoError(t, c.Close())
		assert.Empty(t, logs.all())
		assert.Zero(t, p.Stats().Leaks)
	})
}

func TestEchoLogsStatementsNotArguments(t *testing.T) {
	logs := &records{}
	p := openSQLite(t, sqliteFile(t), pool.Config{Echo: true, Logger: slog.New(logs)})
	ctx := context.Background()
	_, err := p.ExecContext(ctx, "CREATE TABLE secrets (v TEXT)")
	require.NoError(t, err)
	_, err = p.DB().ExecContext(ctx, "INSERT INTO secrets (v) VALUES (?)", "hunter2")
	require.NoError(t, err)
	stmts := logs.matching("pool: statement")
	require.Len(t, stmts, 2)
	assert.Equal(t, "CREATE TABLE secrets (v TEXT)", stmts[0]["sql"])
	assert.Equal(t, "INSERT INTO secrets (v) VALUES (?)", stmts[1]["sql"])
	assert.NotContains(t, logs.all(), "hunter2")

	quiet := &records{}
	q := openSQLite(t, sqliteFile(t), pool.Config{Logger: slog.New(quiet)})
	_, err = q.ExecContext(ctx, "SELECT 1")
	require.NoError(t, err)
	assert.Empty(t, quiet.matching("pool: statement"), "echo is off by default")
}

func TestClosedPool(t *testing.T) {
	p, err := pool.Open("sqlite", sqliteFile(t), pool.Config{})
	require.NoError(t, err)
	require.NoError(t, p.Close())
	_, err = p.Conn(context.Background())
	require.Error(t, err)
	assert.False(t, errors.Is(err, pool.ErrTimeout))
	require.Error(t, p.Check(context.Background()))
}

// TestDefaultTimeoutIsSixtySeconds waits out the default pool_timeout in a synctest bubble:
// exactly 60 s, for a caller whose context has no deadline.
func TestDefaultTimeoutIsSixtySeconds(t *testing.T) {
	dsn := sqliteFile(t)
	synctest.Test(t, func(t *testing.T) {
		p, err := pool.Open("sqlite", dsn, pool.Config{Size: 1, Overflow: pool.NoOverflow})
		require.NoError(t, err)
		defer p.Close()
		ctx := context.Background()
		held, err := p.Conn(ctx)
		require.NoError(t, err)

		start := time.Now()
		_, err = p.ExecContext(ctx, "SELECT 1")
		require.ErrorIs(t, err, pool.ErrTimeout)
		assert.Equal(t, 60*time.Second, time.Since(start))
		var te *pool.TimeoutError
		require.ErrorAs(t, err, &te)
		assert.Equal(t, 60*time.Second, te.Waited)

		// Returned within the timeout, the connection goes to the waiter.
		done := make(chan error)
		go func() {
			_, err := p.ExecContext(ctx, "SELECT 1")
			done <- err
		}()
		time.Sleep(59 * time.Second)
		require.NoError(t, held.Close())
		require.NoError(t, <-done)
	})
}
