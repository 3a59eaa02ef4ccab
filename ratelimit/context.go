package ratelimit

import (
	"context"

	"github.com/nexus-reussite/harden/ratelimit/store"
)

type decisionKey struct{}

// DecisionFrom returns the decision that rejected the request, inside a DenyHandler:
// d.RetryAfter() and d.Tightest() say how long to wait and which limit was hit.
func DecisionFrom(ctx context.Context) (d store.Decision, ok bool) {
	p, ok := ctx.Value(decisionKey{}).(*store.Decision)
	if !ok {
		return store.Decision{}, false
	}
	return *p, true
}
