package httpapi

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/nexus-reussite/harden/cache"

	"github.com/nexus-reussite/harden/examples/nexus/internal/domain"
)

// handlePoolStats reports the database pool (admins only).
func (a *API) handlePoolStats(w http.ResponseWriter, _ *http.Request, _ *domain.Principal) error {
	s := a.db.Pool().Stats()
	cfg := a.db.Pool().Config()
	writeJSON(w, http.StatusOK, map[string]any{
		"driver":             a.db.Driver(),
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
func (a *API) handleCacheInvalidate(w http.ResponseWriter, r *http.Request, _ *domain.Principal) error {
	var req invalidateRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if !slices.Contains(cacheTags, req.Tag) {
		return badRequest("unknown tag")
	}
	if err := a.invalidateTags(r.Context(), req.Tag); err != nil {
		a.log.ErrorContext(r.Context(), "cache invalidation", "err", err)
		return unavailable("the cache could not be invalidated; retry")
	}
	writeJSON(w, http.StatusOK, map[string]any{"invalidated": req.Tag})
	return nil
}

// handleCacheStats reports the cache: store kind, size and the harden_cache_* counters.
func (a *API) handleCacheStats(w http.ResponseWriter, _ *http.Request, _ *domain.Principal) error {
	mfs, err := a.registry.Gather()
	if err != nil {
		return err
	}
	metrics := map[string]map[string]float64{}
	for _, mf := range mfs {
		if !strings.HasPrefix(mf.GetName(), "harden_cache_") {
			continue
		}
		series := map[string]float64{}
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			sort.Strings(labels)
			var v float64
			switch {
			case m.GetCounter() != nil:
				v = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				v = m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				v = float64(m.GetHistogram().GetSampleCount())
			}
			series[strings.Join(labels, ",")] += v
		}
		metrics[mf.GetName()] = series
	}
	store := "memory"
	if a.cacheShared {
		store = "redis+local"
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"store": store, "tags": cacheTags, "metrics": metrics, "local_entries": a.cacheMemory.Len(),
		"tiers": map[string]string{
			"short": fmt.Sprint(a.cache.TTL(cache.Short)), "medium": fmt.Sprint(a.cache.TTL(cache.Medium)),
			"long": fmt.Sprint(a.cache.TTL(cache.Long)), "permanent": fmt.Sprint(a.cache.TTL(cache.Permanent)),
		},
	})
	return nil
}
