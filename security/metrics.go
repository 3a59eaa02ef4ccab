package security

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nexus-reussite/harden/security/internal/promreg"
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

// register registers c, sharing the collector another instance registered on reg.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	c, err := promreg.Register(reg, c)
	if err != nil {
		return c, fmt.Errorf("%w: registering metrics: %v", ErrInvalidConfig, err)
	}
	return c, nil
}
