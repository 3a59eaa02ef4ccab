package testenv

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRedisPrefixIsolatedAndCleaned(t *testing.T) {
	var c *redis.Client
	var prefix string
	ctx := context.Background()
	t.Run("inner", func(t *testing.T) {
		c, prefix = Redis(t)
		require.NoError(t, c.Set(ctx, prefix+"a", "1", 0).Err())
		require.NoError(t, c.Set(ctx, prefix+"b", "2", 0).Err())
	})
	if c == nil {
		t.Skip("redis unavailable")
	}
	other, _ := Redis(t)
	n, err := other.Exists(ctx, prefix+"a", prefix+"b").Result()
	require.NoError(t, err)
	assert.Zero(t, n, "keys under the test prefix must be deleted at cleanup")
}

func TestPostgresFreshDatabaseDropped(t *testing.T) {
	var name string
	t.Run("inner", func(t *testing.T) {
		db, _ := PostgresDB(t)
		require.NoError(t, db.QueryRow("SELECT current_database()").Scan(&name))
		_, err := db.Exec("CREATE TABLE t (id int)")
		require.NoError(t, err)
	})
	if name == "" {
		t.Skip("postgres unavailable")
	}
	admin, err := sql.Open("pgx", DatabaseURL())
	require.NoError(t, err)
	defer admin.Close()
	var n int
	require.NoError(t, admin.QueryRow("SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&n))
	assert.Zero(t, n, "database %s must be dropped at cleanup", name)
}

func TestRedisServerKillAndRestart(t *testing.T) {
	s := StartRedisServer(t)
	c := redis.NewClient(&redis.Options{Addr: s.Addr(), MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer c.Close()
	ctx := context.Background()
	require.NoError(t, c.Set(ctx, "k", "v", 0).Err())

	s.Kill()
	assert.Error(t, c.Ping(ctx).Err(), "a killed server must not answer")

	require.NoError(t, s.Restart())
	require.NoError(t, c.Ping(ctx).Err())
	assert.ErrorIs(t, c.Get(ctx, "k").Err(), redis.Nil, "a restarted server keeps nothing")
}

func TestProxyCutAndRestore(t *testing.T) {
	s := StartRedisServer(t)
	p := StartProxy(t, s.Addr())
	c := redis.NewClient(&redis.Options{Addr: p.Addr(), MaxRetries: -1, DialTimeout: 200 * time.Millisecond, ReadTimeout: 500 * time.Millisecond})
	defer c.Close()
	ctx := context.Background()
	require.NoError(t, c.Ping(ctx).Err())
	assert.Positive(t, p.Open())

	p.Cut()
	assert.Zero(t, p.Open())
	for range 3 { // pooled connections die, then new ones are refused
		assert.Error(t, c.Ping(ctx).Err())
	}

	p.Restore()
	require.Eventually(t, func() bool { return c.Ping(ctx).Err() == nil }, 5*time.Second, 20*time.Millisecond)
	// The server itself never went away.
	direct := s.Client()
	require.NoError(t, direct.Ping(ctx).Err())
}

func TestUnavailableSkipsOrFails(t *testing.T) {
	t.Setenv(EnvRequireServices, "")
	ft := &fakeTB{TB: t}
	func() {
		defer func() { _ = recover() }()
		Unavailable(ft, "svc", "ENV", assert.AnError)
	}()
	assert.True(t, ft.skipped)
	assert.False(t, ft.failed)

	t.Setenv(EnvRequireServices, "1")
	ft = &fakeTB{TB: t}
	func() {
		defer func() { _ = recover() }()
		Unavailable(ft, "svc", "ENV", assert.AnError)
	}()
	assert.True(t, ft.failed)
	assert.False(t, ft.skipped)
}

// fakeTB records Skipf/Fatalf instead of stopping the real test.
type fakeTB struct {
	testing.TB
	skipped, failed bool
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Skipf(string, ...any) {
	f.skipped = true
	panic("skip")
}
func (f *fakeTB) Fatalf(string, ...any) {
	f.failed = true
	panic("fatal")
}

// TestRedisServerPortTaken: a server whose port is taken by another redis-server reports
// that it exited, rather than taking the other server's answers for its own.
func TestRedisServerPortTaken(t *testing.T) {
	first := StartRedisServer(t)
	second := &RedisServer{t: t, port: first.port}
	t.Cleanup(second.Kill)
	err := second.Start()
	require.ErrorIs(t, err, errExited)
	require.NoError(t, first.Client().Ping(context.Background()).Err(), "the first server must be untouched")
}
