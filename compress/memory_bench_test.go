package compress_test

import (
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"

	"github.com/nexus-reussite/harden/compress"
)

// BenchmarkEncoderMemory measures the heap one compressed response holds while it is
// being written: its encoder. Eight responses of a 3 KiB JSON body are held open at once;
// the live heap they add, divided by eight, is reported as MiB/in-flight. Idle encoders
// stay in a sync.Pool, which the garbage collector empties, so a server's peak memory
// follows the number of responses compressed at the same moment.
func BenchmarkEncoderMemory(b *testing.B) {
	const inFlight = 8
	body := jsonBody(3 << 10)
	for _, tc := range []struct {
		name, accept string
		level        int
	}{
		{"zstd/level-6", "zstd", 6},
		{"zstd/level-7", "zstd", 7},
		{"zstd/level-9", "zstd", 9},
		{"gzip/level-6", "gzip", 6},
		{"gzip/level-9", "gzip", 9},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var perResponse float64
			for b.Loop() {
				c := mustNew(b, compress.Config{Level: tc.level})
				started := make(chan struct{})
				release := make(chan struct{})
				h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
					w.Header().Set("Content-Type", "application/json")
					_, _ = w.Write(body)
					started <- struct{}{}
					<-release
				}))
				serve := func() {
					r := httptest.NewRequest(http.MethodGet, "/api/formulas", nil)
					r.Header.Set("Accept-Encoding", tc.accept)
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, r)
					if rec.Header().Get("Content-Encoding") != tc.accept {
						b.Errorf("Content-Encoding %q, want %q", rec.Header().Get("Content-Encoding"), tc.accept)
					}
				}
				base := liveHeap()
				var wg sync.WaitGroup
				for range inFlight {
					wg.Go(serve)
				}
				for range inFlight {
					<-started
				}
				held := liveHeap()
				close(release)
				wg.Wait()
				perResponse = float64(held-base) / inFlight
			}
			b.ReportMetric(perResponse/(1<<20), "MiB/in-flight")
		})
	}
}

// liveHeap returns the bytes of live heap objects once the pools' idle encoders are gone:
// a sync.Pool keeps what it holds through one collection, not two.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
