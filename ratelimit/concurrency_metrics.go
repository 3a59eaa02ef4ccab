package ratelimit

import (
	"github.com/prometheus/client_golang/prometheus"
)

// gateOutcome is what became of a request at a Concurrency gate.
type gateOutcome uint8

const (
	gateAdmitted gateOutcome = iota
	shedQueueFull
	shedQueueTimeout
	shedLowPriority
	shedTooManyKeys
	gateCanceled // the client went away while queued
	numGateOutcomes
)

// reason is the label value of harden_concurrency_shed_total for a shed outcome.
func (o gateOutcome) reason() string {
	switch o {
	case shedQueueFull:
		return "queue_full"
	case shedQueueTimeout:
		return "queue_timeout"
	case shedLowPriority:
		return "low_priority"
	case shedTooManyKeys:
		return "too_many_keys"
	}
	return ""
}

// concurrencyMetrics is the collector of one gate. The gauges are read from the gate
// when scraped, so the admitted path updates no metric.
type concurrencyMetrics struct {
	c                             *Concurrency
	inFlight, queued, limit, keys *prometheus.Desc
	shedVec                       *prometheus.CounterVec
	shed                          [numGateOutcomes]prometheus.Counter
	wait                          prometheus.Histogram
}

func newConcurrencyMetrics(c *Concurrency, reg prometheus.Registerer) (*concurrencyMetrics, error) {
	labels := prometheus.Labels{"limiter": c.name}
	gauge := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, nil, labels)
	}
	m := &concurrencyMetrics{
		c:        c,
		inFlight: gauge("harden_concurrency_in_flight", "Requests in flight through a concurrency gate."),
		queued:   gauge("harden_concurrency_queued", "Requests waiting in the queue of a concurrency gate."),
		limit:    gauge("harden_concurrency_limit", "Limit of requests in flight of a concurrency gate (with a key, the highest among the tracked keys)."),
		keys:     gauge("harden_concurrency_keys", "Keys tracked by a concurrency gate with a key."),
		shedVec: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name:        "harden_concurrency_shed_total",
			Help:        "Requests shed by a concurrency gate, by reason (queue_full, queue_timeout, low_priority, too_many_keys).",
			ConstLabels: labels,
		}, []string{"reason"}),
		wait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:        "harden_concurrency_queue_wait_seconds",
			Help:        "Time requests spent in the queue of a concurrency gate, whatever became of them.",
			ConstLabels: labels,
			Buckets:     []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
	}
	for o := range numGateOutcomes {
		if r := o.reason(); r != "" {
			m.shed[o] = m.shedVec.WithLabelValues(r)
		}
	}
	if reg != nil {
		if err := reg.Register(m); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Describe implements prometheus.Collector.
func (m *concurrencyMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- m.inFlight
	ch <- m.queued
	ch <- m.limit
	ch <- m.keys
	m.shedVec.Describe(ch)
	m.wait.Describe(ch)
}

// Collect implements prometheus.Collector.
func (m *concurrencyMetrics) Collect(ch chan<- prometheus.Metric) {
	s := m.c.snapshot()
	gauge := func(d *prometheus.Desc, v int) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v))
	}
	gauge(m.inFlight, s.inFlight)
	gauge(m.queued, s.queued)
	gauge(m.limit, s.limit)
	if m.c.keys != nil {
		gauge(m.keys, s.keys)
	}
	m.shedVec.Collect(ch)
	m.wait.Collect(ch)
}

type concurrencySnapshot struct {
	inFlight, queued, limit, keys int
}

// snapshot sums the gates' state.
func (c *Concurrency) snapshot() concurrencySnapshot {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.keys == nil {
		return concurrencySnapshot{inFlight: c.global.inFlight, queued: c.global.queued(), limit: c.global.limit()}
	}
	s := concurrencySnapshot{keys: len(c.keys), limit: max(c.fixed, c.minLimit)}
	if len(c.keys) > 0 {
		s.limit = 0
	}
	for _, g := range c.keys {
		s.inFlight += g.inFlight
		s.queued += g.queued()
		s.limit = max(s.limit, g.limit())
	}
	return s
}
