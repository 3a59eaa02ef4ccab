package observe

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// Metric names. Every series carries the labels method (standard methods, else OTHER),
// route (the ServeMux pattern or the UnmatchedRoute value) and code (status class "2xx"),
// except the in-flight gauge (no labels) and the panics counter (method, route).
const (
	MetricRequests     = "harden_http_requests_total"
	MetricDuration     = "harden_http_request_duration_seconds"
	MetricInFlight     = "harden_http_requests_in_flight"
	MetricRequestSize  = "harden_http_request_size_bytes"
	MetricResponseSize = "harden_http_response_size_bytes"
	MetricPanics       = "harden_http_panics_total"
)

type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	reqSize  *prometheus.HistogramVec
	respSize *prometheus.HistogramVec
	panics   *prometheus.CounterVec
	inFlight prometheus.Gauge

	// series is read without a lock on every request and replaced, copied with the new
	// entry, under mu when a label set is seen for the first time. The label sets are
	// bounded (methods × route patterns × status classes), so copies stop early.
	series atomic.Pointer[map[seriesKey]*series]
	mu     sync.Mutex
}

type seriesKey struct {
	method, route string
	class         int
}

// series holds the children of one label set, resolved once so a request costs one map
// lookup instead of one per metric.
type series struct {
	requests prometheus.Counter
	duration prometheus.Observer
	reqSize  prometheus.Observer
	respSize prometheus.Observer
}

func newMetrics(reg prometheus.Registerer, cfg *Config) (*metrics, error) {
	buckets := cfg.DurationBuckets
	if len(buckets) == 0 {
		buckets = prometheus.DefBuckets
	}
	labels := []string{"method", "route", "code"}
	sizeBuckets := prometheus.ExponentialBuckets(64, 4, 10) // 64 B to 16 MiB
	factor := 0.0
	if cfg.NativeHistograms {
		factor = 1.1
	}
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricRequests,
			Help: "HTTP requests served, by method, route pattern and status class.",
		}, labels),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:                        MetricDuration,
			Help:                        "Time from receiving the request to the handler's return, in seconds.",
			Buckets:                     buckets,
			NativeHistogramBucketFactor: factor,
		}, labels),
		reqSize: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:                        MetricRequestSize,
			Help:                        "Request body size in bytes (Content-Length, or bytes read when unknown).",
			Buckets:                     sizeBuckets,
			NativeHistogramBucketFactor: factor,
		}, labels),
		respSize: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:                        MetricResponseSize,
			Help:                        "Response body size in bytes as written by the handler.",
			Buckets:                     sizeBuckets,
			NativeHistogramBucketFactor: factor,
		}, labels),
		panics: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricPanics,
			Help: "Handler panics recovered, by method and route pattern.",
		}, []string{"method", "route"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: MetricInFlight,
			Help: "HTTP requests being served.",
		}),
	}
	m.series.Store(&map[seriesKey]*series{})
	var err error
	if m.requests, err = register(reg, m.requests); err != nil {
		return nil, err
	}
	if m.duration, err = register(reg, m.duration); err != nil {
		return nil, err
	}
	if m.reqSize, err = register(reg, m.reqSize); err != nil {
		return nil, err
	}
	if m.respSize, err = register(reg, m.respSize); err != nil {
		return nil, err
	}
	if m.panics, err = register(reg, m.panics); err != nil {
		return nil, err
	}
	if m.inFlight, err = register(reg, m.inFlight); err != nil {
		return nil, err
	}
	return m, nil
}

// register registers c, or returns the collector already registered under the same
// description so that several Observers may share one registry.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	if err == nil {
		return c, nil
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, fmt.Errorf("observe: register metrics: %w", err)
}

func (m *metrics) get(method, route string, class int) *series {
	k := seriesKey{method, route, class}
	if s := (*m.series.Load())[k]; s != nil {
		return s
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	old := *m.series.Load()
	if s := old[k]; s != nil {
		return s
	}
	code := classLabel(class)
	s := &series{
		requests: m.requests.WithLabelValues(method, route, code),
		duration: m.duration.WithLabelValues(method, route, code),
		reqSize:  m.reqSize.WithLabelValues(method, route, code),
		respSize: m.respSize.WithLabelValues(method, route, code),
	}
	next := make(map[seriesKey]*series, len(old)+1)
	maps.Copy(next, old)
	next[k] = s
	m.series.Store(&next)
	return s
}

func (m *metrics) observe(method, route string, status int, seconds float64, reqBytes, respBytes int64, traceID string) {
	s := m.get(method, route, statusClass(status))
	if traceID != "" {
		ex := prometheus.Labels{"trace_id": traceID}
		s.requests.(prometheus.ExemplarAdder).AddWithExemplar(1, ex)
		s.duration.(prometheus.ExemplarObserver).ObserveWithExemplar(seconds, ex)
	} else {
		s.requests.Inc()
		s.duration.Observe(seconds)
	}
	s.reqSize.Observe(float64(reqBytes))
	s.respSize.Observe(float64(respBytes))
}

func classLabel(class int) string {
	switch class {
	case 1:
		return "1xx"
	case 2:
		return "2xx"
	case 3:
		return "3xx"
	case 4:
		return "4xx"
	case 5:
		return "5xx"
	}
	return "other"
}

func statusClass(status int) int {
	if status < 100 || status > 599 {
		return 0
	}
	return status / 100
}

// methodLabel bounds the method label to the registered methods.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet:
		return http.MethodGet
	case http.MethodHead:
		return http.MethodHead
	case http.MethodPost:
		return http.MethodPost
	case http.MethodPut:
		return http.MethodPut
	case http.MethodPatch:
		return http.MethodPatch
	case http.MethodDelete:
		return http.MethodDelete
	case http.MethodConnect:
		return http.MethodConnect
	case http.MethodOptions:
		return http.MethodOptions
	case http.MethodTrace:
		return http.MethodTrace
	}
	return "OTHER"
}
