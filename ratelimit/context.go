package ratelimit

import "context"

type decisionKey struct{}

// DecisionFrom returns the decision that rejected the request, inside a DenyHandler.
func DecisionFrom(ctx context.Context) (Decision, bool) {
	d, ok := ctx.Value(decisionKey{}).(*Decision)
	if !ok {
		return Decision{}, false
	}
	return *d, true
}
