package compressbench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/NYTimes/gziphandler"
	"github.com/klauspost/compress/gzhttp"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/nexus-reussite/harden/compress"
)

// sizes are the response bodies benchmarked.
var sizes = []struct {
	name string
	n    int
}{{"1KiB", 1 << 10}, {"10KiB", 10 << 10}, {"100KiB", 100 << 10}}

// jsonOf returns about n bytes of API-shaped JSON.
func jsonOf(n int) []byte {
	type row struct {
		ID       int      `json:"id"`
		Name     string   `json:"name"`
		Email    string   `json:"email"`
		Role     string   `json:"role"`
		Level    string   `json:"grade_level"`
		Price    int      `json:"price_tnd"`
		Subjects []string `json:"subjects"`
	}
	var rows []row
	var out []byte
	for i := 0; len(out) < n; i++ {
		rows = append(rows, row{
			ID: 1000 + i, Name: fmt.Sprintf("Élève %d", i), Email: fmt.Sprintf("eleve%d@nexus-reussite.tn", i),
			Role: "student", Level: []string{"seconde", "première", "terminale"}[i%3], Price: 180 + 10*(i%12),
			Subjects: []string{"mathématiques", "physique", []string{"NSI", "SVT", "philosophie"}[i%3]},
		})
		out, _ = json.Marshal(rows)
	}
	return out[:len(out):len(out)]
}

// sink is a ResponseWriter that keeps nothing and allocates nothing once warm.
type sink struct {
	h    http.Header
	n    int
	code int
}

func (s *sink) Header() http.Header         { return s.h }
func (s *sink) WriteHeader(code int)        { s.code = code }
func (s *sink) Write(p []byte) (int, error) { s.n += len(p); return len(p), nil }
func (s *sink) Flush()                      {}

// jsonHandler writes body as application/json without allocating.
func jsonHandler(body []byte) http.Handler {
	ct := []string{"application/json"}
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header()["Content-Type"] = ct
		_, _ = w.Write(body)
	})
}

type variant struct {
	name   string
	accept string
	wrap   func(tb testing.TB, h http.Handler) http.Handler
}

// hardenAt wraps with harden's compressor at level and the 500-byte minimum.
func hardenAt(level int) func(testing.TB, http.Handler) http.Handler {
	return func(tb testing.TB, h http.Handler) http.Handler {
		c, err := compress.New(compress.Config{Level: level, MinSize: 500})
		if err != nil {
			tb.Fatal(err)
		}
		return c.Handler(h)
	}
}

var hardenWrap = hardenAt(6)

var variants = []variant{
	{"none", "gzip", func(_ testing.TB, h http.Handler) http.Handler { return h }},
	{"harden-zstd", "zstd", hardenWrap},
	{"harden-gzip", "gzip", hardenWrap},
	{"gzhttp", "gzip", func(tb testing.TB, h http.Handler) http.Handler {
		w, err := gzhttp.NewWrapper(gzhttp.CompressionLevel(6), gzhttp.MinSize(500))
		if err != nil {
			tb.Fatal(err)
		}
		return w(h)
	}},
	{"gziphandler", "gzip", func(tb testing.TB, h http.Handler) http.Handler {
		w, err := gziphandler.GzipHandlerWithOpts(gziphandler.CompressionLevel(6), gziphandler.MinSize(500))
		if err != nil {
			tb.Fatal(err)
		}
		return w(h)
	}},
}

// run serves body through v b.N times and reports the bytes sent per response.
func run(b *testing.B, v variant, body []byte) {
	h := v.wrap(b, jsonHandler(body))
	r := httptest.NewRequest("GET", "/api/students", nil)
	r.Header.Set("Accept-Encoding", v.accept)
	w := &sink{h: make(http.Header, 8)}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		clear(w.h)
		w.n = 0
		h.ServeHTTP(w, r)
	}
	b.ReportMetric(float64(w.n), "wire-B/op")
}

func BenchmarkCompress(b *testing.B) {
	for _, s := range sizes {
		body := jsonOf(s.n)
		for _, v := range variants {
			b.Run(s.name+"/"+v.name, func(b *testing.B) { run(b, v, body) })
		}
	}
}

// BenchmarkSmall serves a 200-byte body, under every variant's 500-byte minimum, so
// ns/op over "none" is each middleware's per-request cost when it does not compress.
func BenchmarkSmall(b *testing.B) {
	body := jsonOf(200)[:200]
	for _, v := range variants {
		b.Run(v.name, func(b *testing.B) { run(b, v, body) })
	}
}

// BenchmarkRatios serves the same body through harden gzip, gzhttp and harden zstd
// in turn within each iteration, so that load on the machine hits all three alike,
// compares the median time of each (robust to preemption by other processes), and
// reports the targets: harden gzip time over gzhttp time (target ≤ 1.05),
// harden gzip time over harden zstd time (zstd throughput multiple, target ≥ 1.5) and
// zstd bytes over gzip bytes (target ≤ 1).
func BenchmarkRatios(b *testing.B) {
	byName := map[string]variant{}
	for _, v := range variants {
		byName[v.name] = v
	}
	for _, s := range sizes {
		body := jsonOf(s.n)
		b.Run(s.name, func(b *testing.B) {
			type subject struct {
				h    http.Handler
				r    *http.Request
				w    *sink
				took []time.Duration
			}
			setup := func(name string) *subject {
				v := byName[name]
				r := httptest.NewRequest("GET", "/api/students", nil)
				r.Header.Set("Accept-Encoding", v.accept)
				return &subject{h: v.wrap(b, jsonHandler(body)), r: r, w: &sink{h: make(http.Header, 8)}}
			}
			subjects := []*subject{setup("harden-gzip"), setup("gzhttp"), setup("harden-zstd")}
			for b.Loop() {
				for _, sj := range subjects {
					clear(sj.w.h)
					sj.w.n = 0
					start := time.Now()
					sj.h.ServeHTTP(sj.w, sj.r)
					sj.took = append(sj.took, time.Since(start))
				}
			}
			hg, gz, hz := subjects[0], subjects[1], subjects[2]
			b.ReportMetric(median(hg.took)/median(gz.took), "gzip/gzhttp-time")
			b.ReportMetric(median(hg.took)/median(hz.took), "zstd-speedup")
			b.ReportMetric(float64(hz.w.n)/float64(hg.w.n), "zstd/gzip-bytes")
		})
	}
}

func median(d []time.Duration) float64 {
	s := slices.Clone(d)
	slices.Sort(s)
	return float64(s[len(s)/2])
}

// TestBenchmarkedResponsesDecode checks that every variant really compresses what
// it is benchmarked on, so the numbers compare like with like.
func TestBenchmarkedResponsesDecode(t *testing.T) {
	for _, s := range sizes {
		body := jsonOf(s.n)
		for _, v := range variants {
			h := v.wrap(t, jsonHandler(body))
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Accept-Encoding", v.accept)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			enc := rec.Header().Get("Content-Encoding")
			want := v.accept
			if v.name == "none" {
				want = ""
			}
			if enc != want {
				t.Fatalf("%s/%s: Content-Encoding %q, want %q", s.name, v.name, enc, want)
			}
			if got := decoded(t, enc, rec.Body); !bytes.Equal(got, body) {
				t.Fatalf("%s/%s: decoded body differs", s.name, v.name)
			}
		}
	}
}

// decoded undoes the content coding enc ("", gzip or zstd) of body.
func decoded(tb testing.TB, enc string, body io.Reader) []byte {
	tb.Helper()
	switch enc {
	case "gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			tb.Fatal(err)
		}
		body = zr
	case "zstd":
		zr, err := zstd.NewReader(body)
		if err != nil {
			tb.Fatal(err)
		}
		defer zr.Close()
		body = zr
	}
	got, err := io.ReadAll(body)
	if err != nil {
		tb.Fatalf("decoding %s: %v", enc, err)
	}
	return got
}
