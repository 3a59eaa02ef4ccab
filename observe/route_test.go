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
// the mux; with Config.Router the Observer still logs and counts it under its route,
// and the limiter, keyed by route, sees the same pattern.
func TestRouteOfResponseWrittenBeforeTheMux(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/formulas/{id}", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"id":1}`))
	})
	mux.HandleFunc("GET /api/slots", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`[]`))
	})
	rule, err := ratelimit.ParseRule("1 per minute")
	require.NoError(t, err)
	limiter, err := ratelimit.New(ratelimit.Config{Rule: rule, PerRoute: true})
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
	for _, path := range []string{"/api/formulas/1", "/api/formulas/2", "/api/slots", "/nowhere", "/nowhere/else"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		codes = append(codes, rec.Code)
	}
	// One request per minute and per route: the second formula is refused, the
	// first slot request is not (the limiter saw the pattern), and the unknown paths
	// share one counter.
	assert.Equal(t, []int{200, 429, 200, 404, 429}, codes)

	var routes []string
	for line := range strings.Lines(logs.String()) {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m))
		routes = append(routes, m["route"].(string))
	}
	assert.Equal(t, []string{"GET /api/formulas/{id}", "GET /api/formulas/{id}", "GET /api/slots", "unmatched", "unmatched"}, routes)

	metrics := `
# HELP harden_http_requests_total HTTP requests served, by method, route pattern and status class.
# TYPE harden_http_requests_total counter
harden_http_requests_total{code="2xx",method="GET",route="GET /api/formulas/{id}"} 1
harden_http_requests_total{code="2xx",method="GET",route="GET /api/slots"} 1
harden_http_requests_total{code="4xx",method="GET",route="GET /api/formulas/{id}"} 1
harden_http_requests_total{code="4xx",method="GET",route="unmatched"} 2
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
