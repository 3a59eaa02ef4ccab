package security

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the middleware's counters; nil when no Registerer is configured.
type metrics struct {
	rejected  *prometheus.CounterVec
	redirects prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	if reg == nil {
		return nil, nil
	}
	m := &metrics{
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "harden_security_rejected_total",
			Help: "Requests refused by the security middleware, by reason (bad_host, https_required, body_too_large, cross_origin, cors_denied).",
		}, []string{"reason"}),
		redirects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "harden_security_https_redirects_total",
			Help: "Plain HTTP requests redirected to HTTPS.",
		}),
	}
	var err error
	if m.rejected, err = register(reg, m.rejected); err != nil {
		return nil, err
	}
	if m.redirects, err = register(reg, m.redirects); err != nil {
		return nil, err
	}
	for _, r := range []string{"bad_host", "https_required", "body_too_large", "cross_origin", "cors_denied"} {
		m.rejected.WithLabelValues(r)
	}
	return m, nil
}

// register registers c or, when an identical collector is already registered (two
// middleware instances sharing one registry), returns that one.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	if err != nil {
		return c, fmt.Errorf("%w: registering metrics: %v", ErrInvalidConfig, err)
	}
	return c, nil
}
