// Package observebench compares the observe middleware chain with the usual assembly of
// chi middleware (RequestID, Recoverer), a slog access logger and promhttp's
// InstrumentHandler* wrappers, doing the same work per request: request ID, access log
// line, RED metrics, panic recovery.
package observebench

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-chi/chi/v5/middleware"
	"github.com/nexus-reussite/harden/observe"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

var payload = []byte(`{"id":42,"title":"Grand Oral","price":390}`)

func routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/formulas/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(payload)
	})
	return mux
}

func jsonLogger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// observeChain is the full observe middleware: request ID, access log, metrics, recovery.
func observeChain(tb testing.TB) http.Handler {
	o, err := observe.New(observe.Config{
		Logger:     jsonLogger(),
		Registerer: prometheus.NewRegistry(),
	})
	if err != nil {
		tb.Fatal(err)
	}
	return o.Handler(routes())
}

// peerChain is chi RequestID + Recoverer, a slog access logger logging the same fields,
// and promhttp in-flight, counter, duration, request and response size instrumentation.
func peerChain(tb testing.TB) http.Handler {
	reg := prometheus.NewRegistry()
	inFlight := prometheus.NewGauge(prometheus.GaugeOpts{Name: "peer_in_flight"})
	counter := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "peer_requests_total"}, []string{"code", "method"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "peer_duration_seconds", Buckets: prometheus.DefBuckets}, []string{"code", "method"})
	reqSize := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "peer_request_size_bytes", Buckets: prometheus.ExponentialBuckets(64, 4, 10)}, []string{"code", "method"})
	respSize := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "peer_response_size_bytes", Buckets: prometheus.ExponentialBuckets(64, 4, 10)}, []string{"code", "method"})
	reg.MustRegister(inFlight, counter, duration, reqSize, respSize)

	var h http.Handler = routes()
	h = promhttp.InstrumentHandlerResponseSize(respSize, h)
	h = promhttp.InstrumentHandlerRequestSize(reqSize, h)
	h = promhttp.InstrumentHandlerDuration(duration, h)
	h = promhttp.InstrumentHandlerCounter(counter, h)
	h = promhttp.InstrumentHandlerInFlight(inFlight, h)
	h = slogAccessLog(jsonLogger(), h)
	h = middleware.Recoverer(h)
	h = middleware.RequestID(h)
	return h
}

// slogAccessLog is the access logger people write next to chi: wrap the writer, call
// next, log one line with slog.
func slogAccessLog(l *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := middleware.GetReqID(r.Context())
		w.Header().Set("X-Request-Id", id)
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r)
		l.LogAttrs(r.Context(), slog.LevelInfo, "http request",
			slog.String("method", r.Method),
			slog.String("route", r.Pattern),
			slog.String("path", r.URL.Path),
			slog.Int("status", ww.Status()),
			slog.Int("bytes", ww.BytesWritten()),
			slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
			slog.String("request_id", id),
			slog.String("client_ip", r.RemoteAddr),
			slog.String("user_agent", r.UserAgent()),
		)
	})
}

// discardWriter is a reusable ResponseWriter so the benchmark measures the middleware,
// not a recorder.
type discardWriter struct {
	h      http.Header
	status int
}

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(code int)        { d.status = code }

func run(b *testing.B, h http.Handler) {
	b.ReportAllocs()
	req := httptest.NewRequest("GET", "/api/formulas/42", nil)
	req.Header.Set("User-Agent", "bench/1.0")
	w := &discardWriter{h: http.Header{}}
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, req)
	}
}

func runParallel(b *testing.B, h http.Handler) {
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		req := httptest.NewRequest("GET", "/api/formulas/42", nil)
		req.Header.Set("User-Agent", "bench/1.0")
		w := &discardWriter{h: http.Header{}}
		for pb.Next() {
			clear(w.h)
			h.ServeHTTP(w, req)
		}
	})
}

func BenchmarkChain(b *testing.B) {
	b.Run("observe", func(b *testing.B) { run(b, observeChain(b)) })
	b.Run("chi+promhttp", func(b *testing.B) { run(b, peerChain(b)) })
}

func BenchmarkChainParallel(b *testing.B) {
	b.Run("observe", func(b *testing.B) { runParallel(b, observeChain(b)) })
	b.Run("chi+promhttp", func(b *testing.B) { runParallel(b, peerChain(b)) })
}

// BenchmarkChainRatio interleaves both chains request by request, so load on the
// machine hits both alike, and reports observe/peer ratios. Targets: ns-ratio < 1 and
// allocs-ratio <= 0.5.
func BenchmarkChainRatio(b *testing.B) {
	ours, peer := observeChain(b), peerChain(b)
	req := httptest.NewRequest("GET", "/api/formulas/42", nil)
	req.Header.Set("User-Agent", "bench/1.0")
	w := &discardWriter{h: http.Header{}}
	serve := func(h http.Handler) func() {
		return func() {
			clear(w.h)
			h.ServeHTTP(w, req)
		}
	}
	serveOurs, servePeer := serve(ours), serve(peer)
	var tOurs, tPeer time.Duration
	for b.Loop() {
		t0 := time.Now()
		serveOurs()
		t1 := time.Now()
		servePeer()
		tPeer += time.Since(t1)
		tOurs += t1.Sub(t0)
	}
	b.ReportMetric(float64(tOurs)/float64(tPeer), "ns-ratio")
	aOurs := testing.AllocsPerRun(1000, serveOurs)
	aPeer := testing.AllocsPerRun(1000, servePeer)
	b.ReportMetric(aOurs, "observe-allocs/req")
	b.ReportMetric(aPeer, "peer-allocs/req")
	b.ReportMetric(aOurs/aPeer, "allocs-ratio")
}

// The two chains must do the same job for the comparison to mean anything.
func TestChainsEquivalent(t *testing.T) {
	for name, h := range map[string]http.Handler{"observe": observeChain(t), "peer": peerChain(t)} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/formulas/42", nil))
		if rec.Code != 200 || rec.Body.String() != string(payload) || rec.Header().Get("X-Request-Id") == "" {
			t.Errorf("%s: status %d body %q id %q", name, rec.Code, rec.Body.String(), rec.Header().Get("X-Request-Id"))
		}
	}
}
