package ratelimit

import (
	"math"
	"math/rand/v2"
	"time"
)

// Windows of the adaptive limit: a window closes at the first completion after it has
// lasted adaptiveWindow and seen adaptiveMinSamples completions.
const (
	adaptiveWindow     = 100 * time.Millisecond
	adaptiveMinSamples = 10
	// adaptiveProbePinned is how many windows in a row may see the gradient at its
	// floor before the no-load latency is measured again.
	adaptiveProbePinned = 5
)

// adaptive is a concurrency limit that follows latency, after the gradient controllers
// of Envoy's adaptive concurrency filter and Netflix's concurrency-limits.
//
// Completed requests are gathered in windows. When a window closes, the mean latency of
// its requests is compared with the no-load latency:
//
//	gradient = clamp(tolerance × noLoad / mean, 0.5, 1)
//	limit    = clamp(limit × gradient + √limit, min, max)
//
// While the latency stays within tolerance of the no-load latency the limit grows by its
// square root each window; beyond, it shrinks in proportion, at most by half a window,
// down to where the √limit headroom balances the excess latency. The limit does not grow
// in a window that used less than half of it: idle capacity says nothing about what the
// service can take.
//
// The no-load latency is measured by a probe: the limit is held at min for one window,
// sampling only the requests admitted during it. A probe runs at the start, every probe
// interval (plus up to 15 % at random, so that instances do not probe together) and
// after adaptiveProbePinned windows in a row with the gradient at its floor (latency
// at twice the tolerance or more), when the measurement no longer seems to hold. A
// window whose mean is below the no-load latency lowers it at once.
//
// Instants are durations on the monotonic clock of the Concurrency holding the
// adaptive, which locks it: an adaptive is not safe for concurrent use.
type adaptive struct {
	min, max  float64
	tolerance float64
	every     time.Duration

	limit     float64
	noLoad    time.Duration
	probing   bool
	probeFrom time.Duration // during a probe, requests admitted before are not sampled
	nextProbe time.Duration
	pinned    int // consecutive windows closed with the gradient at its floor

	// The window being gathered.
	from time.Duration
	sum  time.Duration
	n    int
	peak int // most requests in flight during the window
}

func newAdaptive(minLimit, maxLimit int, tolerance float64, every, now time.Duration) *adaptive {
	a := &adaptive{
		min:       float64(minLimit),
		max:       float64(maxLimit),
		tolerance: tolerance,
		every:     every,
		limit:     float64(minLimit),
	}
	a.startProbe(now)
	return a
}

// current returns the limit in force.
func (a *adaptive) current() int {
	if a.probing {
		return int(a.min)
	}
	return int(a.limit)
}

// admitted records that a request was admitted with inFlight requests now in flight.
func (a *adaptive) admitted(inFlight int) {
	a.peak = max(a.peak, inFlight)
}

// sample records a request admitted at start that completed at now, leaving inFlight
// requests in flight, and closes the window when it is complete.
func (a *adaptive) sample(start, now time.Duration, inFlight int) {
	if a.probing && start < a.probeFrom {
		return
	}
	a.sum += now - start
	a.n++
	if a.n >= adaptiveMinSamples && now-a.from >= adaptiveWindow {
		a.update(now, inFlight)
	}
}

// update closes the window at now and adjusts the limit.
func (a *adaptive) update(now time.Duration, inFlight int) {
	mean := max(a.sum/time.Duration(a.n), time.Nanosecond)
	peak := a.peak
	a.from, a.sum, a.n, a.peak = now, 0, 0, inFlight

	if a.probing {
		a.noLoad = mean
		a.probing = false
		a.pinned = 0
		a.nextProbe = now + a.every + probeJitter(a.every*15/100)
		return
	}
	a.noLoad = min(a.noLoad, mean)
	gradient := min(1, max(0.5, a.tolerance*float64(a.noLoad)/float64(mean)))
	next := a.limit*gradient + math.Sqrt(a.limit)
	if next > a.limit && float64(peak) < a.limit/2 {
		next = a.limit
	}
	a.limit = min(a.max, max(a.min, next))

	if gradient == 0.5 {
		a.pinned++
	} else {
		a.pinned = 0
	}
	if a.pinned >= adaptiveProbePinned || now >= a.nextProbe {
		a.startProbe(now)
	}
}

func (a *adaptive) startProbe(now time.Duration) {
	a.probing = true
	a.probeFrom = now
	a.from, a.sum, a.n = now, 0, 0
}

// probeJitter returns a random duration in [0, d).
func probeJitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return rand.N(d)
}
