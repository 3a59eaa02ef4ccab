package ratelimitbench

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sethvargo/go-limiter/httplimit"
	"github.com/sethvargo/go-limiter/memorystore"

	"github.com/nexus-reussite/harden/ratelimit"
)

// serveRejected runs h serially on one client that is over its limit, clearing the
// response headers each time, and checks that every request got 429. It returns the
// nanoseconds per request.
func serveRejected(b *testing.B, h http.Handler) float64 {
	b.Helper()
	w := &codeSink{headerSink: headerSink{h: http.Header{}}}
	r := middlewareRequest("198.51.100.7")
	h.ServeHTTP(w, r) // spends the only unit
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		clear(w.h)
		w.code = 0
		h.ServeHTTP(w, r)
	}
	b.StopTimer()
	if w.code != http.StatusTooManyRequests {
		b.Fatalf("status %d, want 429", w.code)
	}
	return float64(b.Elapsed().Nanoseconds()) / float64(b.N)
}

type codeSink struct {
	headerSink
	code int
}

func (s *codeSink) WriteHeader(code int) { s.code = code }

// BenchmarkRejected is the cost of a 429: go-limiter's httplimit with one window (plain
// text body from http.Error) first, then harden with a three-window rule, every header
// and the application/problem+json body. x-vs-httplimit is httplimit's ns/op over
// harden's (higher is faster).
func BenchmarkRejected(b *testing.B) {
	var peer float64
	b.Run("golimiter-httplimit-1window", func(b *testing.B) {
		store, err := memorystore.New(&memorystore.Config{Tokens: 1, Interval: time.Hour})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = store.Close(context.Background()) })
		m, err := httplimit.NewMiddleware(store, httplimit.IPKeyFunc("X-Forwarded-For"))
		if err != nil {
			b.Fatal(err)
		}
		peer = serveRejected(b, m.Handle(noContent))
	})
	b.Run("harden-3windows-problem-json", func(b *testing.B) {
		lim, err := ratelimit.New(ratelimit.Config{
			Rule:           ratelimit.MustParseRule("1 per second;100 per hour;1000 per day"),
			TrustedProxies: []string{"127.0.0.1"},
			Registerer:     prometheus.NewRegistry(),
		})
		if err != nil {
			b.Fatal(err)
		}
		ns := serveRejected(b, lim.Handler(noContent))
		if peer > 0 {
			b.ReportMetric(peer/ns, "x-vs-httplimit")
		}
	})
}
