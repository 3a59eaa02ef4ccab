package ratelimit

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMemoryTakeBytes shows takeBytes and Take count the same keys, and that a key
// first seen through takeBytes is copied: reusing the caller's buffer changes nothing.
func TestMemoryTakeBytes(t *testing.T) {
	s, err := NewMemoryStore(MemoryConfig{})
	require.NoError(t, err)
	rule := MustParseRule("2 per minute")
	buf := []byte("k:one")
	d, err := s.takeBytes(buf, rule, FixedWindow, 1)
	require.NoError(t, err)
	assert.True(t, d.Allowed)
	copy(buf, "k:two")
	d, err = s.takeBytes(buf, rule, FixedWindow, 1)
	require.NoError(t, err)
	assert.True(t, d.Allowed)
	assert.Equal(t, uint64(1), d.Limits[0].Remaining, "k:two is a key of its own")

	d, err = s.Take(context.Background(), "k:one", rule, FixedWindow, 1)
	require.NoError(t, err)
	assert.True(t, d.Allowed)
	assert.Zero(t, d.Limits[0].Remaining, "Take counts on the key takeBytes created")
	d, err = s.takeBytes([]byte("k:one"), rule, FixedWindow, 1)
	require.NoError(t, err)
	assert.False(t, d.Allowed)
	assert.Equal(t, 2, s.Len())

	_, err = s.takeBytes(buf, nil, FixedWindow, 1)
	assert.ErrorIs(t, err, ErrInvalidRule)
	assert.Zero(t, testing.AllocsPerRun(100, func() { _, _ = s.takeBytes(buf, rule, FixedWindow, 1) }))
}

// BenchmarkMemoryTakeBytes is the memory store's cost per admitted take of one known
// key on the three-window rule of benchmarks/stack, for each strategy, serially.
func BenchmarkMemoryTakeBytes(b *testing.B) {
	rule := MustParseRule("1000000000000 per day;100000000000 per hour;1000000000 per second")
	for _, st := range []Strategy{FixedWindow, SlidingWindow} {
		b.Run(st.String(), func(b *testing.B) {
			s, err := NewMemoryStore(MemoryConfig{})
			require.NoError(b, err)
			key := []byte("default:ip:198.51.100.7")
			b.ReportAllocs()
			for b.Loop() {
				if d, _ := s.takeBytes(key, rule, st, 1); !d.Allowed {
					b.Fatal("rejected")
				}
			}
		})
	}
}

// referenceEvaluate is evaluate written plainly, with the expiry of the charged states
// computed afterwards from them.
func referenceEvaluate(rule Rule, s Strategy, states []WindowState, now int64, cost uint64) (Decision, int64) {
	d := Decision{N: len(rule), Allowed: true}
	for i, l := range rule {
		if !s.Fits(l, s.Advance(l, states[i], now), now, cost) {
			d.Allowed = false
		}
	}
	for i, l := range rule {
		st := s.Advance(l, states[i], now)
		if d.Allowed {
			st.Count += cost
			states[i] = st
		}
		d.Limits[i] = s.Status(l, st, now, cost)
	}
	if !d.Allowed {
		return d, 0
	}
	var exp int64
	for i, l := range rule {
		p := int64(l.Period)
		if s == SlidingWindow {
			exp = max(exp, (states[i].Start+2)*p)
		} else {
			exp = max(exp, states[i].Start+p)
		}
	}
	return d, exp
}

// TestEvaluateMatchesReference runs evaluate and referenceEvaluate on random rules,
// states, instants and costs: same decision, same states, same expiry.
func TestEvaluateMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		rule := make(Rule, 1+rng.IntN(MaxLimits))
		for i := range rule {
			rule[i] = Limit{Count: 1 + rng.Uint64N(20), Period: time.Duration(1+rng.IntN(5000)) * time.Millisecond}
		}
		s := Strategy(rng.IntN(2))
		now := int64(1_900_000_000e9) + rng.Int64N(int64(10*time.Second))
		states := make([]WindowState, len(rule))
		for i, l := range rule {
			p := int64(l.Period)
			if s == SlidingWindow {
				states[i] = WindowState{Start: now/p - rng.Int64N(3), Count: rng.Uint64N(l.Count + 2), Prev: rng.Uint64N(l.Count + 2)}
			} else {
				states[i] = WindowState{Start: now - rng.Int64N(2*p), Count: rng.Uint64N(l.Count + 2)}
			}
		}
		want := append([]WindowState(nil), states...)
		cost := 1 + rng.Uint64N(3)
		var d Decision
		exp := evaluate(&d, rule, s, states, now, cost)
		wantD, wantExp := referenceEvaluate(rule, s, want, now, cost)
		require.Equal(t, wantD, d)
		require.Equal(t, want, states)
		require.Equal(t, wantExp, exp)
	}
}
