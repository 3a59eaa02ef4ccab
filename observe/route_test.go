package observe_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-reussite/harden/observe"
	"github.com/nexus-reussite/harden/ratelimit"
)

// A 429 written by a rate limiter between the Observer and the ServeMux never reaches
// the mux; with Config.Router the Observer still logs and counts it under its route.
func TestRouteOfResponseWrittenBeforeTheMux(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/formulas/{id}", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"id":1}`))
	})
	mux.HandleFunc("GET /api/slots", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`[]`))
	})
	rule, err := ratelimit.ParseRule("2 per minute")
	require.NoError(t, err)
	limiter, err := ratelimit.New(ratelimit.Config{Rule: rule})
	require.NoError(t, err)

	var logs bytes.Buffer
	reg := prometheus.NewRegistry()
	o, err := observe.New(observe.Config{
		Logger:     observe.NewJSONLogger(&logs, slog.LevelInfo),
		Registerer: reg,
		Router:     mux,
	})
	require.NoError(t, err)
	h := o.Handler(limiter.Handler(mux))

	var codes []int
	for _, path := range []string{"/api/formulas/1", "/api/slots", "/api/formulas/2", "/nowhere"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		codes = append(codes, rec.Code)
	}
	// Two requests per minute: the third and fourth are refused before the mux.
	assert.Equal(t, []int{200, 200, 429, 429}, codes)

	var routes []string
	for line := range strings.Lines(logs.String()) {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m))
		routes = append(routes, m["route"].(string))
	}
	assert.Equal(t, []string{"GET /api/formulas/{id}", "GET /api/slots", "GET /api/formulas/{id}", "unmatched"}, routes)

	metrics := `
# HELP harden_http_requests_total HTTP requests served, by method, route pattern and status class.
# TYPE harden_http_requests_total counter
harden_http_requests_total{code="2xx",method="GET",route="GET /api/formulas/{id}"} 1
harden_http_requests_total{code="2xx",method="GET",route="GET /api/slots"} 1
harden_http_requests_total{code="4xx",method="GET",route="GET /api/formulas/{id}"} 1
harden_http_requests_total{code="4xx",method="GET",route="unmatched"} 1
`
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(metrics), observe.MetricRequests))
}

// Without a Router the 429 never meets the mux, and its route is unknown.
func TestRouteOfResponseWrittenBeforeTheMuxNeedsRouter(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/formulas/{id}", func(http.ResponseWriter, *http.Request) {})
	rule, err := ratelimit.ParseRule("1 per minute")
	require.NoError(t, err)
	limiter, err := ratelimit.New(ratelimit.Config{Rule: rule})
	require.NoError(t, err)
	reg := prometheus.NewRegistry()
	o, err := observe.New(observe.Config{Logger: slog.New(slog.DiscardHandler), Registerer: reg})
	require.NoError(t, err)
	h := o.Handler(limiter.Handler(mux))
	for range 2 {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/api/formulas/1", nil))
	}
	metrics := `
# HELP harden_http_requests_total HTTP requests served, by method, route pattern and status class.
# TYPE harden_http_requests_total counter
harden_http_requests_total{code="2xx",method="GET",route="GET /api/formulas/{id}"} 1
harden_http_requests_total{code="4xx",method="GET",route="unmatched"} 1
`
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(metrics), observe.MetricRequests))
}

// Route reads back what SetRoute or Config.Router named, and nothing outside a Handler.
func TestRouteReadsTheRecordedPattern(t *testing.T) {
	assert.Empty(t, observe.Route(t.Context()))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /a/{id}", func(http.ResponseWriter, *http.Request) {})
	var got []string
	probe := http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		got = append(got, observe.Route(r.Context()))
		observe.SetRoute(r.Context(), "GET /set")
		got = append(got, observe.Route(r.Context()))
	})
	for _, cfg := range []observe.Config{{}, {Router: mux}} {
		cfg.Logger = slog.New(slog.DiscardHandler)
		o, err := observe.New(cfg)
		require.NoError(t, err)
		o.Handler(probe).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/a/1", nil))
	}
	assert.Equal(t, []string{"", "GET /set", "GET /a/{id}", "GET /set"}, got)
}
