package ratelimit

import (
	"context"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-reussite/harden/ratelimit/store"
	"github.com/nexus-reussite/harden/ratelimit/storetest"
)

func TestMemoryStoreConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, clock *storetest.Clock) store.Store {
		s, err := newMemoryStore(memoryConfig{Now: clock.Now})
		require.NoError(t, err)
		return s
	})
}

// TestMemoryTakeBytes shows takeBytes and Take count the same keys, and that a key
// first seen through takeBytes is copied: reusing the caller's buffer changes nothing.
func TestMemoryTakeBytes(t *testing.T) {
	s, err := newMemoryStore(memoryConfig{})
	require.NoError(t, err)
	rule := MustParseRule("2 per minute")
	buf := []byte("k:one")
	var d store.Decision
	_, err = s.takeBytes(&d, buf, rule, store.FixedWindow, 1)
	require.NoError(t, err)
	assert.True(t, d.Allowed)
	copy(buf, "k:two")
	_, err = s.takeBytes(&d, buf, rule, store.FixedWindow, 1)
	require.NoError(t, err)
	assert.True(t, d.Allowed)
	assert.Equal(t, uint64(1), d.Limits[0].Remaining, "k:two is a key of its own")

	d, err = s.Take(context.Background(), "k:one", rule, store.FixedWindow, 1)
	require.NoError(t, err)
	assert.True(t, d.Allowed)
	assert.Zero(t, d.Limits[0].Remaining, "Take counts on the key takeBytes created")
	_, err = s.takeBytes(&d, []byte("k:one"), rule, store.FixedWindow, 1)
	require.NoError(t, err)
	assert.False(t, d.Allowed)
	assert.Equal(t, 2, s.len())

	_, err = s.takeBytes(&d, buf, nil, store.FixedWindow, 1)
	assert.ErrorIs(t, err, ErrInvalidRule)
}

// BenchmarkMemoryTakeBytes is the memory store's cost per admitted take of one known
// key on the three-window rule of benchmarks/stack, for each strategy, serially.
func BenchmarkMemoryTakeBytes(b *testing.B) {
	rule := MustParseRule("1000000000000 per day;100000000000 per hour;1000000000 per second")
	for _, st := range []store.Strategy{store.FixedWindow, store.SlidingWindow} {
		b.Run(st.String(), func(b *testing.B) {
			s, err := newMemoryStore(memoryConfig{})
			require.NoError(b, err)
			key := []byte("default:ip:198.51.100.7")
			var d store.Decision
			b.ReportAllocs()
			for b.Loop() {
				if _, _ = s.takeBytes(&d, key, rule, st, 1); !d.Allowed {
					b.Fatal("rejected")
				}
			}
		})
	}
}

func TestMemoryStoreSweepsIdleKeys(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, err := newMemoryStore(memoryConfig{SweepInterval: time.Minute})
		require.NoError(t, err)
		ctx := context.Background()
		second := MustParseRule("1 per second")
		hour := MustParseRule("1 per hour")
		for i := range 1000 {
			_, err := s.Take(ctx, "short:"+strconv.Itoa(i), second, store.FixedWindow, 1)
			require.NoError(t, err)
		}
		_, err = s.Take(ctx, "long", hour, store.SlidingWindow, 1)
		require.NoError(t, err)
		assert.Equal(t, 1001, s.len())
		time.Sleep(2 * time.Second)
		assert.Equal(t, 1001, s.len(), "nothing sweeps before SweepInterval")
		time.Sleep(time.Minute)
		// New keys trigger the sweep of their shard; enough of them reach every shard.
		for i := range 1000 {
			_, err := s.Take(ctx, "new:"+strconv.Itoa(i), second, store.FixedWindow, 1)
			require.NoError(t, err)
		}
		assert.Equal(t, 1001, s.len(), "the idle keys were replaced by the new ones")
		d, err := s.Take(ctx, "long", hour, store.SlidingWindow, 1)
		require.NoError(t, err)
		assert.False(t, d.Allowed, "a key inside its window is kept")
		time.Sleep(3 * time.Hour)
		assert.Equal(t, 1001, s.sweepAll())
		assert.Zero(t, s.len())
	})
}

func TestMemoryStoreBounded(t *testing.T) {
	s, err := newMemoryStore(memoryConfig{MaxKeys: 128})
	require.NoError(t, err)
	rule := MustParseRule("1 per hour")
	for i := range 5000 {
		_, err := s.Take(context.Background(), "k"+strconv.Itoa(i), rule, store.FixedWindow, 1)
		require.NoError(t, err)
	}
	assert.LessOrEqual(t, s.len(), 128)
	assert.Equal(t, uint64(5000-s.len()), s.evictions.Load())

	_, err = newMemoryStore(memoryConfig{MaxKeys: -1})
	assert.ErrorIs(t, err, ErrInvalidConfig)
	_, err = s.Take(context.Background(), "k", nil, store.FixedWindow, 1)
	assert.ErrorIs(t, err, ErrInvalidRule)
	_, err = s.Take(context.Background(), "k", rule, store.Strategy(5), 1)
	assert.ErrorIs(t, err, ErrInvalidRule)
}

func TestMemoryStoreRuleChangeResetsKey(t *testing.T) {
	s, err := newMemoryStore(memoryConfig{})
	require.NoError(t, err)
	ctx := context.Background()
	d, _ := s.Take(ctx, "k", MustParseRule("1 per hour"), store.FixedWindow, 1)
	require.True(t, d.Allowed)
	d, _ = s.Take(ctx, "k", MustParseRule("1 per hour"), store.FixedWindow, 1)
	require.False(t, d.Allowed)
	d, _ = s.Take(ctx, "k", MustParseRule("2 per hour"), store.FixedWindow, 1)
	assert.True(t, d.Allowed, "a new count on the same period keeps the window")
	d, _ = s.Take(ctx, "k", MustParseRule("1 per minute"), store.FixedWindow, 1)
	assert.True(t, d.Allowed, "another period starts afresh")
}
