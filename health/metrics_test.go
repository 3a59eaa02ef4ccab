package health

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	var down atomic.Bool
	h := mustNew(t, Config{Registerer: reg, Checks: []Check{
		{Name: "db", Func: func(context.Context) error {
			if down.Load() {
				return errors.New("refused")
			}
			return nil
		}},
		{Name: "ai", NonCritical: true, Func: func(context.Context) error { return errors.New("502") }},
	}})
	if err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP harden_health_ready 1 when /ready answers 200 from the cached results: started, not draining, no critical check failing.
# TYPE harden_health_ready gauge
harden_health_ready 0
`), "harden_health_ready"); err != nil {
		t.Error(err)
	}
	h.Start(t.Context())
	h.run(context.Background())
	down.Store(true)
	h.run(context.Background())

	want := `
# HELP harden_health_check_status Last status of each health check, one series per status: 1 for the current one, 0 for the others.
# TYPE harden_health_check_status gauge
harden_health_check_status{check="ai",status="fail"} 0
harden_health_check_status{check="ai",status="pass"} 0
harden_health_check_status{check="ai",status="warn"} 1
harden_health_check_status{check="db",status="fail"} 1
harden_health_check_status{check="db",status="pass"} 0
harden_health_check_status{check="db",status="warn"} 0
# HELP harden_health_check_status_changes_total Status changes of each health check, the first result included.
# TYPE harden_health_check_status_changes_total counter
harden_health_check_status_changes_total{check="ai"} 1
harden_health_check_status_changes_total{check="db"} 2
# HELP harden_health_ready 1 when /ready answers 200 from the cached results: started, not draining, no critical check failing.
# TYPE harden_health_ready gauge
harden_health_ready 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"harden_health_check_status", "harden_health_check_status_changes_total", "harden_health_ready"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(reg, "harden_health_check_duration_seconds"); n != 2 {
		t.Errorf("%d duration series", n)
	}
	down.Store(false)
	h.run(context.Background())
	if v := readyValue(t, reg); v != 1 {
		t.Errorf("ready %v after recovery", v)
	}
	h.Drain()
	if v := readyValue(t, reg); v != 0 {
		t.Errorf("ready %v while draining", v)
	}
}

// readyValue gathers harden_health_ready from reg.
func readyValue(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "harden_health_ready" {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatal("harden_health_ready not registered")
	return 0
}
