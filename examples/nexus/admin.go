package main

import (
	"net/http"
)

// handlePoolStats reports the database pool (admins only).
func (a *app) handlePoolStats(w http.ResponseWriter, _ *http.Request, _ *principal) error {
	s := a.db.Stats()
	cfg := a.db.Config()
	writeJSON(w, http.StatusOK, map[string]any{
		"driver":             a.db.driver,
		"size":               cfg.Size,
		"max_open":           s.MaxOpenConnections,
		"open":               s.OpenConnections,
		"in_use":             s.InUse,
		"idle":               s.Idle,
		"utilization":        s.Utilization(),
		"wait_count":         s.WaitCount,
		"wait_duration_ms":   s.WaitDuration.Milliseconds(),
		"acquires":           s.Acquires,
		"acquire_timeouts":   s.AcquireTimeouts,
		"opened":             s.Opened,
		"closed":             s.Closed,
		"closed_recycle":     s.ClosedRecycle,
		"closed_ping_failed": s.ClosedPing,
		"leaks":              s.Leaks,
		"timeout_seconds":    cfg.Timeout.Seconds(),
		"recycle_seconds":    cfg.Recycle.Seconds(),
	})
	return nil
}

type invalidateRequest struct {
	Tag string `json:"tag"`
}

// handleCacheInvalidate drops cached responses by tag, on every instance (admins only).
func (a *app) handleCacheInvalidate(w http.ResponseWriter, r *http.Request, _ *principal) error {
	var req invalidateRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if !oneOf(req.Tag, cacheTags) {
		return invalid("unknown tag")
	}
	if err := a.invalidateTags(r.Context(), req.Tag); err != nil {
		a.log.ErrorContext(r.Context(), "cache invalidation", "err", err)
		return unavailable("the cache could not be invalidated; retry")
	}
	writeJSON(w, http.StatusOK, map[string]any{"invalidated": req.Tag})
	return nil
}
