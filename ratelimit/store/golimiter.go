package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/sethvargo/go-limiter"
)

// GoLimiter adapts a github.com/sethvargo/go-limiter Store (memorystore, or any
// third-party backend for it) to Store, FixedWindow only. Each limit of a rule uses its
// own go-limiter key, key + "|" + period in milliseconds, configured with Set the first
// time it is seen. go-limiter takes one token at a time and has no refund, so a cost of n
// takes n tokens, and a take rejected by one limit stays charged on the limits before
// it: the all-or-nothing guarantee of Store holds only for single-limit rules.
type GoLimiter struct {
	s   limiter.Store
	now func() time.Time
}

var _ Store = (*GoLimiter)(nil)

// NewGoLimiter wraps s.
func NewGoLimiter(s limiter.Store) *GoLimiter {
	return &GoLimiter{s: s, now: time.Now}
}

// Take implements Store.
func (g *GoLimiter) Take(ctx context.Context, key string, rule Rule, strategy Strategy, cost uint64) (Decision, error) {
	if strategy != FixedWindow {
		return Decision{}, fmt.Errorf("%w: go-limiter stores only support %v", ErrUnsupported, FixedWindow)
	}
	if err := rule.Validate(); err != nil {
		return Decision{}, err
	}
	d := Decision{Allowed: true, N: len(rule)}
	now := g.now()
	for i, l := range rule {
		st, err := g.take(ctx, key+"|"+strconv.FormatInt(l.Period.Milliseconds(), 10), l, cost, now, &d.Allowed)
		if err != nil {
			return Decision{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		d.Limits[i] = st
	}
	return d, nil
}

// take takes cost tokens of limit l from the go-limiter key sub, one at a time while
// *allowed holds, and clears *allowed when the limit refuses one.
func (g *GoLimiter) take(ctx context.Context, sub string, l Limit, cost uint64, now time.Time, allowed *bool) (LimitStatus, error) {
	tokens, _, err := g.s.Get(ctx, sub)
	if err != nil {
		return LimitStatus{}, err
	}
	if tokens != l.Count {
		if err := g.s.Set(ctx, sub, l.Count, l.Period); err != nil {
			return LimitStatus{}, err
		}
	}
	st := LimitStatus{Limit: l}
	for n := uint64(0); n < cost && *allowed; n++ {
		_, remaining, reset, ok, err := g.s.Take(ctx, sub)
		if err != nil {
			return LimitStatus{}, err
		}
		st.Remaining = remaining
		st.Reset = max(0, time.Unix(0, int64(reset)).Sub(now))
		if !ok {
			*allowed = false
			st.RetryAfter = st.Reset
		}
	}
	return st, nil
}
