package ratelimit

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/sethvargo/go-limiter"
)

// GoLimiterStore adapts a github.com/sethvargo/go-limiter Store (memorystore, or any
// third-party backend for it) to Store, FixedWindow only. Each limit of a rule uses its
// own go-limiter key, key + "|" + period in milliseconds, configured with Set the first
// time it is seen. go-limiter takes one token at a time and has no refund, so a cost of n
// takes n tokens, and a request rejected by one limit stays charged on the limits before
// it: the all-or-nothing guarantee of Store holds only for single-limit rules. Use
// MemoryStore or redisstore for multi-limit rules.
type GoLimiterStore struct {
	s   limiter.Store
	now func() time.Time
}

var _ Store = (*GoLimiterStore)(nil)

// NewGoLimiterStore wraps s.
func NewGoLimiterStore(s limiter.Store) *GoLimiterStore {
	return &GoLimiterStore{s: s, now: time.Now}
}

// Take implements Store.
func (g *GoLimiterStore) Take(ctx context.Context, key string, rule Rule, strategy Strategy, cost uint64) (Decision, error) {
	if strategy != FixedWindow {
		return Decision{}, fmt.Errorf("%w: go-limiter stores only support %v", ErrUnsupported, FixedWindow)
	}
	if len(rule) == 0 || len(rule) > MaxLimits {
		return Decision{}, fmt.Errorf("%w: %d limits", ErrInvalidRule, len(rule))
	}
	d := Decision{Allowed: true, N: len(rule)}
	now := g.now()
	for i, l := range rule {
		sub := key + "|" + strconv.FormatInt(l.Period.Milliseconds(), 10)
		tokens, _, err := g.s.Get(ctx, sub)
		if err != nil {
			return Decision{}, fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
		}
		if tokens != l.Count {
			if err := g.s.Set(ctx, sub, l.Count, l.Period); err != nil {
				return Decision{}, fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
			}
		}
		st := LimitStatus{Limit: l}
		for n := uint64(0); n < cost && d.Allowed; n++ {
			_, remaining, reset, ok, err := g.s.Take(ctx, sub)
			if err != nil {
				return Decision{}, fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
			}
			st.Remaining = remaining
			st.Reset = max(0, time.Unix(0, int64(reset)).Sub(now))
			if !ok {
				d.Allowed = false
				st.RetryAfter = st.Reset
			}
		}
		d.Limits[i] = st
	}
	return d, nil
}
