package store

import (
	"context"
	"errors"
	"time"
)

var (
	// ErrInvalidRule is wrapped by every rule validation error, and by the errors of
	// ratelimit.ParseRule.
	ErrInvalidRule = errors.New("ratelimit: invalid rule")
	// ErrUnavailable is wrapped by store errors that mean the backend could not be
	// asked (down, timed out, circuit open). A ratelimit.Limiter applies its failure
	// policy to every store error, not only these.
	ErrUnavailable = errors.New("ratelimit: store unavailable")
	// ErrUnsupported is returned by a store asked for a strategy it cannot enforce.
	ErrUnsupported = errors.New("ratelimit: unsupported by store")
)

// Store keeps the counters of keys. Take checks every limit of rule for key and, only
// when all of them admit cost more units, charges all of them; a rejected take charges
// nothing. It reports the state of every limit either way. Errors are backend failures,
// never a rejection. A key must always be taken with the same rule and strategy; a
// store may reset a key whose rule changed. Implementations are safe for concurrent use
// and pass the suite in package ratelimit/storetest.
type Store interface {
	Take(ctx context.Context, key string, rule Rule, strategy Strategy, cost uint64) (Decision, error)
}

// Decision is the outcome of a Take. It holds no pointers, so returning it does not
// allocate.
type Decision struct {
	// Allowed reports whether the units were charged.
	Allowed bool
	// N is the number of limits described in Limits, in rule order.
	N int
	// Limits holds the state of each limit after the take.
	Limits [MaxLimits]LimitStatus
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
	var longest time.Duration
	for _, st := range d.Limits[:d.N] {
		longest = max(longest, st.RetryAfter)
	}
	return longest
}

// Tightest returns the limit that constrains the client most: for a rejected decision
// the one that blocks longest, otherwise the one with the fewest units remaining (the
// shortest reset on a tie). It is the limit the X-RateLimit-* headers describe. A
// decision without limits gives the zero LimitStatus.
func (d *Decision) Tightest() LimitStatus {
	if d.N == 0 {
		return LimitStatus{}
	}
	best := d.Limits[0]
	for _, c := range d.Limits[1:d.N] {
		if tighter(d.Allowed, c, best) {
			best = c
		}
	}
	return best
}

// tighter reports whether c constrains the client more than b.
func tighter(allowed bool, c, b LimitStatus) bool {
	if !allowed {
		return c.RetryAfter > b.RetryAfter
	}
	return c.Remaining < b.Remaining || (c.Remaining == b.Remaining && c.Reset < b.Reset)
}
