package observebench

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"

	"github.com/nexus-reussite/harden/observe"
	"github.com/prometheus/client_golang/prometheus"
)

// proxiedRequest is the request of the stack benchmarks: a GET through a trusted loopback
// proxy that terminated TLS, with the client named in X-Forwarded-For.
func proxiedRequest() *http.Request {
	r := httptest.NewRequest(http.MethodGet, "http://api.example.com/api/formulas/42", nil)
	r.RemoteAddr = "127.0.0.1:40000"
	r.Header.Set("User-Agent", "bench/1.0")
	r.Header.Set("X-Forwarded-Proto", "https")
	r.Header.Set("X-Forwarded-For", "198.51.100.7")
	return r
}

// proxiedChain is observe as the harden stack configures it: JSON access log, metrics in
// a registry, the loopback proxy trusted.
func proxiedChain(tb testing.TB) http.Handler {
	o, err := observe.New(observe.Config{
		Logger:         slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Registerer:     prometheus.NewRegistry(),
		TrustedProxies: []string{"127.0.0.1"},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return o.Handler(routes())
}

// BenchmarkProxied is the per-request cost of observe in the harden stack's setting.
func BenchmarkProxied(b *testing.B) {
	b.Run("observe", func(b *testing.B) { runReq(b, proxiedChain(b), proxiedRequest()) })
	b.Run("chi+promhttp", func(b *testing.B) { runReq(b, peerChain(b), proxiedRequest()) })
}

// runReq serves req in a loop on one locked OS thread and reports, besides ns/op, the
// thread's CPU time per request (cpu-ns/op), which other load on the machine disturbs far
// less than wall time.
func runReq(b *testing.B, h http.Handler, req *http.Request) {
	b.ReportAllocs()
	w := &discardWriter{h: http.Header{}}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	c0, ok := threadCPU()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, req)
	}
	if c1, ok1 := threadCPU(); ok && ok1 {
		b.ReportMetric(float64(c1-c0)/float64(b.N), "cpu-ns/op")
	}
}
