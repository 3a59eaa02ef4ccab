package health

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the package's Prometheus collectors. The only label is the check name,
// which comes from the configuration, so cardinality is bounded.
type collectors struct {
	status   *prometheus.GaugeVec
	duration *prometheus.GaugeVec
	changes  *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer, h *Health) (*collectors, error) {
	m := &collectors{
		status: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "harden_health_check_status",
			Help: "Last status of each health check, one series per status: 1 for the current one, 0 for the others.",
		}, []string{"check", "status"}),
		duration: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "harden_health_check_duration_seconds",
			Help: "Duration of the last run of each health check.",
		}, []string{"check"}),
		changes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "harden_health_check_status_changes_total",
			Help: "Status changes of each health check, the first result included.",
		}, []string{"check"}),
	}
	ready := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "harden_health_ready",
		Help: "1 when /ready answers 200 from the cached results: started, not draining, no critical check failing.",
	}, h.readyNow)
	for _, c := range []prometheus.Collector{m.status, m.duration, m.changes, ready} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("health: register metrics: %w", err)
		}
	}
	for _, c := range h.checks {
		for _, s := range []Status{StatusPass, StatusWarn, StatusFail} {
			m.status.WithLabelValues(c.Name, string(s)).Set(0)
		}
		m.changes.WithLabelValues(c.Name)
	}
	return m, nil
}

// observe records a run.
func (m *collectors) observe(rep report) {
	for _, r := range rep.Checks {
		for _, s := range []Status{StatusPass, StatusWarn, StatusFail} {
			v := 0.0
			if s == r.Status {
				v = 1
			}
			m.status.WithLabelValues(r.Name, string(s)).Set(v)
		}
		m.duration.WithLabelValues(r.Name).Set(r.Duration.Seconds())
	}
}

// readyNow is the value of harden_health_ready; it never runs checks.
func (h *Health) readyNow() float64 {
	if !h.started.Load() || h.draining.Load() {
		return 0
	}
	s := h.snap.Load()
	if s == nil || s.rep.Status == StatusFail {
		return 0
	}
	return 1
}
