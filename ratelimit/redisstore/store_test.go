package redisstore_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-reussite/harden/internal/testenv"
	"github.com/nexus-reussite/harden/ratelimit"
	"github.com/nexus-reussite/harden/ratelimit/redisstore"
	"github.com/nexus-reussite/harden/ratelimit/store"
	"github.com/nexus-reussite/harden/ratelimit/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, clock *storetest.Clock) store.Store {
		c, prefix := testenv.Redis(t)
		s, err := redisstore.New(c, redisstore.Config{Prefix: prefix, Now: clock.Now, Timeout: 2 * time.Second})
		require.NoError(t, err)
		return s
	})
}

func TestServerClock(t *testing.T) {
	c, prefix := testenv.Redis(t)
	s, err := redisstore.New(c, redisstore.Config{Prefix: prefix, Timeout: 2 * time.Second})
	require.NoError(t, err)
	rule := ratelimit.MustParseRule("2 per hour;10 per day")
	ctx := context.Background()
	for _, want := range []bool{true, true, false, false} {
		d, err := s.Take(ctx, "ip:192.0.2.1", rule, store.FixedWindow, 1)
		require.NoError(t, err)
		assert.Equal(t, want, d.Allowed)
		assert.InDelta(t, time.Hour.Seconds(), d.Limits[0].Reset.Seconds(), 5)
	}
	d, err := s.Take(ctx, "ip:192.0.2.1", rule, store.FixedWindow, 1)
	require.NoError(t, err)
	assert.Equal(t, uint64(8), d.Limits[1].Remaining, "rejected takes charged nothing")
	// The hashes carry a TTL so idle clients vanish from Redis.
	// One hash holds both windows; its TTL outlives the longest window so idle clients
	// vanish from Redis.
	var keys []string
	for it := c.Scan(ctx, 0, prefix+"*", 1000).Iterator(); it.Next(ctx); {
		keys = append(keys, it.Val())
	}
	assert.Equal(t, []string{s.Key("ip:192.0.2.1", store.FixedWindow)}, keys)
	ttl, err := c.PTTL(ctx, keys[0]).Result()
	require.NoError(t, err)
	assert.Greater(t, ttl, 24*time.Hour)
	assert.LessOrEqual(t, ttl, 48*time.Hour)
}

// countHook counts the commands sent to Redis.
type countHook struct{ n atomic.Int64 }

func (h *countHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *countHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmd)
	}
}
func (h *countHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.n.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

func TestOneRoundTripAndNoScriptFallback(t *testing.T) {
	srv := testenv.StartRedisServer(t)
	c := srv.Client()
	hook := &countHook{}
	c.AddHook(hook)
	s, err := redisstore.New(c, redisstore.Config{Prefix: "test:", Timeout: 2 * time.Second})
	require.NoError(t, err)
	rule := ratelimit.MustParseRule(ratelimit.DefaultRule)
	ctx := context.Background()

	_, err = s.Take(ctx, "k", rule, store.FixedWindow, 1) // EVALSHA, NOSCRIPT, EVAL
	require.NoError(t, err)
	hook.n.Store(0)
	for i := 0; i < 10; i++ {
		_, err = s.Take(ctx, "k", rule, store.SlidingWindow, 1)
		require.NoError(t, err)
	}
	assert.Equal(t, int64(10), hook.n.Load(), "three windows in one command per take")

	require.NoError(t, c.ScriptFlush(ctx).Err())
	d, err := s.Take(ctx, "k", rule, store.FixedWindow, 1)
	require.NoError(t, err, "NOSCRIPT must fall back to EVAL")
	assert.True(t, d.Allowed)
	assert.Equal(t, uint64(98), d.Limits[1].Remaining)
}

func TestKeyHashTag(t *testing.T) {
	c, prefix := testenv.Redis(t)
	s, err := redisstore.New(c, redisstore.Config{Prefix: prefix, Timeout: 2 * time.Second})
	require.NoError(t, err)
	seen := map[string]string{}
	for _, key := range []string{"ip:192.0.2.1", "", "}", "a}", "a}b", "a}b{c", "{x}", "{", strings.Repeat("k", 4096), "user:\x00\xff"} {
		var tags []string
		for _, st := range []store.Strategy{store.FixedWindow, store.SlidingWindow} {
			k := s.Key(key, st)
			require.True(t, strings.HasPrefix(k, prefix), k)
			open := strings.IndexByte(k, '{')
			end := strings.IndexByte(k[open+1:], '}')
			require.Positive(t, end, "non-empty hash tag in %q", k)
			tags = append(tags, k[open+1:open+1+end])
			if other, dup := seen[k]; dup {
				t.Fatalf("keys %q and %q share Redis key %q", other, key, k)
			}
			seen[k] = key
		}
		assert.Equal(t, tags[0], tags[1], "key %q", key)
	}
	// Hostile keys still work end to end.
	for _, key := range []string{"}", "{", "a}b{c", ""} {
		d, err := s.Take(context.Background(), key, ratelimit.MustParseRule("1/minute;5/hour"), store.SlidingWindow, 1)
		require.NoError(t, err)
		assert.True(t, d.Allowed)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer c.Close()
	for _, tc := range []struct {
		field string
		cfg   redisstore.Config
	}{
		{"Prefix", redisstore.Config{}},
		{"Prefix", redisstore.Config{Prefix: "a{b"}},
		{"Timeout", redisstore.Config{Prefix: "p:", Timeout: -1}},
		{"FailureThreshold", redisstore.Config{Prefix: "p:", FailureThreshold: -1}},
		{"Cooldown", redisstore.Config{Prefix: "p:", Cooldown: -time.Second}},
	} {
		_, err := redisstore.New(c, tc.cfg)
		require.ErrorIs(t, err, redisstore.ErrInvalidConfig, tc.field)
		assert.Contains(t, err.Error(), tc.field)
	}
	_, err := redisstore.New(nil, redisstore.Config{Prefix: "p:"})
	assert.ErrorIs(t, err, redisstore.ErrInvalidConfig)
	_, err = redisstore.New(c, redisstore.Config{Prefix: "p:"})
	assert.NoError(t, err)
}

// TestNewRequiresPrefix shows a store cannot be made without a prefix of its own, so two
// services on one Redis cannot share counters by default.
func TestNewRequiresPrefix(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer c.Close()
	_, err := redisstore.New(c, redisstore.Config{})
	require.ErrorIs(t, err, redisstore.ErrInvalidConfig)
	assert.Contains(t, err.Error(), "Prefix is required")
}

func TestInvalidRuleRejected(t *testing.T) {
	c, prefix := testenv.Redis(t)
	s, err := redisstore.New(c, redisstore.Config{Prefix: prefix, Timeout: 2 * time.Second})
	require.NoError(t, err)
	_, err = s.Take(context.Background(), "k", nil, store.FixedWindow, 1)
	assert.ErrorIs(t, err, store.ErrInvalidRule)
	_, err = s.Take(context.Background(), "k", ratelimit.MustParseRule("1/second"), store.Strategy(9), 1)
	assert.ErrorIs(t, err, store.ErrUnsupported)
}

func TestCallerCancellationDoesNotTripBreaker(t *testing.T) {
	c, prefix := testenv.Redis(t)
	s, err := redisstore.New(c, redisstore.Config{Prefix: prefix, FailureThreshold: 1, Timeout: 2 * time.Second})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = s.Take(ctx, "k", ratelimit.MustParseRule("1/second"), store.FixedWindow, 1)
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.Canceled))
	assert.False(t, s.CircuitOpen())
}
