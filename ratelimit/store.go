package ratelimit

import (
	"context"
	"time"
)

// Store keeps the counters of keys. Take checks every limit of rule for key and, only
// when all of them admit cost more units, charges all of them; a rejected take charges
// nothing. It reports the state of every limit either way. Errors are backend failures,
// never a rejection. A key must always be taken with the same rule and strategy; a
// store may reset a key whose rule changed. Implementations are safe for concurrent use
// and are checked by the suite in package ratelimit/storetest.
type Store interface {
	Take(ctx context.Context, key string, rule Rule, strategy Strategy, cost uint64) (Decision, error)
}

// Decision is the outcome of a Take. It is a value with no pointers, so returning it
// does not allocate.
type Decision struct {
	// Allowed reports whether the units were charged.
	Allowed bool
	// N is the number of limits described in Limits, in rule order.
	N int
	// Limits holds the state of each limit after the take.
	Limits [MaxLimits]LimitStatus
	// at is the instant, in Unix nanoseconds of the store's clock, at which a
	// MemoryStore took the decision, so that a limiter sharing that clock need not read
	// it again for X-RateLimit-Reset; zero from every other store.
	at int64
}

// LimitStatus is the state of one limit after a take.
type LimitStatus struct {
	Limit Limit
	// Remaining is the number of units the window still admits.
	Remaining uint64
	// Reset is the time until the window's quota is whole again.
	Reset time.Duration
	// RetryAfter is the time until a take of the same cost would fit this limit; zero
	// when it fits now.
	RetryAfter time.Duration
}

// RetryAfter is zero for an admitted decision, and otherwise the longest RetryAfter of
// the limits: the time after which the same take can succeed.
func (d *Decision) RetryAfter() time.Duration {
	if d.Allowed {
		return 0
	}
	var max time.Duration
	for i := 0; i < d.N; i++ {
		if r := d.Limits[i].RetryAfter; r > max {
			max = r
		}
	}
	return max
}

// Tightest returns the limit that constrains the client most: for a rejected decision
// the one that blocks longest, otherwise the one with the fewest units remaining (the
// shortest reset on a tie). It is the limit legacy X-RateLimit-* headers describe.
func (d *Decision) Tightest() LimitStatus {
	if i := d.tightest(); i >= 0 {
		return d.Limits[i]
	}
	return LimitStatus{}
}

// tightest returns the index in Limits of the limit Tightest returns, or -1 when N is 0.
func (d *Decision) tightest() int {
	if d.N == 0 {
		return -1
	}
	best := 0
	for i := 1; i < d.N; i++ {
		c, b := &d.Limits[i], &d.Limits[best]
		if !d.Allowed {
			if c.RetryAfter > b.RetryAfter {
				best = i
			}
			continue
		}
		if c.Remaining < b.Remaining || (c.Remaining == b.Remaining && c.Reset < b.Reset) {
			best = i
		}
	}
	return best
}

// Evaluate applies one take to the states of a key's limits at now (Unix nanoseconds):
// it advances every state, charges cost to all of them when all fit, and describes the
// outcome. It is the arithmetic the memory store uses, exported so other stores can
// share it. states must have len(rule) elements; they are updated only when the take is
// allowed.
func Evaluate(rule Rule, s Strategy, states []WindowState, now int64, cost uint64) Decision {
	var d Decision
	evaluate(&d, rule, s, states, now, cost)
	return d
}

// evaluate is Evaluate into *d. For an allowed take it returns the Unix time in
// nanoseconds after which no window of the charged states counts anything; zero
// otherwise. Each strategy has its own loop, so that the fixed window's status is
// inlined.
func evaluate(d *Decision, rule Rule, s Strategy, states []WindowState, now int64, cost uint64) (expires int64) {
	states = states[:len(rule)]
	d.N = len(rule)
	allowed := true
	for i, l := range rule {
		if !s.Fits(l, s.Advance(l, states[i], now), now, cost) {
			allowed = false
			break
		}
	}
	d.Allowed = allowed
	limits := d.Limits[:len(rule)]
	if s == SlidingWindow {
		for i, l := range rule {
			st := s.Advance(l, states[i], now)
			if allowed {
				st.Count += cost
				states[i] = st
				expires = max(expires, (st.Start+2)*int64(l.Period))
			}
			slidingStatus(&limits[i], l, st, now, cost)
		}
		return expires
	}
	for i, l := range rule {
		st := s.Advance(l, states[i], now)
		if allowed {
			st.Count += cost
			states[i] = st
			expires = max(expires, st.Start+int64(l.Period))
		}
		fixedStatus(&limits[i], l, st, now, cost)
	}
	return expires
}
