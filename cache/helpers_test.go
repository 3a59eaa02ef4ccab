package cache_test

import (
	"testing"

	"github.com/nexus-reussite/harden/cache"
	"github.com/prometheus/client_golang/prometheus"
)

// newCache returns a Cache over a fresh Memory store, its metrics on reg.
func newCache(t testing.TB, cfg cache.Config) (*cache.Cache, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	if cfg.Registerer == nil {
		cfg.Registerer = reg
	}
	c, err := cache.New(newMemory(t, cache.MemoryConfig{}), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c, reg
}

// counter returns the value of metric name with the given label value (summed over series
// when label is empty).
func counter(t testing.TB, reg *prometheus.Registry, name, label string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label != "" && (len(m.GetLabel()) == 0 || m.GetLabel()[0].GetValue() != label) {
				continue
			}
			sum += m.GetCounter().GetValue()
		}
	}
	return sum
}

func newRegistry() *prometheus.Registry { return prometheus.NewRegistry() }
