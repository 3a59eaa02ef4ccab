package observe

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func metricsMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "item "+r.PathValue("id"))
	})
	mux.HandleFunc("POST /upload", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusCreated)
	})
	return mux
}

func TestMetricsRED(t *testing.T) {
	reg := prometheus.NewRegistry()
	o := mustNew(t, Config{Registerer: reg})
	h := o.Handler(metricsMux())
	for range 3 {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/items/1", nil))
	}
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/nope", nil))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/upload", strings.NewReader("0123456789")))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("BREW", "/items/1", nil))

	fams := scrape(t, o.MetricsHandler())
	v, _ := sample(fams, MetricRequests, lbl("method", "GET", "route", "GET /items/{id}", "code", "2xx"))
	assert.Equal(t, 3.0, v)
	v, _ = sample(fams, MetricDuration, lbl("method", "GET", "route", "GET /items/{id}", "code", "2xx"))
	assert.Equal(t, 3.0, v, "histogram count")
	v, _ = sample(fams, MetricRequests, lbl("method", "GET", "route", "unmatched", "code", "4xx"))
	assert.Equal(t, 1.0, v)
	v, _ = sample(fams, MetricRequests, lbl("method", "OTHER", "route", "unmatched", "code", "4xx"))
	assert.Equal(t, 1.0, v, "unknown methods share one label value")
	assert.Equal(t, 10.0, histogramSum(fams, MetricRequestSize, lbl("method", "POST", "route", "POST /upload", "code", "2xx")))
	assert.Equal(t, 18.0, histogramSum(fams, MetricResponseSize, lbl("method", "GET", "route", "GET /items/{id}", "code", "2xx")), "3 × len(\"item 1\")")
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				assert.NotEqual(t, "/items/1", l.GetValue(), "raw path leaked into %s", f.GetName())
			}
		}
	}
}

func TestMetricsRequestSizeOfChunkedBody(t *testing.T) {
	reg := prometheus.NewRegistry()
	o := mustNew(t, Config{Registerer: reg})
	srv := httptest.NewServer(o.Handler(metricsMux()))
	defer srv.Close()
	pr, pw := io.Pipe()
	go func() {
		_, _ = io.WriteString(pw, strings.Repeat("z", 3000))
		_ = pw.Close()
	}()
	req, _ := http.NewRequest("POST", srv.URL+"/upload", pr) // unknown length: chunked
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	fams := scrape(t, o.MetricsHandler())
	assert.Equal(t, 3000.0, histogramSum(fams, MetricRequestSize, lbl("method", "POST", "route", "POST /upload", "code", "2xx")))
}

func TestMetricsDurationSynctest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := prometheus.NewRegistry()
		o := mustNew(t, Config{Registerer: reg})
		h := o.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { time.Sleep(750 * time.Millisecond) }))
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
		fams := scrape(t, o.MetricsHandler())
		assert.Equal(t, 0.75, histogramSum(fams, MetricDuration, lbl("method", "GET", "route", "unmatched", "code", "2xx")))
	})
}

func TestMetricsInFlight(t *testing.T) {
	reg := prometheus.NewRegistry()
	o := mustNew(t, Config{Registerer: reg})
	entered, release := make(chan struct{}), make(chan struct{})
	h := o.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		entered <- struct{}{}
		<-release
	}))
	done := make(chan struct{})
	for range 2 {
		go func() {
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
			done <- struct{}{}
		}()
	}
	<-entered
	<-entered
	v, _ := sample(scrape(t, o.MetricsHandler()), MetricInFlight, lbl())
	assert.Equal(t, 2.0, v)
	close(release)
	<-done
	<-done
	v, _ = sample(scrape(t, o.MetricsHandler()), MetricInFlight, lbl())
	assert.Equal(t, 0.0, v)
}

// 10 000 distinct paths, matched or not, must not create 10 000 series.
func TestMetricsCardinalityBounded(t *testing.T) {
	reg := prometheus.NewRegistry()
	o := mustNew(t, Config{Registerer: reg})
	h := o.Handler(metricsMux())
	methods := []string{"GET", "PROPFIND", "X-" + "CUSTOM", "get"}
	for i := range 10000 {
		path := fmt.Sprintf("/items/%d", i)
		if i%2 == 1 {
			path = fmt.Sprintf("/random/%d/%x", i, i*7919)
		}
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(methods[i%len(methods)], path, nil))
	}
	fams := scrape(t, o.MetricsHandler())
	total := 0.0
	for _, m := range fams[MetricRequests].GetMetric() {
		total += m.GetCounter().GetValue()
	}
	assert.Equal(t, 10000.0, total, "every request counted")
	for _, name := range []string{MetricRequests, MetricDuration, MetricRequestSize, MetricResponseSize} {
		assert.LessOrEqual(t, len(fams[name].GetMetric()), 4, "%s series", name)
	}
	assert.Len(t, *o.metrics.series.Load(), len(fams[MetricRequests].GetMetric()))
}

// For a CONNECT request to "/dir/x" where "/dir/{name}/" is registered, ServeMux
// redirects to "/dir/x/" and reports that path, which the client chose, as the pattern.
// Such requests must not create a series per path, with or without a Router.
func TestMetricsCardinalityBoundedForConnectRedirects(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/dir/{name}/", func(http.ResponseWriter, *http.Request) {})
	mux.HandleFunc("CONNECT /tunnel", func(http.ResponseWriter, *http.Request) {})
	for _, router := range []bool{false, true} {
		reg := prometheus.NewRegistry()
		cfg := Config{Registerer: reg}
		if router {
			cfg.Router = mux
		}
		o := mustNew(t, cfg)
		h := o.Handler(mux)
		for i := range 100 {
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodConnect, fmt.Sprintf("/dir/%d", i), nil))
		}
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodConnect, "/tunnel", nil))
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/dir/7/", nil))
		fams := scrape(t, o.MetricsHandler())
		v, ok := sample(fams, MetricRequests, lbl("method", "CONNECT", "route", "unmatched", "code", "3xx"))
		assert.True(t, ok && v == 100, "Router %v: %v CONNECT redirects counted as unmatched", router, v)
		_, ok = sample(fams, MetricRequests, lbl("method", "CONNECT", "route", "CONNECT /tunnel", "code", "2xx"))
		assert.True(t, ok, "Router %v: a CONNECT pattern keeps its route", router)
		_, ok = sample(fams, MetricRequests, lbl("method", "GET", "route", "/dir/{name}/", "code", "2xx"))
		assert.True(t, ok, "Router %v: other methods keep their route", router)
		assert.Len(t, fams[MetricRequests].GetMetric(), 3, "Router %v", router)
	}
}

func TestMetricsTokenProtected(t *testing.T) {
	reg := prometheus.NewRegistry()
	o := mustNew(t, Config{Registerer: reg, MetricsToken: "s3cret"})
	o.Handler(metricsMux()).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/items/1", nil))
	srv := httptest.NewServer(o.MetricsHandler())
	defer srv.Close()
	for _, auth := range []string{"", "Bearer wrong", "Basic czNjcmV0", "Bearer s3cret0", "Bearer "} {
		req, _ := http.NewRequest("GET", srv.URL, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, auth)
		assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
		assert.NotContains(t, string(body), MetricRequests)
	}
	req, _ := http.NewRequest("GET", srv.URL, nil)
	req.Header.Set("Authorization", "bearer s3cret")
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(body), MetricRequests)
}

func TestServeMetricsSeparateListener(t *testing.T) {
	reg := prometheus.NewRegistry()
	o := mustNew(t, Config{Registerer: reg})
	o.Handler(metricsMux()).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/items/1", nil))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { errc <- o.ServeMetrics(ctx, ln) }()

	resp, err := http.Get("http://" + ln.Addr().String() + "/metrics")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	assert.Contains(t, string(body), `harden_http_requests_total{code="2xx",method="GET",route="GET /items/{id}"} 1`)
	resp, err = http.Get("http://" + ln.Addr().String() + "/items/1")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 404, resp.StatusCode, "only /metrics on the metrics listener")

	cancel()
	require.NoError(t, <-errc)
	_, err = net.DialTimeout("tcp", ln.Addr().String(), time.Second)
	assert.Error(t, err, "listener closed after ctx is done")
}

func TestMetricsExemplarCarriesTraceID(t *testing.T) {
	reg := prometheus.NewRegistry()
	o := mustNew(t, Config{Registerer: reg})
	req := httptest.NewRequest("GET", "/items/1", nil)
	req.Header.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	o.Handler(metricsMux()).ServeHTTP(httptest.NewRecorder(), req)

	rec := httptest.NewRecorder()
	mreq := httptest.NewRequest("GET", "/metrics", nil)
	mreq.Header.Set("Accept", "application/openmetrics-text; version=1.0.0")
	o.MetricsHandler().ServeHTTP(rec, mreq)
	body := rec.Body.String()
	assert.Contains(t, body, `harden_http_requests_total{code="2xx",method="GET",route="GET /items/{id}"} 1.0 # {trace_id="4bf92f3577b34da6a3ce929d0e0e4736"} 1.0`)
	assert.Contains(t, body, `harden_http_request_duration_seconds_bucket{code="2xx",method="GET",route="GET /items/{id}",le="0.005"} 1 # {trace_id="4bf92f3577b34da6a3ce929d0e0e4736"}`)

	// Without a trace there is no exemplar.
	o.Handler(metricsMux()).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/nope", nil))
	rec = httptest.NewRecorder()
	o.MetricsHandler().ServeHTTP(rec, mreq)
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		if strings.Contains(line, `route="unmatched"`) {
			assert.NotContains(t, line, "trace_id", line)
		}
	}
}

func TestMetricsNativeHistograms(t *testing.T) {
	reg := prometheus.NewRegistry()
	o := mustNew(t, Config{Registerer: reg, NativeHistograms: true, DurationBuckets: []float64{0.1, 1}})
	o.Handler(metricsMux()).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/items/1", nil))
	mfs, err := reg.Gather()
	require.NoError(t, err)
	found := false
	for _, f := range mfs {
		if f.GetName() == MetricDuration {
			h := f.GetMetric()[0].GetHistogram()
			assert.NotZero(t, h.GetSchema(), "native schema set")
			assert.Len(t, h.GetBucket(), 2, "classic buckets kept")
			found = true
		}
	}
	assert.True(t, found)
}

func TestMetricsSharedRegistryAndConflicts(t *testing.T) {
	reg := prometheus.NewRegistry()
	a := mustNew(t, Config{Registerer: reg})
	b := mustNew(t, Config{Registerer: reg})
	a.Handler(metricsMux()).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/items/1", nil))
	b.Handler(metricsMux()).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/items/1", nil))
	v, _ := sample(scrape(t, a.MetricsHandler()), MetricRequests, lbl("method", "GET", "route", "GET /items/{id}", "code", "2xx"))
	assert.Equal(t, 2.0, v)

	reg2 := prometheus.NewRegistry()
	reg2.MustRegister(prometheus.NewGauge(prometheus.GaugeOpts{Name: MetricRequests, Help: "clash"}))
	_, err := New(Config{Registerer: reg2})
	assert.ErrorContains(t, err, "register metrics")
}

func TestMetricsHandlerWithoutGatherer(t *testing.T) {
	o := mustNew(t, Config{})
	rec := httptest.NewRecorder()
	o.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	assert.Equal(t, 200, rec.Code)
	assert.Empty(t, strings.TrimSpace(rec.Body.String()))
}

func TestMethodAndStatusLabels(t *testing.T) {
	for _, m := range []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE"} {
		assert.Equal(t, m, methodLabel(m))
	}
	for _, m := range []string{"get", "PROPFIND", "", strings.Repeat("X", 1000)} {
		assert.Equal(t, "OTHER", methodLabel(m))
	}
	for status, want := range map[int]string{0: "other", 99: "other", 101: "1xx", 200: "2xx", 302: "3xx", 404: "4xx", 503: "5xx", 600: "other", 999: "other"} {
		assert.Equal(t, want, classLabel(statusClass(status)), status)
	}
}

func TestFlushBeforeWriteCommitsStatus200(t *testing.T) {
	sink, logger := newSinkLogger(0)
	o := mustNew(t, Config{Logger: logger})
	rec := httptest.NewRecorder()
	o.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.(http.Flusher).Flush()
		w.WriteHeader(http.StatusTeapot) // superfluous: headers are already out
	})).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	assert.True(t, rec.Flushed)
	assert.Equal(t, 200, rec.Code)
	assert.EqualValues(t, 200, sink.lines(t)[0]["status"])
}
