package pool

import (
	"context"
	"fmt"
)

// Check is a readiness probe: it runs Config.CheckQuery ("SELECT 1") and reads the answer,
// all within Config.CheckTimeout (or the caller's earlier deadline). It has the
// func(context.Context) error shape health checkers take: it is the Func of a
// health.Check, as the Pool.Check example shows.
func (p *Pool) Check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.CheckTimeout)
	defer cancel()
	var v any
	if err := p.db.QueryRowContext(ctx, p.cfg.CheckQuery).Scan(&v); err != nil {
		return fmt.Errorf("pool %q: check: %w", p.cfg.Name, err)
	}
	return nil
}
