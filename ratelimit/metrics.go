package ratelimit

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Decision labels of harden_ratelimit_requests_total.
const (
	outcomeAdmitted     = "admitted"
	outcomeLimited      = "limited"
	outcomeShadow       = "shadow_limited"
	outcomeExempt       = "exempt"
	outcomeFailedOpen   = "failed_open"
	outcomeFailedClosed = "failed_closed"
)

type metricVecs struct {
	requests    *prometheus.CounterVec
	storeErrors *prometheus.CounterVec
}

func newMetricVecs(reg prometheus.Registerer) (*metricVecs, error) {
	m := &metricVecs{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "harden_ratelimit_requests_total",
			Help: "Requests seen by a rate limiter, by limiter name and outcome (admitted, limited, shadow_limited, exempt, failed_open, failed_closed).",
		}, []string{"limiter", "outcome"}),
		storeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "harden_ratelimit_store_errors_total",
			Help: "Rate limit store errors, by limiter name.",
		}, []string{"limiter"}),
	}
	if reg == nil {
		return m, nil
	}
	var err error
	if m.requests, err = register(reg, m.requests); err != nil {
		return nil, err
	}
	if m.storeErrors, err = register(reg, m.storeErrors); err != nil {
		return nil, err
	}
	return m, nil
}

// register registers c, or returns the collector already registered under its name so
// several limiters can share one registry.
func register(reg prometheus.Registerer, c *prometheus.CounterVec) (*prometheus.CounterVec, error) {
	err := reg.Register(c)
	if err == nil {
		return c, nil
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(*prometheus.CounterVec); ok {
			return existing, nil
		}
	}
	return nil, err
}

// limiterMetrics are the counters of one limiter name, resolved once.
type limiterMetrics struct {
	admitted, limited, shadow, exempt, failedOpen, failedClosed, storeErrors prometheus.Counter
}

func (v *metricVecs) forLimiter(name string) limiterMetrics {
	c := func(outcome string) prometheus.Counter { return v.requests.WithLabelValues(name, outcome) }
	return limiterMetrics{
		admitted:     c(outcomeAdmitted),
		limited:      c(outcomeLimited),
		shadow:       c(outcomeShadow),
		exempt:       c(outcomeExempt),
		failedOpen:   c(outcomeFailedOpen),
		failedClosed: c(outcomeFailedClosed),
		storeErrors:  v.storeErrors.WithLabelValues(name),
	}
}
