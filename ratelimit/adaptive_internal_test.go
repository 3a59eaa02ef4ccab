package ratelimit

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// window feeds a full window of requests that each took rtt, with inFlight requests in
// flight, and returns the time it closed.
func window(a *adaptive, now, rtt time.Duration, inFlight int) time.Duration {
	for i := range adaptiveMinSamples {
		a.admitted(inFlight)
		end := now + adaptiveWindow*time.Duration(i+1)/adaptiveMinSamples
		a.sample(end-rtt, end, inFlight-1)
	}
	return now + adaptiveWindow
}

func TestAdaptiveProbesFirst(t *testing.T) {
	t0 := time.Hour
	a := newAdaptive(2, 100, 1.5, time.Minute, t0)
	require.True(t, a.probing)
	assert.Equal(t, 2, a.current())

	// A request admitted before the probe does not count.
	a.sample(t0-time.Second, t0+time.Second, 0)
	assert.Equal(t, 0, a.n)

	now := window(a, t0, 10*time.Millisecond, 2)
	assert.False(t, a.probing)
	assert.Equal(t, 10*time.Millisecond, a.noLoad)
	assert.Equal(t, 2, a.current())

	// The limit grows by its square root while latency holds and the slots are used.
	now = window(a, now, 12*time.Millisecond, 2)
	assert.InDelta(t, 2+1.414, a.limit, 0.01)
	assert.Equal(t, 3, a.current())
	now = window(a, now, 14*time.Millisecond, 3)
	assert.InDelta(t, 3.414+1.848, a.limit, 0.01)
	_ = now
}

func TestAdaptiveShrinksAtMostByHalf(t *testing.T) {
	t0 := time.Hour
	a := newAdaptive(1, 1000, 1.5, time.Hour, t0)
	now := window(a, t0, 10*time.Millisecond, 1)
	a.limit = 400
	now = window(a, now, 20*time.Millisecond, 400) // gradient 0.75
	assert.InDelta(t, 400*0.75+20, a.limit, 0.01)
	before := a.limit
	window(a, now, time.Second, 400) // gradient clamped at 0.5
	assert.InDelta(t, before*0.5+math.Sqrt(before), a.limit, 0.01)
}

func TestAdaptiveNoGrowthWhenAppLimited(t *testing.T) {
	t0 := time.Hour
	a := newAdaptive(1, 1000, 1.5, time.Hour, t0)
	now := window(a, t0, 10*time.Millisecond, 1)
	a.limit = 50
	now = window(a, now, 10*time.Millisecond, 24) // less than half the limit used
	assert.Equal(t, 50.0, a.limit)
	window(a, now, 10*time.Millisecond, 25)
	assert.Greater(t, a.limit, 50.0)
}

func TestAdaptiveFollowsLowerLatencyAtOnce(t *testing.T) {
	t0 := time.Hour
	a := newAdaptive(1, 1000, 1.5, time.Hour, t0)
	now := window(a, t0, 10*time.Millisecond, 1)
	window(a, now, 4*time.Millisecond, 1)
	assert.Equal(t, 4*time.Millisecond, a.noLoad)
}

func TestAdaptiveProbesAgain(t *testing.T) {
	t0 := time.Hour
	a := newAdaptive(2, 100, 1.5, time.Minute, t0)
	now := window(a, t0, 10*time.Millisecond, 2)
	require.False(t, a.probing)
	// Every minute, plus at most 15 %.
	assert.GreaterOrEqual(t, a.nextProbe-now, time.Minute)
	assert.Less(t, a.nextProbe-now, time.Minute*115/100)
	for now < a.nextProbe {
		require.False(t, a.probing)
		now = window(a, now, 10*time.Millisecond, a.current())
	}
	assert.True(t, a.probing)
	grown := a.limit
	assert.Equal(t, 2, a.current(), "held at the minimum")
	// The probe measures the latency at the minimum, from the requests admitted after
	// it began; the limit resumes afterwards.
	now = window(a, now+time.Second, 30*time.Millisecond, 2)
	assert.False(t, a.probing)
	assert.Equal(t, 30*time.Millisecond, a.noLoad)
	assert.Equal(t, grown, a.limit)

	// Five windows in a row with latency beyond twice the tolerance call for a new
	// measurement; four do not.
	for i := range adaptiveProbePinned - 1 {
		now = window(a, now, 91*time.Millisecond, a.current())
		require.False(t, a.probing, "window %d", i)
	}
	now = window(a, now, 89*time.Millisecond, a.current())
	for i := range adaptiveProbePinned - 1 {
		now = window(a, now, 91*time.Millisecond, a.current())
		require.False(t, a.probing, "window %d", i)
	}
	window(a, now, 90*time.Millisecond, a.current())
	assert.True(t, a.probing)
}
