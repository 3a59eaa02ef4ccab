package ratelimitbench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/semaphore"

	"github.com/nexus-reussite/harden/ratelimit"
)

// semaphoreGate is the gate a Go user writes by hand with x/sync/semaphore: a weighted
// semaphore of limit slots around the handler, waiting for a slot as long as the
// request lives.
func semaphoreGate(limit int64, next http.Handler) http.Handler {
	sem := semaphore.NewWeighted(limit)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := sem.Acquire(r.Context(), 1); err != nil {
			http.Error(w, "overloaded", http.StatusServiceUnavailable)
			return
		}
		defer sem.Release(1)
		next.ServeHTTP(w, r)
	})
}

func hardenGate(tb testing.TB, cfg ratelimit.ConcurrencyConfig) http.Handler {
	cfg.Registerer = prometheus.NewRegistry()
	g, err := ratelimit.NewConcurrency(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return g.Handler(noContent)
}

// gateSubjects are the admitted paths compared: limits no benchmark reaches, so every
// request is admitted at once.
func gateSubjects(tb testing.TB) []struct {
	name string
	h    http.Handler
} {
	return []struct {
		name string
		h    http.Handler
	}{
		{"handler-alone", noContent},
		{"semaphore", semaphoreGate(1000, noContent)},
		{"harden-fixed", hardenGate(tb, ratelimit.ConcurrencyConfig{Limit: 1000})},
		{"harden-adaptive", hardenGate(tb, ratelimit.ConcurrencyConfig{MinLimit: 1000})},
		{"harden-fixed-per-client", hardenGate(tb, ratelimit.ConcurrencyConfig{
			Limit: 1000, Key: func(r *http.Request) string { return r.Header.Get("X-User") },
		})},
	}
}

func gateRequest() *http.Request {
	r := httptest.NewRequest(http.MethodPost, "http://api.example.com/api/auth/login", nil)
	r.Header.Set("X-User", "user-42")
	return r
}

// BenchmarkConcurrency is the cost of an admitted request through each gate, serially
// and from parallel goroutines. go-concurrency-limits is not compared: the module proxy
// does not serve github.com/platinummonkey/go-concurrency-limits.
func BenchmarkConcurrency(b *testing.B) {
	for _, s := range gateSubjects(b) {
		b.Run("serial/"+s.name, func(b *testing.B) {
			w := &headerSink{h: http.Header{}}
			r := gateRequest()
			b.ReportAllocs()
			for b.Loop() {
				s.h.ServeHTTP(w, r)
			}
		})
	}
	for _, s := range gateSubjects(b) {
		b.Run("parallel/"+s.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				w := &headerSink{h: http.Header{}}
				r := gateRequest()
				for pb.Next() {
					s.h.ServeHTTP(w, r)
				}
			})
		})
	}
}

// BenchmarkConcurrencyRatios serves the subjects in turn, in blocks of 200 requests,
// inside one loop, so that machine load hits them alike. It reports the median over
// the rounds of each harden gate's time over the semaphore's (below 1 is faster), and
// the median cost of each gate per request beyond the handler alone, in ns.
func BenchmarkConcurrencyRatios(b *testing.B) {
	const block = 200
	subjects := gateSubjects(b)
	took := make([][]float64, len(subjects)) // ns per request, per round
	w := &headerSink{h: http.Header{}}
	r := gateRequest()
	for b.Loop() {
		for i, s := range subjects {
			start := time.Now()
			for range block {
				s.h.ServeHTTP(w, r)
			}
			took[i] = append(took[i], float64(time.Since(start))/block)
		}
	}
	ratio := func(i, j int) float64 {
		q := make([]float64, len(took[i]))
		for k := range q {
			q[k] = took[i][k] / took[j][k]
		}
		return medianOf(q)
	}
	cost := func(i int) float64 {
		q := make([]float64, len(took[i]))
		for k := range q {
			q[k] = took[i][k] - took[0][k]
		}
		return medianOf(q)
	}
	for i, s := range subjects[2:] {
		b.ReportMetric(ratio(i+2, 1), s.name+"/semaphore")
	}
	for i, s := range subjects[1:] {
		b.ReportMetric(cost(i+1), s.name+"-ns")
	}
}

func medianOf(v []float64) float64 {
	slices.Sort(v)
	return v[len(v)/2]
}

// TestGateSubjectsAdmit checks that every subject admits the benchmark's requests.
func TestGateSubjectsAdmit(t *testing.T) {
	for _, s := range gateSubjects(t) {
		w := httptest.NewRecorder()
		s.h.ServeHTTP(w, gateRequest().WithContext(context.Background()))
		if w.Code != http.StatusNoContent {
			t.Errorf("%s: %d", s.name, w.Code)
		}
	}
}
