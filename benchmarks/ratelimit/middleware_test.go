package ratelimitbench

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sethvargo/go-limiter/httplimit"
	"github.com/sethvargo/go-limiter/memorystore"

	"github.com/nexus-reussite/harden/ratelimit"
)

// stackRule is the rule of the harden stack in benchmarks/stack: the three windows of
// the default rule with limits no benchmark reaches, so every request is admitted.
var stackRule = ratelimit.MustParseRule("1000000000000 per day;100000000000 per hour;1000000000 per second")

// middlewareRequest arrives through a trusted loopback proxy naming the client in
// X-Forwarded-For, as in benchmarks/stack.
func middlewareRequest(client string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "http://api.example.com/api/formulas", nil)
	r.RemoteAddr = "127.0.0.1:40000"
	r.Header.Set("X-Forwarded-For", client)
	return r
}

// headerSink is a ResponseWriter that keeps headers and drops the body.
type headerSink struct{ h http.Header }

func (s *headerSink) Header() http.Header         { return s.h }
func (s *headerSink) Write(p []byte) (int, error) { return len(p), nil }
func (s *headerSink) WriteHeader(int)             {}

var noContent = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	w.WriteHeader(http.StatusNoContent)
})

func hardenMiddleware(b *testing.B, headers ratelimit.HeaderMode) http.Handler {
	lim, err := ratelimit.New(ratelimit.Config{
		Rule:           stackRule,
		TrustedProxies: []string{"127.0.0.1"},
		Headers:        headers,
		Registerer:     prometheus.NewRegistry(),
	})
	if err != nil {
		b.Fatal(err)
	}
	return lim.Handler(noContent)
}

// goLimiterMiddleware is go-limiter's httplimit with one window, keyed by the
// X-Forwarded-For header as its IPKeyFunc does; it sets the X-RateLimit-* headers.
func goLimiterMiddleware(b *testing.B) http.Handler {
	store, err := memorystore.New(&memorystore.Config{Tokens: math.MaxUint32 / 2, Interval: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = store.Close(context.Background()) })
	m, err := httplimit.NewMiddleware(store, httplimit.IPKeyFunc("X-Forwarded-For"))
	if err != nil {
		b.Fatal(err)
	}
	return m.Handle(noContent)
}

// serveOne runs h serially on one request whose response headers are cleared each
// time, so the numbers are the middleware's own cost per admitted request. It returns
// the nanoseconds per request.
func serveOne(b *testing.B, h http.Handler, client string) float64 {
	b.Helper()
	w := &headerSink{h: http.Header{}}
	r := middlewareRequest(client)
	h.ServeHTTP(w, r)
	if len(w.h) > 0 && w.h.Get("X-RateLimit-Remaining") == "" && w.h.Get("RateLimit") == "" {
		b.Fatalf("unexpected headers %v", w.h)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, r)
	}
	return float64(b.Elapsed().Nanoseconds()) / float64(b.N)
}

// BenchmarkMiddleware is the per-request cost of the middleware alone on an admitted
// request through a trusted proxy: go-limiter's httplimit with one window first, then
// harden with a three-window rule in each header mode. x-vs-httplimit is httplimit's
// ns/op over harden's (higher is faster). IPv4 and IPv6 clients exercise both key
// builders.
func BenchmarkMiddleware(b *testing.B) {
	for _, c := range []struct{ name, client string }{
		{"ipv4", "198.51.100.7"},
		{"ipv6", "2001:db8:1:2::7"},
	} {
		var peer float64
		b.Run(c.name+"/golimiter-httplimit-1window", func(b *testing.B) {
			peer = serveOne(b, goLimiterMiddleware(b), c.client)
		})
		for _, m := range []struct {
			name string
			mode ratelimit.HeaderMode
		}{
			{"all-headers", ratelimit.HeadersAll},
			{"draft-headers", ratelimit.HeadersDraft},
			{"legacy-headers", ratelimit.HeadersLegacy},
			{"no-headers", ratelimit.HeadersNone},
		} {
			b.Run(c.name+"/harden-3windows-"+m.name, func(b *testing.B) {
				ns := serveOne(b, hardenMiddleware(b, m.mode), c.client)
				if peer > 0 {
					b.ReportMetric(peer/ns, "x-vs-httplimit")
				}
			})
		}
	}
}
