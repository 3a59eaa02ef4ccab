package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/sethvargo/go-limiter/memorystore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-reussite/harden/ratelimit/store"
	"github.com/nexus-reussite/harden/ratelimit/storetest"
)

// mapStore is the smallest store built on Evaluate: states in a map under one lock.
type mapStore struct {
	mu     sync.Mutex
	now    func() time.Time
	states map[string][]store.WindowState
}

func (s *mapStore) Take(_ context.Context, key string, rule store.Rule, strategy store.Strategy, cost uint64) (store.Decision, error) {
	if err := rule.Validate(); err != nil {
		return store.Decision{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := key + "|" + strategy.String() + "|" + rule.String()
	st, ok := s.states[k]
	if !ok {
		st = make([]store.WindowState, len(rule))
		s.states[k] = st
	}
	var d store.Decision
	store.Evaluate(&d, rule, strategy, st, s.now().UnixNano(), cost)
	return d, nil
}

// TestEvaluateConformance runs the conformance suite on a store that is nothing but
// Evaluate, the arithmetic every store shares.
func TestEvaluateConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, clock *storetest.Clock) store.Store {
		return &mapStore{now: clock.Now, states: map[string][]store.WindowState{}}
	})
}

func TestEvaluateExpires(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 30, 0, time.UTC).UnixNano()
	rule := store.Rule{{Count: 2, Period: time.Minute}, {Count: 10, Period: time.Hour}}
	st := make([]store.WindowState, 2)
	var d store.Decision
	expires := store.Evaluate(&d, rule, store.FixedWindow, st, now, 1)
	require.True(t, d.Allowed)
	assert.Equal(t, now+int64(time.Hour), expires, "the hour window opened now")
	expires = store.Evaluate(&d, rule, store.FixedWindow, st, now, 2)
	assert.False(t, d.Allowed)
	assert.Zero(t, expires, "a rejected take changes no state")
	assert.Equal(t, uint64(1), st[0].Count)

	st = make([]store.WindowState, 2)
	expires = store.Evaluate(&d, rule, store.SlidingWindow, st, now, 1)
	hourIndex := now / int64(time.Hour)
	assert.Equal(t, (hourIndex+2)*int64(time.Hour), expires, "the hour window weighs in the next one")
}

func TestDecisionHelpers(t *testing.T) {
	var d store.Decision
	assert.Equal(t, store.LimitStatus{}, d.Tightest())
	assert.Zero(t, d.RetryAfter())
	minute := store.Limit{Count: 5, Period: time.Minute}
	hour := store.Limit{Count: 100, Period: time.Hour}
	d = store.Decision{Allowed: true, N: 2}
	d.Limits[0] = store.LimitStatus{Limit: minute, Remaining: 3, Reset: 30 * time.Second}
	d.Limits[1] = store.LimitStatus{Limit: hour, Remaining: 3, Reset: 20 * time.Minute}
	assert.Equal(t, minute, d.Tightest().Limit, "fewest remaining, then the shortest reset")
	assert.Zero(t, d.RetryAfter())
	d.Allowed = false
	d.Limits[1].RetryAfter = 20 * time.Minute
	d.Limits[0].RetryAfter = 30 * time.Second
	assert.Equal(t, hour, d.Tightest().Limit, "the limit that blocks longest")
	assert.Equal(t, 20*time.Minute, d.RetryAfter())
}

func TestRuleString(t *testing.T) {
	r := store.Rule{
		{Count: 1000, Period: 24 * time.Hour}, {Count: 5, Period: 30 * time.Second},
		{Count: 7, Period: 30 * 24 * time.Hour}, {Count: 3, Period: 1500 * time.Millisecond},
	}
	assert.Equal(t, "1000 per day;5 per 30 seconds;7 per month;3 per 1.5s", r.String())
	assert.NoError(t, r.Validate())
	for _, bad := range []store.Rule{
		nil,
		{{Count: 0, Period: time.Second}},
		{{Count: store.MaxCount + 1, Period: time.Second}},
		{{Count: 1, Period: time.Microsecond}},
		{{Count: 1, Period: store.MaxPeriod + time.Millisecond}},
		make(store.Rule, store.MaxLimits+1),
	} {
		assert.ErrorIs(t, bad.Validate(), store.ErrInvalidRule, "%v", bad)
	}
}

func TestGoLimiter(t *testing.T) {
	s, err := memorystore.New(&memorystore.Config{Tokens: 1, Interval: time.Hour})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	g := store.NewGoLimiter(s)
	_, err = g.Take(context.Background(), "k", store.Rule{{Count: 1, Period: time.Second}}, store.SlidingWindow, 1)
	assert.ErrorIs(t, err, store.ErrUnsupported)
	five := store.Rule{{Count: 5, Period: time.Minute}}
	d, err := g.Take(context.Background(), "k", five, store.FixedWindow, 3)
	require.NoError(t, err)
	assert.True(t, d.Allowed)
	assert.Equal(t, uint64(2), d.Limits[0].Remaining)
	d, err = g.Take(context.Background(), "k", five, store.FixedWindow, 3)
	require.NoError(t, err)
	assert.False(t, d.Allowed)
	assert.Positive(t, d.RetryAfter())

	require.NoError(t, s.Close(context.Background()))
	_, err = g.Take(context.Background(), "k2", five, store.FixedWindow, 1)
	assert.ErrorIs(t, err, store.ErrUnavailable)
}
