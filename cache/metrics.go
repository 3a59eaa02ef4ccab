package cache

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

const unknownTier = "unknown"

type metrics struct {
	hits, misses, stale, loadErrors, evictions byTier
	storeGet, storeSet                         prometheus.Counter
}

// byTier holds the counter of each tier, resolved once (index 0: "unknown").
type byTier [Permanent + 1]prometheus.Counter

func newByTier(v *prometheus.CounterVec) byTier {
	var b byTier
	b[0] = v.WithLabelValues(unknownTier)
	for t := Short; t <= Permanent; t++ {
		b[t] = v.WithLabelValues(t.String())
	}
	return b
}

func (b *byTier) inc(t Tier) {
	if !t.valid() {
		t = 0
	}
	b[t].Inc()
}

// newMetrics builds the cache's counters and registers them on reg (nil: unregistered).
// Label "tier" takes the four tier names or "unknown"; "op" is get or set.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	vec := func(name, help string, label string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "harden", Subsystem: "cache", Name: name, Help: help,
		}, []string{label})
	}
	hits := vec("hits_total", "Lookups answered with a fresh entry.", "tier")
	misses := vec("misses_total", "Lookups that found no usable entry.", "tier")
	stale := vec("stale_served_total", "Stale entries served (stale-while-revalidate or stale-if-error).", "tier")
	loadErrors := vec("load_errors_total", "Loader calls that failed or panicked.", "tier")
	evictions := vec("evictions_total", "Entries the store evicted for room or expiry.", "tier")
	storeErrors := vec("store_errors_total", "Store operations that failed and were absorbed.", "op")
	m := &metrics{
		hits: newByTier(hits), misses: newByTier(misses), stale: newByTier(stale),
		loadErrors: newByTier(loadErrors), evictions: newByTier(evictions),
		storeGet: storeErrors.WithLabelValues("get"), storeSet: storeErrors.WithLabelValues("set"),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{hits, misses, stale, loadErrors, evictions, storeErrors} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				return nil, fmt.Errorf("%w: metrics already registered (one Cache per registerer): %w", ErrInvalidConfig, err)
			}
			return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
		}
	}
	return m, nil
}
