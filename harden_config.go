package harden

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"slices"

	"github.com/nexus-reussite/harden/observe"
	"github.com/nexus-reussite/harden/security"
	"github.com/prometheus/client_golang/prometheus"
)

// metricsPath is where the Stack serves Config.Gatherer.
const metricsPath = "/metrics"

// minMetricsToken is the shortest Observe.MetricsToken New accepts: /metrics is not rate
// limited, so a short token could be guessed.
const minMetricsToken = 16

// shared is what New works out from the shared settings.
type shared struct {
	registerer   prometheus.Registerer // Config.Registerer or the Stack's own registry
	given        prometheus.Registerer // Config.Registerer
	probePaths   [3]string             // live, ready, health
	serveMetrics bool
}

// share fills the per-package Configs of cfg from its shared settings, and checks what
// the Stack itself needs: the probe paths and when /metrics is served.
func share(cfg *Config) (shared, error) {
	sh := shared{given: cfg.Registerer, registerer: cfg.Registerer}
	if sh.registerer == nil {
		sh.registerer = prometheus.NewRegistry()
	}
	gatherer := cfg.Gatherer
	if g, ok := sh.registerer.(prometheus.Gatherer); ok && gatherer == nil {
		gatherer = g
	}
	logger := cfg.Logger
	if logger == nil {
		logger = observe.NewJSONLogger(os.Stdout, nil)
	}

	o, sec, rl, co, he, ca := &cfg.Observe, &cfg.Security, &cfg.RateLimit, &cfg.Compress, &cfg.Health, &cfg.Cache
	errs := []error{
		shareValue("Security.Profile", &sec.Profile, cfg.Profile, cfg.Profile),
		shareList("Security.AllowedHosts", &sec.AllowedHosts, cfg.AllowedHosts),
		shareValue("Security.TrustForwardedHost", &sec.TrustForwardedHost, cfg.TrustForwardedHost, cfg.TrustForwardedHost),
		shareValue("Observe.Gatherer", &o.Gatherer, cfg.Gatherer, gatherer),
	}
	for _, p := range []struct {
		name    string
		proxies *[]string
		header  *string
	}{
		{"Observe", &o.TrustedProxies, &o.ClientIPHeader},
		{"Security", &sec.TrustedProxies, &sec.ClientIPHeader},
		{"RateLimit", &rl.TrustedProxies, &rl.ClientIPHeader},
		{"Health", &he.TrustedProxies, &he.ClientIPHeader},
	} {
		errs = append(errs,
			shareList(p.name+".TrustedProxies", p.proxies, cfg.TrustedProxies),
			shareValue(p.name+".ClientIPHeader", p.header, cfg.ClientIPHeader, cfg.ClientIPHeader))
	}
	for _, p := range []struct {
		name       string
		logger     **slog.Logger
		registerer *prometheus.Registerer
	}{
		{"Observe", &o.Logger, &o.Registerer},
		{"Security", &sec.Logger, &sec.Registerer},
		{"RateLimit", &rl.Logger, &rl.Registerer},
		{"Compress", &co.Logger, &co.Registerer},
		{"Health", &he.Logger, &he.Registerer},
		{"Cache", &ca.Logger, &ca.Registerer},
	} {
		errs = append(errs,
			shareValue(p.name+".Logger", p.logger, cfg.Logger, logger),
			shareValue(p.name+".Registerer", p.registerer, cfg.Registerer, sh.registerer))
	}
	if err := errors.Join(errs...); err != nil {
		return sh, err
	}

	sh.probePaths = [3]string{cmp.Or(he.LivePath, "/live"), cmp.Or(he.ReadyPath, "/ready"), cmp.Or(he.HealthPath, "/health")}
	paths := append(sh.probePaths[:], metricsPath)
	for i, p := range paths {
		if slices.Contains(paths[i+1:], p) {
			return sh, fmt.Errorf("%w: %s is served twice: give the health endpoints and %s distinct paths", ErrInvalidConfig, p, metricsPath)
		}
	}
	switch token := o.MetricsToken; {
	case token != "" && len(token) < minMetricsToken:
		return sh, fmt.Errorf("%w: Observe.MetricsToken must be at least %d bytes", ErrInvalidConfig, minMetricsToken)
	case token != "" && o.Gatherer == nil:
		return sh, fmt.Errorf("%w: Observe.MetricsToken is set but there is no Gatherer to serve", ErrInvalidConfig)
	}
	sh.serveMetrics = o.Gatherer != nil && (o.MetricsToken != "" || sec.Profile == security.Development)
	skip := sh.probePaths[:]
	if sh.serveMetrics {
		skip = append(skip, metricsPath)
	}
	o.SkipPaths = append(slices.Clip(o.SkipPaths), skip...)
	return sh, nil
}

// shareValue fills *dst with value when it is zero, and reports an error when *dst and
// given, the shared setting as the caller set it, are both set and differ.
func shareValue[T comparable](name string, dst *T, given, value T) error {
	var zero T
	switch {
	case *dst == zero:
		*dst = value
	case given != zero && !equal(*dst, given):
		return fmt.Errorf("%w: %s differs from the shared setting of the same name: set it once", ErrInvalidConfig, name)
	}
	return nil
}

// shareList is shareValue for a list.
func shareList(name string, dst *[]string, given []string) error {
	switch {
	case len(*dst) == 0:
		*dst = slices.Clone(given)
	case len(given) > 0 && !slices.Equal(*dst, given):
		return fmt.Errorf("%w: %s differs from the shared setting of the same name: set it once", ErrInvalidConfig, name)
	}
	return nil
}

// equal compares a and b without panicking on interface values of a type that cannot be
// compared (they are taken as different).
func equal[T comparable](a, b T) bool {
	if t := reflect.TypeOf(a); t != nil && t == reflect.TypeOf(b) && !t.Comparable() {
		return false
	}
	return a == b
}
