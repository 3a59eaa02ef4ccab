package security

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewRejectsInvalidConfig(t *testing.T) {
	for name, cfg := range map[string]Config{
		"profile":            {Profile: "staging"},
		"allowed host path":  {AllowedHosts: []string{"example.com/x"}},
		"allowed host ip wc": {AllowedHosts: []string{"*.10.0.0.1"}},
		"trusted proxy":      {TrustedProxies: []string{"10.0.0.0/33"}},
		"exempt relative":    {ExemptPaths: []string{"live"}},
		"redirect status":    {RedirectStatus: 200},
		"https port":         {HTTPSPort: 70000},
		"hsts preload short": {HSTS: HSTS{Preload: true, MaxAge: 3600e9}},
		"hsts preload nosub": {HSTS: HSTS{Preload: true, ExcludeSubdomains: true}},
		"hsts sub-second":    {HSTS: HSTS{MaxAge: 1}},
		"header injection":   {Headers: Headers{ReferrerPolicy: "no-referrer\r\nX-Evil: 1"}},
	} {
		s, err := New(cfg)
		assert.ErrorIs(t, err, ErrInvalidConfig, name)
		assert.Nil(t, s, name)
	}
}

func TestMetricsRegistration(t *testing.T) {
	reg := prometheus.NewRegistry()
	_, err := New(Config{Registerer: reg})
	require.NoError(t, err)
	_, err = New(Config{Registerer: reg})
	require.NoError(t, err, "a second instance shares the collectors")
	clash := prometheus.NewRegistry()
	require.NoError(t, clash.Register(prometheus.NewGauge(prometheus.GaugeOpts{Name: "harden_security_https_redirects_total", Help: "x"})))
	_, err = New(Config{Registerer: clash})
	assert.ErrorIs(t, err, ErrInvalidConfig)
}

func TestMiddlewareMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := mustNew(t, Config{Registerer: reg, AllowedHosts: []string{"a.example"}, MaxBodyBytes: 1})
	h := s.Handler(&okHandler{})
	serve(h, newReq(http.MethodGet, "http://a.example/", nil))
	serve(h, newReq(http.MethodGet, "http://a.example/", nil))
	serve(h, newReq(http.MethodGet, "https://evil.example/", nil, withTLS()))
	serve(h, newReq(http.MethodPost, "https://a.example/", strings.NewReader("xx"), withTLS()))
	serve(h, newReq(http.MethodPost, "https://a.example/", nil, withTLS(), withHeader("Sec-Fetch-Site", "cross-site")))
	assert.Equal(t, 2.0, testutil.ToFloat64(s.metrics.redirects))
	for reason, want := range map[string]float64{"bad_host": 1, "https_required": 0, "body_too_large": 1, "cross_origin": 1, "cors_denied": 0} {
		assert.Equal(t, want, testutil.ToFloat64(s.metrics.rejected.WithLabelValues(reason)), reason)
	}
	assert.Equal(t, 6, testutil.CollectAndCount(reg), "five reasons pre-created plus the redirect counter")
}

func TestWarnsWithoutAllowedHostsInProduction(t *testing.T) {
	var buf strings.Builder
	log := slog.New(slog.NewTextHandler(&buf, nil))
	mustNew(t, Config{Logger: log, AllowedHosts: []string{"a.example"}})
	mustNew(t, Config{Logger: log, Profile: Development})
	assert.Empty(t, buf.String())
	mustNew(t, Config{Logger: log, AllowedHosts: []string{"*"}})
	assert.Empty(t, buf.String())
	mustNew(t, Config{Logger: log})
	assert.Contains(t, buf.String(), "AllowedHosts is empty")
	assert.Contains(t, buf.String(), "get 400 instead of a redirect")
}
