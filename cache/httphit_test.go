package cache_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nexus-reussite/harden/cache"
)

// discardWriter keeps the header and counts the body, so allocation counts are those of
// the cache rather than of a recorder.
type discardWriter struct {
	h      http.Header
	status int
	n      int
}

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) WriteHeader(code int)        { d.status = code }
func (d *discardWriter) Write(p []byte) (int, error) { d.n += len(p); return len(p), nil }

// patterned stands for a router that matched the request to a pattern before the cache,
// without the router's own allocations.
func patterned(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Pattern = "GET /api/formulas"
		next.ServeHTTP(w, r)
	})
}

// TestHTTPHitDecodesOnce checks that a hit reuses the entry it decoded, whatever its tags
// and Vary: it allocates only the values it sets (one slice today, a few at most), where
// decoding the entry again costs dozens. The exact count is a benchmark's business
// (benchmarks/cache BenchmarkHTTPHit).
func TestHTTPHitDecodesOnce(t *testing.T) {
	payload := strings.Repeat(`{"name":"Groupe Réussite","price":180}`, 80)
	for _, tc := range []struct {
		name string
		cfg  cache.HTTPConfig
		wrap func(http.Handler) http.Handler
	}{
		{"plain", cache.HTTPConfig{Tier: cache.Long, Query: []string{"level"}}, func(h http.Handler) http.Handler { return h }},
		{"tags and vary", cache.HTTPConfig{Tier: cache.Long, Query: []string{"level"}, Tags: []string{"formulas", "prices"}}, gzipMiddleware},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, _ := newHTTP(t, tc.cfg, cache.Config{})
			o := &origin{body: func(*http.Request) string { return payload }}
			handler := patterned(h.Handler(tc.wrap(o)))
			r := httptest.NewRequest(http.MethodGet, "https://api.example.com/api/formulas?level=terminale", nil)
			r.Header.Set("Accept-Encoding", "gzip, br")
			w := &discardWriter{h: http.Header{}}
			serve := func() {
				clear(w.h)
				w.status, w.n = 0, 0
				handler.ServeHTTP(w, r)
			}
			serve() // miss: stored
			serve() // hit: decoded and kept
			allocs := testing.AllocsPerRun(200, func() {
				serve()
				if cacheState(w.h) != "HIT" || w.status != http.StatusOK || w.n == 0 {
					t.Fatalf("not a hit: %d %v", w.status, w.h)
				}
			})
			if o.calls.Load() != 1 {
				t.Fatalf("%d origin calls", o.calls.Load())
			}
			if allocs > 4 {
				t.Fatalf("a cached hit costs %v allocations, want at most 4", allocs)
			}
		})
	}
}

// TestHTTPHitValuesAreOwned proves a hit hands out header values no later hit shares: a
// middleware writing into them cannot alter what the cache serves next.
func TestHTTPHitValuesAreOwned(t *testing.T) {
	h, _ := newHTTP(t, cache.HTTPConfig{}, cache.Config{})
	o := &origin{hdr: http.Header{"X-Origin": {"a", "b"}}}
	handler := routed(h.Handler(o))
	get := func() http.Header {
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/owned", nil))
		return rec.Header()
	}
	get()
	first := get()
	if cacheState(first) != "HIT" {
		t.Fatalf("not a hit: %v", first)
	}
	for _, k := range []string{"X-Origin", "Content-Type", "Etag", "Content-Length", "Age", "Cache-Status"} {
		for i := range first[k] {
			first[k][i] = "overwritten"
		}
		first[k] = append(first[k], "appended")
	}
	second := get()
	if v := second.Values("X-Origin"); len(v) != 2 || v[0] != "a" || v[1] != "b" {
		t.Fatalf("X-Origin %q", v)
	}
	for _, k := range []string{"Content-Type", "Etag", "Content-Length", "Age", "Cache-Status"} {
		if v := second.Values(k); len(v) != 1 || v[0] == "overwritten" {
			t.Fatalf("%s %q", k, v)
		}
	}
}

// TestHTTPReplacedEntryIsServed checks that the decoded form of an entry is not served once
// the store holds other bytes: a second instance sharing the store refreshes the response,
// then the stored bytes are overwritten with garbage.
func TestHTTPReplacedEntryIsServed(t *testing.T) {
	h1, c := newHTTP(t, cache.HTTPConfig{}, cache.Config{})
	h2, err := cache.NewHTTP(c, shown(cache.HTTPConfig{}))
	if err != nil {
		t.Fatal(err)
	}
	probe := &keyProbe{Store: c.Store()}
	c3, _ := cache.New(probe, cache.Config{})
	h3, _ := cache.NewHTTP(c3, shown(cache.HTTPConfig{}))
	o := &origin{}
	a, b, keys := routed(h1.Handler(o)), routed(h2.Handler(o)), routed(h3.Handler(o))
	do := func(h http.Handler, hdr ...string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, "http://example.com/r", nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	if w := do(a); w.Body.String() != `{"call":1}` {
		t.Fatalf("miss %q", w.Body)
	}
	if w := do(a); cacheState(w.Header()) != "HIT" || w.Body.String() != `{"call":1}` {
		t.Fatal("no hit")
	}
	if w := do(b, "Cache-Control", "no-cache"); w.Body.String() != `{"call":2}` || !strings.HasSuffix(w.Header().Get("Cache-Status"), "stored") {
		t.Fatalf("refresh: %v", w.Header())
	}
	if w := do(a); cacheState(w.Header()) != "HIT" || w.Body.String() != `{"call":2}` {
		t.Fatalf("the first instance served %q, not the refreshed response", w.Body)
	}
	// Overwrite the stored entries of the resource with bytes that are not an envelope.
	if w := do(keys); cacheState(w.Header()) != "HIT" || len(probe.keys) != 2 {
		t.Fatalf("read %q", probe.keys)
	}
	for _, k := range probe.keys {
		if err := c.Store().Set(context.Background(), k, []byte("garbage"), 0); err != nil {
			t.Fatal(err)
		}
	}
	if w := do(a); cacheState(w.Header()) != "MISS" || w.Body.String() != `{"call":3}` {
		t.Fatalf("corrupt entry served: %v %q", w.Header(), w.Body)
	}
}

// keyProbe records the keys read through it.
type keyProbe struct {
	cache.Store
	keys []string
}

func (p *keyProbe) Get(ctx context.Context, key string) ([]byte, bool, error) {
	p.keys = append(p.keys, key)
	return p.Store.Get(ctx, key)
}

// TestHTTPHitAgeAndTTLFollowTheClock checks Age and the ttl of Cache-Status on hits within
// one second and across seconds (they are reused while unchanged), and with an outer cache's
// member already present.
func TestHTTPHitAgeAndTTLFollowTheClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, _ := newHTTP(t, cache.HTTPConfig{Name: "edge"}, cache.Config{})
		o := &origin{hdr: http.Header{"Cache-Control": {"max-age=60"}}}
		handler := routed(h.Handler(o))
		get := func(hdr ...string) http.Header {
			r := httptest.NewRequest(http.MethodGet, "/clock", nil)
			w := httptest.NewRecorder()
			for i := 0; i+1 < len(hdr); i += 2 {
				w.Header().Set(hdr[i], hdr[i+1])
			}
			handler.ServeHTTP(w, r)
			return w.Header()
		}
		get()
		for _, step := range []struct {
			sleep  time.Duration
			age    string
			status string
		}{
			{0, "0", "edge; hit; ttl=60"},
			{400 * time.Millisecond, "0", "edge; hit; ttl=60"},
			{200 * time.Millisecond, "0", "edge; hit; ttl=59"}, // 59.4 s left
			{400 * time.Millisecond, "1", "edge; hit; ttl=59"},
			{30 * time.Second, "31", "edge; hit; ttl=29"},
		} {
			time.Sleep(step.sleep)
			hd := get()
			if hd.Get("Age") != step.age || hd.Get("Cache-Status") != step.status || cacheState(hd) != "HIT" {
				t.Fatalf("after %v more: Age %q, Cache-Status %q", step.sleep, hd.Get("Age"), hd.Get("Cache-Status"))
			}
		}
		hd := get("Cache-Status", "outer; fwd=miss")
		if got := hd.Values("Cache-Status"); len(got) != 2 || got[0] != "outer; fwd=miss" || got[1] != "edge; hit; ttl=29" {
			t.Fatalf("Cache-Status %q", got)
		}
		if o.calls.Load() != 1 {
			t.Fatalf("%d origin calls", o.calls.Load())
		}
	})
}

// TestHTTPHitsRaceWithReplacement serves hits from many goroutines while others refresh,
// invalidate and request new variants of the same resources: every response is the one
// the origin produced for its URL and encoding (run with -race for the memo's publication).
func TestHTTPHitsRaceWithReplacement(t *testing.T) {
	h, _ := newHTTP(t, cache.HTTPConfig{}, cache.Config{})
	o := &origin{body: func(r *http.Request) string {
		return r.URL.Path + "|" + r.Header.Get("Accept-Language")
	}, hdr: http.Header{"Vary": {"Accept-Language"}}}
	handler := routed(h.Handler(o))
	paths := []string{"/a", "/b", "/c", "/d"}
	langs := []string{"fr", "en", "ar"}
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for g := range 8 {
		wg.Go(func() {
			for i := range 300 {
				p, l := paths[(g+i)%len(paths)], langs[(g*7+i)%len(langs)]
				r := httptest.NewRequest(http.MethodGet, p, nil)
				r.Header.Set("Accept-Language", l)
				switch {
				case g == 0 && i%10 == 0:
					r.Method = http.MethodPut // invalidates p
				case g == 1 && i%5 == 0:
					r.Header.Set("Cache-Control", "no-cache") // refreshes p
				}
				w := httptest.NewRecorder()
				handler.ServeHTTP(w, r)
				if want := p + "|" + l; w.Body.String() != want {
					select {
					case errs <- w.Body.String() + " for " + want:
					default:
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if o.calls.Load() >= 8*300 {
		t.Fatalf("%d origin calls: nothing was served from the cache", o.calls.Load())
	}
}

// TestHTTPRequestFormsShareEntries serves requests that name the same resource and variant
// in different forms (the host's case, Accept-Encoding reordered, spaced, split over field
// lines or with a refused coding): the first stores the response, every other form is a hit
// on it, hit again once seen. Requests naming another resource or variant are not.
func TestHTTPRequestFormsShareEntries(t *testing.T) {
	h, _ := newHTTP(t, cache.HTTPConfig{Query: []string{"a"}}, cache.Config{})
	o := &origin{hdr: http.Header{"Vary": {"Accept-Encoding"}}}
	handler := routed(h.Handler(o))
	get := func(host string, ae ...string) (string, string) {
		r := httptest.NewRequest(http.MethodGet, "http://"+host+"/forms?a=1", nil)
		for _, v := range ae {
			r.Header.Add("Accept-Encoding", v)
		}
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, r)
		return cacheState(w.Header()), w.Body.String()
	}
	if x, b := get("api.example.com", "gzip, br"); x != "MISS" || b != `{"call":1}` {
		t.Fatalf("first request: %s %q", x, b)
	}
	forms := [][]string{
		{"API.Example.com", "gzip, br"},
		{"api.example.com", "br,gzip"},
		{"api.example.com", " GZIP ;q=1 , br"},
		{"api.example.com", "br", "gzip"},
		{"Api.example.COM", "br, gzip, zstd;q=0"},
	}
	for range 2 {
		for _, f := range forms {
			if x, b := get(f[0], f[1:]...); x != "HIT" || b != `{"call":1}` {
				t.Fatalf("%q: %s %q", f, x, b)
			}
		}
	}
	if x, b := get("api.example.com", "gzip"); x != "MISS" || b != `{"call":2}` {
		t.Fatalf("another variant: %s %q", x, b)
	}
	if x, b := get("www.example.com", "gzip, br"); x != "MISS" || b != `{"call":3}` {
		t.Fatalf("another host: %s %q", x, b)
	}
}

// TestHTTPVaryNamesChange changes the Vary names of a resource while requests keep the
// same field values: a hit serves the variant the current names select, never one stored
// under the earlier names.
func TestHTTPVaryNamesChange(t *testing.T) {
	h, _ := newHTTP(t, cache.HTTPConfig{}, cache.Config{})
	var vary atomic.Value
	vary.Store("Accept-Language")
	o := &origin{}
	handler := routed(h.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Vary", vary.Load().(string))
		o.ServeHTTP(w, r)
	})))
	get := func(hdr ...string) (string, string) {
		r := httptest.NewRequest(http.MethodGet, "/names", nil)
		r.Header.Set("Accept-Language", "same")
		r.Header.Set("X-Variant", "same")
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, r)
		return cacheState(w.Header()), w.Body.String()
	}
	get()
	if x, b := get(); x != "HIT" || b != `{"call":1}` {
		t.Fatalf("under Accept-Language: %s %q", x, b)
	}
	vary.Store("X-Variant")
	if x, b := get("Cache-Control", "no-cache"); x != "MISS" || b != `{"call":2}` {
		t.Fatalf("refresh: %s %q", x, b)
	}
	if x, b := get(); x != "HIT" || b != `{"call":2}` {
		t.Fatalf("under X-Variant: %s %q", x, b)
	}
	vary.Store("Accept-Language")
	if x, b := get("Cache-Control", "no-cache"); x != "MISS" || b != `{"call":3}` {
		t.Fatalf("refresh: %s %q", x, b)
	}
	if x, b := get(); x != "HIT" || b != `{"call":3}` {
		t.Fatalf("under Accept-Language again: %s %q", x, b)
	}
}
