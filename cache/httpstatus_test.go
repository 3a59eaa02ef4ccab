package cache_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nexus-reussite/harden/cache"
)

// TestHTTPSendsNoCacheStatusByDefault walks every way a response leaves the cache (miss,
// hit, HEAD, bypass for a query or credentials, only-if-cached, stale-while-revalidate,
// stale-if-error) with the zero HTTPConfig: none says what the cache did, while the cache
// still works (the handler runs once per stored entry, Age is on hits) and what outer
// middleware set (a member of its own, a security header) stays as it was, also when a
// stale response stands in for a failing handler.
func TestHTTPSendsNoCacheStatusByDefault(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _ := newCache(t, cache.Config{StaleWhileRevalidate: time.Minute, StaleIfError: 10 * time.Minute})
		h, err := cache.NewHTTP(c, cache.HTTPConfig{})
		if err != nil {
			t.Fatal(err)
		}
		o := &flakyOrigin{}
		handler := routed(h.Handler(o))
		get := func(method, target string, hdr ...string) *httptest.ResponseRecorder {
			t.Helper()
			rec := httptest.NewRecorder()
			rec.Header().Set("Cache-Status", "edge; fwd=uri-miss") // an outer cache's member
			rec.Header().Set("Strict-Transport-Security", "max-age=63072000")
			req := httptest.NewRequest(method, target, nil)
			for i := 0; i+1 < len(hdr); i += 2 {
				req.Header.Set(hdr[i], hdr[i+1])
			}
			handler.ServeHTTP(rec, req)
			if got := rec.Header().Values("Cache-Status"); len(got) != 1 || got[0] != "edge; fwd=uri-miss" {
				t.Fatalf("%s %s %v: Cache-Status %q, want the outer member alone", method, target, hdr, got)
			}
			if rec.Header().Get("Strict-Transport-Security") == "" {
				t.Fatalf("%s %s %v: the outer middleware's field is gone", method, target, hdr)
			}
			return rec
		}
		steps := []struct {
			name   string
			sleep  time.Duration
			method string
			target string
			hdr    []string
			body   string
			code   int
			age    string
			calls  int64
		}{
			{"miss", 0, "GET", "/s", nil, "v1", 200, "", 1},
			{"hit", time.Second, "GET", "/s", nil, "v1", 200, "1", 1},
			{"HEAD hit", 0, "HEAD", "/s", nil, "", 200, "1", 1},
			{"query bypass", 0, "GET", "/s?utm=x", nil, "v2", 200, "", 2},
			{"credentials bypass", 0, "GET", "/s", []string{"Cookie", "session=alice"}, "v3", 200, "", 3},
			{"only-if-cached miss", 0, "GET", "/none", []string{"Cache-Control", "only-if-cached"}, "", 504, "", 3},
			// Served stale at once; the count includes the background revalidation (v4).
			{"stale while revalidating", 69 * time.Second, "GET", "/s", nil, "v1", 200, "70", 4},
		}
		for _, s := range steps {
			time.Sleep(s.sleep)
			r := get(s.method, s.target, s.hdr...)
			if r.Code != s.code || (s.body != "" && r.Body.String() != s.body) || r.Header().Get("Age") != s.age {
				t.Fatalf("%s: %d %q Age %q, want %d %q Age %q", s.name, r.Code, r.Body, r.Header().Get("Age"), s.code, s.body, s.age)
			}
			synctest.Wait() // what the request started in the background has run
			if got := o.calls.Load(); got != s.calls {
				t.Fatalf("%s: %d handler calls, want %d", s.name, got, s.calls)
			}
		}
		o.failing.Store(true)
		time.Sleep(3 * time.Minute)
		if r := get("GET", "/s"); r.Code != 200 || r.Body.String() != "v4" || r.Header().Get("Age") == "" {
			t.Fatalf("stale-if-error: %d %q %v", r.Code, r.Body, r.Header())
		}
	})
}

// TestHTTPCacheStatusShownToChosenClients checks that CacheStatus decides per request,
// is asked once per GET or HEAD (never for other methods), and sees the request as it
// reached the cache: with the credentials a SameForEveryone route takes off before the
// handler.
func TestHTTPCacheStatusShownToChosenClients(t *testing.T) {
	c, _ := newCache(t, cache.Config{})
	var asked atomic.Int64
	var sawCookie atomic.Bool
	h, err := cache.NewHTTP(c, cache.HTTPConfig{SameForEveryone: true, CacheStatus: func(r *http.Request) bool {
		asked.Add(1)
		if r.Header.Get("Cookie") != "" {
			sawCookie.Store(true)
		}
		return r.Header.Get("X-Debug") == "on"
	}})
	if err != nil {
		t.Fatal(err)
	}
	do := serve(t, h.Handler(&origin{}))
	for _, step := range []struct {
		method string
		hdr    []string
		want   string
	}{
		{"GET", nil, ""},
		{"GET", []string{"X-Debug", "on"}, "harden; hit; ttl="},
		{"HEAD", []string{"X-Debug", "on"}, "harden; hit; ttl="},
		{"GET", []string{"X-Debug", "on", "Cookie", "session=alice"}, "harden; hit; ttl="},
		{"GET", []string{"X-Debug", "off"}, ""},
		{"GET", []string{"X-Debug", "on", "Cache-Control", "no-store"}, "harden; fwd=bypass"},
		{"POST", []string{"X-Debug", "on"}, ""},
	} {
		resp := do(step.method, "/formulas", step.hdr...)
		if got := resp.Header.Get("Cache-Status"); !strings.HasPrefix(got, step.want) || (step.want == "") != (got == "") {
			t.Fatalf("%s %v: Cache-Status %q, want %q", step.method, step.hdr, got, step.want)
		}
	}
	if got := asked.Load(); got != 6 {
		t.Fatalf("CacheStatus asked %d times for 6 GET and HEAD requests", got)
	}
	if !sawCookie.Load() {
		t.Fatal("CacheStatus did not see the request's cookie")
	}
}
