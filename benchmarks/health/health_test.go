// Package healthbench compares the probe endpoints of harden/health with
// alexliesenfeld/health, the library a Go service would otherwise pick for
// cached, timed-out dependency checks behind /live and /ready.
//
//	go test -run '^$' -bench . -benchtime 200ms ./health/
//
// BenchmarkRatio interleaves the two on cached /ready, for a ratio that machine load does
// not skew. Both sides run one passing check with results cached for a minute and answer with
// the status only, so the numbers measure the cached request path: lifecycle flags,
// cache lookup, authorisation decision, headers and body.
package healthbench

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	alex "github.com/alexliesenfeld/health"
	"github.com/nexus-reussite/harden/health"
)

// discard is a reusable ResponseWriter, so the numbers show the handler's own cost
// rather than a recorder's allocations.
type discard struct {
	h    http.Header
	code int
	n    int
}

func (d *discard) Header() http.Header { return d.h }

func (d *discard) WriteHeader(code int) { d.code = code }

func (d *discard) Write(p []byte) (int, error) { d.n += len(p); return len(p), nil }

func (d *discard) WriteString(s string) (int, error) { d.n += len(s); return len(s), nil }

func (d *discard) reset() { clear(d.h); d.code, d.n = 0, 0 }

func run(b *testing.B, h http.Handler, path string) {
	b.Helper()
	req, err := http.NewRequest(http.MethodGet, path, nil)
	if err != nil {
		b.Fatal(err)
	}
	req.RemoteAddr = "203.0.113.9:5555"
	w := &discard{h: make(http.Header)}
	h.ServeHTTP(w, req) // warm the cache
	if w.code != http.StatusOK {
		b.Fatalf("%s answered %d", path, w.code)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w.reset()
		h.ServeHTTP(w, req)
	}
	b.StopTimer()
	if w.code != http.StatusOK || w.n == 0 {
		b.Fatalf("%s answered %d with %d bytes", path, w.code, w.n)
	}
}

func runParallel(b *testing.B, h http.Handler, path string) {
	b.Helper()
	warm, _ := http.NewRequest(http.MethodGet, path, nil)
	h.ServeHTTP(&discard{h: make(http.Header)}, warm)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		req, _ := http.NewRequest(http.MethodGet, path, nil)
		req.RemoteAddr = "203.0.113.9:5555"
		w := &discard{h: make(http.Header)}
		for pb.Next() {
			w.reset()
			h.ServeHTTP(w, req)
			if w.code != http.StatusOK {
				b.Errorf("%s answered %d", path, w.code)
				return
			}
		}
	})
}

func pass(context.Context) error { return nil }

func harden(b *testing.B) *health.Health {
	b.Helper()
	h, err := health.New(health.Config{
		Interval:    time.Minute,
		DetailCIDRs: []string{"10.0.0.0/8"},
		Checks:      []health.Check{{Name: "db", Func: pass}},
	})
	if err != nil {
		b.Fatal(err)
	}
	h.Start(b.Context())
	return h
}

func peerLive() http.Handler {
	return alex.NewHandler(alex.NewChecker(alex.WithDisabledDetails(), alex.WithDisabledAutostart()))
}

func peerReady(b *testing.B) http.Handler {
	c := alex.NewChecker(
		alex.WithCacheDuration(time.Minute),
		alex.WithTimeout(2*time.Second),
		alex.WithDisabledDetails(),
		alex.WithCheck(alex.Check{Name: "db", Check: pass}),
	)
	b.Cleanup(c.Stop)
	return alex.NewHandler(c)
}

func BenchmarkLive(b *testing.B) {
	b.Run("harden", func(b *testing.B) { run(b, harden(b).LiveHandler(), "/live") })
	b.Run("alexliesenfeld", func(b *testing.B) { run(b, peerLive(), "/live") })
}

func BenchmarkReadyCached(b *testing.B) {
	b.Run("harden", func(b *testing.B) { run(b, harden(b).ReadyHandler(), "/ready") })
	b.Run("alexliesenfeld", func(b *testing.B) { run(b, peerReady(b), "/ready") })
}

// Through Handler(next), the way a server mounts it in front of its routes.
func BenchmarkReadyCachedMiddleware(b *testing.B) {
	b.Run("harden", func(b *testing.B) { run(b, harden(b).Handler(http.NotFoundHandler()), "/ready") })
}

func BenchmarkReadyCachedParallel(b *testing.B) {
	b.Run("harden", func(b *testing.B) { runParallel(b, harden(b).ReadyHandler(), "/ready") })
	b.Run("alexliesenfeld", func(b *testing.B) { runParallel(b, peerReady(b), "/ready") })
}

// BenchmarkRatio serves cached /ready from harden and from the peer in turn within one
// loop, so load elsewhere on the machine hits both alike. ns/op is one round of both;
// harden-x-peer is the median over rounds of harden's time over the peer's.
func BenchmarkRatio(b *testing.B) {
	sides := []http.Handler{harden(b).ReadyHandler(), peerReady(b)}
	req, err := http.NewRequest(http.MethodGet, "/ready", nil)
	if err != nil {
		b.Fatal(err)
	}
	req.RemoteAddr = "203.0.113.9:5555"
	w := &discard{h: make(http.Header)}
	for _, h := range sides {
		h.ServeHTTP(w, req) // warm the caches
	}
	var spent [2]time.Duration
	ratios := make([]float64, 0, 1<<16)
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for b.Loop() {
		var round [2]time.Duration
		for k := range sides {
			i := (k + n) % len(sides)
			start := time.Now()
			w.reset()
			sides[i].ServeHTTP(w, req)
			round[i] = time.Since(start)
			if w.code != http.StatusOK {
				b.Fatalf("side %d answered %d", i, w.code)
			}
		}
		spent[0] += round[0]
		spent[1] += round[1]
		ratios = append(ratios, float64(round[0])/float64(round[1]))
		n++
	}
	b.StopTimer()
	slices.Sort(ratios)
	b.ReportMetric(float64(spent[0].Nanoseconds())/float64(n), "harden-ns/op")
	b.ReportMetric(float64(spent[1].Nanoseconds())/float64(n), "peer-ns/op")
	b.ReportMetric(ratios[len(ratios)/2], "harden-x-peer")
}
