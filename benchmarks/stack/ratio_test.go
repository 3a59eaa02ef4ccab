package stack

import (
	"net/http"
	"testing"
	"time"

	"github.com/nexus-reussite/harden/internal/testenv"
)

// ratioSubject is one handler of the interleaved benchmark with its own request, sink and
// accumulated time.
type ratioSubject struct {
	name    string
	h       http.Handler
	w       *testenv.HeaderSink
	r       *http.Request
	took    time.Duration
	refused int
}

// serve answers one request into the subject's sink, cleared first.
func (s *ratioSubject) serve() {
	s.w.Reset()
	s.h.ServeHTTP(s.w, s.r)
}

// clockName is the no-op handler timed like the stacks: its ns/op is what the time.Now pair
// around each request costs, included (not subtracted) in every stack's figure.
const clockName = "clock"

// BenchmarkStackRatios serves every stack plus a no-op handler alternately inside one loop,
// one request each per iteration (starting with a different one each iteration, so no stack
// always follows the same neighbour), in one goroutine, and times each request with
// time.Now. Machine load then hits all stacks alike, which makes the ratios far steadier
// than those of BenchmarkStack's separate sub-benchmarks. ns/op is one round (all subjects
// and the clock); the figures that matter are the metrics, per subject and as ratios:
//
//   - <stack>-ns/op: mean latency of one request through that stack, clock included;
//     clock-ns/op is the no-op handler, the cost of the time.Now pair alone.
//   - harden-vs-peer-speed: peer ns ÷ harden ns (higher is faster; target ≥ 1.2 at 3KiB).
//   - harden-vs-gzip-only-speed: gzip-only ns ÷ harden ns (target ≥ 0.9 at 3KiB).
//   - harden-cached-vs-bare-speed: bare ns ÷ harden-cached ns.
//   - harden-over-bare-ns: harden ns − bare ns, the middleware's overhead per request
//     (target ≤ 1500 at 200B, under every stack's compression minimum).
//   - <stack>-allocs/op: testing.AllocsPerRun, outside the timed loop, exact.
//   - harden-over-bare-allocs: harden allocs − bare allocs (target ≤ 10).
//
// The handler is called with one reused request and a header map that is cleared, not
// replaced, so net/http's own work per response (a fresh header map, its clone, sorting
// and writing) is in no figure; BenchmarkStackServed includes it.
//
// Targets are stated here, never asserted. Compare runs with benchstat:
//
//	cd benchmarks
//	go test -run '^$' -bench StackRatios -benchtime 2s -count 6 ./stack/ | tee new.txt
//	go run golang.org/x/perf/cmd/benchstat@latest old.txt new.txt
func BenchmarkStackRatios(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{{"3KiB", 3072}, {"200B", 200}} {
		b.Run(size.name, func(b *testing.B) { benchStackRatios(b, Payload(size.n)) })
	}
}

func benchStackRatios(b *testing.B, body []byte) {
	subjects := []*ratioSubject{{name: clockName, h: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})}}
	for _, name := range Names() {
		h, err := Build(name, body, Options{})
		if err != nil {
			b.Fatal(err)
		}
		subjects = append(subjects, &ratioSubject{name: name, h: h})
	}
	allocs := make(map[string]float64, len(subjects))
	for _, s := range subjects {
		s.w, s.r = testenv.NewHeaderSink(), request()
		// Also the warm-up: harden-cached's first request fills its cache.
		allocs[s.name] = testing.AllocsPerRun(200, s.serve)
		if s.name != clockName && s.w.Code != http.StatusOK {
			b.Fatalf("%s answered %d, want 200", s.name, s.w.Code)
		}
	}

	b.ReportAllocs()
	b.SetBytes(int64(len(body)) * int64(len(subjects)-1))
	n := len(subjects)
	round := 0
	for b.Loop() {
		for i := range n {
			s := subjects[(round+i)%n]
			start := time.Now()
			s.serve()
			s.took += time.Since(start)
			if s.w.Code != http.StatusOK && s.name != clockName {
				s.refused++
			}
		}
		round++
	}

	ns := make(map[string]float64, n)
	for _, s := range subjects {
		if s.refused > 0 {
			// A refused request (the peer's limiter, say) is not the work being compared.
			b.Fatalf("%s answered %d of %d requests with a status other than 200", s.name, s.refused, round)
		}
		ns[s.name] = float64(s.took.Nanoseconds()) / float64(round)
		b.ReportMetric(ns[s.name], s.name+"-ns/op")
		b.ReportMetric(allocs[s.name], s.name+"-allocs/op")
	}
	b.ReportMetric(ns["peer"]/ns["harden"], "harden-vs-peer-speed")
	b.ReportMetric(ns["gzip-only"]/ns["harden"], "harden-vs-gzip-only-speed")
	b.ReportMetric(ns["bare"]/ns["harden-cached"], "harden-cached-vs-bare-speed")
	b.ReportMetric(ns["harden"]-ns["bare"], "harden-over-bare-ns")
	b.ReportMetric(allocs["harden"]-allocs["bare"], "harden-over-bare-allocs")
}
