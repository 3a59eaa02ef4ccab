package ratelimit_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-reussite/harden/ratelimit"
)

// TestDefaultRuleOverTime walks the default rule through a day of fake time: the
// middleware and the memory store read the bubble's clock.
func TestDefaultRuleOverTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLimiter(t, ratelimit.Config{})
		h := l.Handler(okHandler)
		const ip = "192.0.2.1:1"
		assert.Equal(t, []int{200, 200, 429}, codes(h, 3, "GET", "/", ip))
		time.Sleep(time.Second)
		assert.Equal(t, []int{200, 200, 429}, codes(h, 3, "GET", "/", ip))
		// 96 more within the hour, two per second.
		for range 48 {
			time.Sleep(time.Second)
			require.Equal(t, []int{200, 200}, codes(h, 2, "GET", "/", ip))
		}
		time.Sleep(time.Second)
		w := do(h, "GET", "/", ip)
		require.Equal(t, 429, w.Code, "100 per hour reached")
		// The hour opened 50 s ago.
		assert.Equal(t, strconv.Itoa(3600-50), w.Header().Get("Retry-After"))
		time.Sleep(3550*time.Second - time.Nanosecond)
		assert.Equal(t, 429, do(h, "GET", "/", ip).Code)
		time.Sleep(time.Nanosecond)
		assert.Equal(t, 200, do(h, "GET", "/", ip).Code)
		w = do(h, "GET", "/", ip)
		assert.Equal(t, `"default-1d";r=898;t=82800, "default-1h";r=98;t=3600, "default-1s";r=0;t=1`, w.Header().Get("RateLimit"))
	})
}

// TestSlidingWindowOverTime checks the sliding counter through the middleware: no
// second burst right after a window edge, and a smooth refill.
func TestSlidingWindowOverTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLimiter(t, ratelimit.Config{Rule: ratelimit.MustParseRule("60 per minute"), Strategy: ratelimit.SlidingWindow})
		h := l.Handler(okHandler)
		const ip = "192.0.2.1:1"
		// Align to a minute boundary of the bubble's clock, then burst late in it.
		time.Sleep(time.Until(time.Now().Truncate(time.Minute).Add(time.Minute + 45*time.Second)))
		admitted := 0
		for range 70 {
			if do(h, "GET", "/", ip).Code == 200 {
				admitted++
			}
		}
		require.Equal(t, 60, admitted)
		// 30 s later the previous minute still weighs 45/60: 15 requests fit, not 60.
		time.Sleep(30 * time.Second)
		admitted = 0
		for range 70 {
			if do(h, "GET", "/", ip).Code == 200 {
				admitted++
			}
		}
		assert.Equal(t, 15, admitted)
		// Every further second frees one request.
		for range 5 {
			time.Sleep(time.Second)
			assert.Equal(t, []int{200, 429}, codes(h, 2, "GET", "/", ip))
		}
	})
}

func TestMemoryStoreSweepsIdleKeys(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{SweepInterval: time.Minute})
		require.NoError(t, err)
		ctx := context.Background()
		second := ratelimit.MustParseRule("1 per second")
		hour := ratelimit.MustParseRule("1 per hour")
		for i := range 1000 {
			_, err := s.Take(ctx, "short:"+strconv.Itoa(i), second, ratelimit.FixedWindow, 1)
			require.NoError(t, err)
		}
		_, err = s.Take(ctx, "long", hour, ratelimit.SlidingWindow, 1)
		require.NoError(t, err)
		assert.Equal(t, 1001, s.Len())
		time.Sleep(2 * time.Second)
		assert.Equal(t, 1001, s.Len(), "nothing sweeps before SweepInterval")
		time.Sleep(time.Minute)
		// New keys trigger the sweep of their shard; enough of them reach every shard.
		for i := range 1000 {
			_, err := s.Take(ctx, "new:"+strconv.Itoa(i), second, ratelimit.FixedWindow, 1)
			require.NoError(t, err)
		}
		assert.Equal(t, 1001, s.Len(), "the idle keys were replaced by the new ones")
		d, err := s.Take(ctx, "long", hour, ratelimit.SlidingWindow, 1)
		require.NoError(t, err)
		assert.False(t, d.Allowed, "a key inside its window is kept")
		time.Sleep(3 * time.Hour)
		assert.Equal(t, 1001, s.Sweep())
		assert.Zero(t, s.Len())
	})
}

func TestMemoryStoreBounded(t *testing.T) {
	s, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{MaxKeys: 128})
	require.NoError(t, err)
	rule := ratelimit.MustParseRule("1 per hour")
	for i := range 5000 {
		_, err := s.Take(context.Background(), "k"+strconv.Itoa(i), rule, ratelimit.FixedWindow, 1)
		require.NoError(t, err)
	}
	assert.LessOrEqual(t, s.Len(), 128)
	assert.Equal(t, uint64(5000-s.Len()), s.Evictions())

	_, err = ratelimit.NewMemoryStore(ratelimit.MemoryConfig{MaxKeys: -1})
	assert.ErrorIs(t, err, ratelimit.ErrInvalidConfig)
	_, err = s.Take(context.Background(), "k", nil, ratelimit.FixedWindow, 1)
	assert.ErrorIs(t, err, ratelimit.ErrInvalidRule)
	_, err = s.Take(context.Background(), "k", rule, ratelimit.Strategy(5), 1)
	assert.ErrorIs(t, err, ratelimit.ErrInvalidRule)
}

func TestMemoryStoreRuleChangeResetsKey(t *testing.T) {
	s, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{})
	require.NoError(t, err)
	ctx := context.Background()
	d, _ := s.Take(ctx, "k", ratelimit.MustParseRule("1 per hour"), ratelimit.FixedWindow, 1)
	require.True(t, d.Allowed)
	d, _ = s.Take(ctx, "k", ratelimit.MustParseRule("1 per hour"), ratelimit.FixedWindow, 1)
	require.False(t, d.Allowed)
	d, _ = s.Take(ctx, "k", ratelimit.MustParseRule("2 per hour"), ratelimit.FixedWindow, 1)
	assert.True(t, d.Allowed, "a new count on the same period keeps the window")
	d, _ = s.Take(ctx, "k", ratelimit.MustParseRule("1 per minute"), ratelimit.FixedWindow, 1)
	assert.True(t, d.Allowed, "another period starts afresh")
}

func TestGoLimiterStoreAdapter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLimiter(t, ratelimit.Config{
			Rule:  ratelimit.MustParseRule("3 per minute"),
			Store: ratelimit.NewGoLimiterStore(mustGoLimiterMemory(t)),
		})
		h := l.Handler(okHandler)
		assert.Equal(t, []int{200, 200, 200, 429}, codes(h, 4, "GET", "/", "192.0.2.1:1"))
		w := do(h, "GET", "/", "192.0.2.2:1")
		assert.Equal(t, http.StatusOK, w.Code)
		assert.Equal(t, "2", w.Header().Get("X-RateLimit-Remaining"))
	})
	store := ratelimit.NewGoLimiterStore(mustGoLimiterMemory(t))
	_, err := store.Take(context.Background(), "k", ratelimit.MustParseRule("1/second"), ratelimit.SlidingWindow, 1)
	assert.ErrorIs(t, err, ratelimit.ErrUnsupported)
	d, err := store.Take(context.Background(), "k", ratelimit.MustParseRule("5/minute"), ratelimit.FixedWindow, 3)
	require.NoError(t, err)
	assert.True(t, d.Allowed)
	assert.Equal(t, uint64(2), d.Limits[0].Remaining)
}
