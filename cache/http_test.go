package cache_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nexus-reussite/harden/cache"
)

// origin is a handler counting its calls, answering with body and the headers of hdr.
type origin struct {
	calls  atomic.Int64
	status int
	hdr    http.Header
	body   func(r *http.Request) string
}

func (o *origin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := o.calls.Add(1)
	for k, v := range o.hdr {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Type", "application/json")
	if o.status != 0 {
		w.WriteHeader(o.status)
	}
	if o.body != nil {
		_, _ = io.WriteString(w, o.body(r))
		return
	}
	fmt.Fprintf(w, `{"call":%d}`, n)
}

func newHTTP(t *testing.T, cfg cache.HTTPConfig, ccfg cache.Config) (*cache.HTTPCache, *cache.Cache) {
	t.Helper()
	c, _ := newCache(t, ccfg)
	h, err := cache.NewHTTP(c, shown(cfg))
	if err != nil {
		t.Fatal(err)
	}
	return h, c
}

// routed serves next for every path of an http.ServeMux, the way a route is registered
// with the cache on it: the router has matched the request when the cache sees it.
func routed(next http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", next)
	return mux
}

// serve starts a real server for handler, routed, and returns a request helper.
func serve(t *testing.T, handler http.Handler) func(method, path string, hdr ...string) *http.Response {
	t.Helper()
	srv := httptest.NewServer(routed(handler))
	t.Cleanup(srv.Close)
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	t.Cleanup(client.CloseIdleConnections)
	return func(method, path string, hdr ...string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Add(hdr[i], hdr[i+1])
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = resp.Body.Close() })
		return resp
	}
}

// cacheState reads what the cache did with a response from the last member of its
// Cache-Status (RFC 9211): "HIT" (hit, ttl >= 0, no fwd), "STALE" (hit with a negative ttl),
// "BYPASS" (fwd=bypass), "MISS" (any other member), "" (no member), "INVALID" (a hit
// without a ttl or with fwd and a fresh ttl). A response carrying X-Cache reads as
// "X-Cache: <value>", which no caller expects: the cache sends Cache-Status alone.
// shown returns cfg with Cache-Status on every response, which these tests read; the
// default (none) has tests of its own.
func shown(cfg cache.HTTPConfig) cache.HTTPConfig {
	if cfg.CacheStatus == nil {
		cfg.CacheStatus = func(*http.Request) bool { return true }
	}
	return cfg
}

func cacheState(hd http.Header) string {
	if x, ok := hd["X-Cache"]; ok {
		return "X-Cache: " + strings.Join(x, ",")
	}
	vals := hd.Values("Cache-Status")
	if len(vals) == 0 {
		return ""
	}
	members := strings.Split(vals[len(vals)-1], ",")
	params := strings.Split(members[len(members)-1], ";")[1:] // [0] is the cache's name
	var hit bool
	var ttl, fwd string
	for _, p := range params {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch k {
		case "hit":
			hit = true
		case "ttl":
			ttl = v
		case "fwd":
			fwd = v
		}
	}
	switch {
	case hit && ttl == "":
		return "INVALID"
	case hit && strings.HasPrefix(ttl, "-"):
		return "STALE"
	case hit && fwd != "":
		return "INVALID"
	case hit:
		return "HIT"
	case fwd == "bypass":
		return "BYPASS"
	}
	return "MISS"
}

func body(t *testing.T, r *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestHTTPMissThenHit(t *testing.T) {
	h, _ := newHTTP(t, cache.HTTPConfig{Tier: cache.Long, Query: []string{"level"}}, cache.Config{})
	o := &origin{}
	do := serve(t, h.Handler(o))

	r1 := do("GET", "/api/formulas")
	if got := body(t, r1); got != `{"call":1}` {
		t.Fatalf("first body %q", got)
	}
	if cacheState(r1.Header) != "MISS" || r1.Header.Get("Cache-Status") != "harden; fwd=uri-miss; stored" {
		t.Fatalf("miss headers: %q Cache-Status=%q", cacheState(r1.Header), r1.Header.Get("Cache-Status"))
	}
	etag := r1.Header.Get("ETag")
	if !strings.HasPrefix(etag, `"`) {
		t.Fatalf("no generated ETag: %q", etag)
	}
	r2 := do("GET", "/api/formulas")
	if got := body(t, r2); got != `{"call":1}` || o.calls.Load() != 1 {
		t.Fatalf("second body %q after %d origin calls", got, o.calls.Load())
	}
	if cacheState(r2.Header) != "HIT" || !strings.HasPrefix(r2.Header.Get("Cache-Status"), "harden; hit; ttl=") {
		t.Fatalf("hit headers: %v", r2.Header)
	}
	if r2.Header.Get("ETag") != etag || r2.Header.Get("Age") == "" || r2.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("hit lost headers: %v", r2.Header)
	}
	if r2.Header.Get("Content-Length") != "10" {
		t.Fatalf("Content-Length %q", r2.Header.Get("Content-Length"))
	}
	// Another query string is another resource.
	if got := body(t, do("GET", "/api/formulas?level=terminale")); got != `{"call":2}` {
		t.Fatalf("other query served %q", got)
	}
	// Methods other than GET and HEAD pass through; unsafe ones invalidate their URI.
	if got := body(t, do("OPTIONS", "/api/formulas")); got != `{"call":3}` {
		t.Fatalf("OPTIONS got %q", got)
	}
	if r := do("GET", "/api/formulas"); cacheState(r.Header) != "HIT" {
		t.Fatal("OPTIONS invalidated the entry")
	}
	if got := body(t, do("PUT", "/api/formulas")); got != `{"call":4}` {
		t.Fatalf("PUT got %q", got)
	}
	if r := do("GET", "/api/formulas"); cacheState(r.Header) != "MISS" || body(t, r) != `{"call":5}` {
		t.Fatal("PUT did not invalidate the entry of its URI")
	}
	if r := do("GET", "/api/formulas?level=terminale"); cacheState(r.Header) != "HIT" {
		t.Fatal("PUT invalidated another URI")
	}
}

func TestHTTPConditional(t *testing.T) {
	h, c := newHTTP(t, cache.HTTPConfig{Tags: []string{"formulas"}}, cache.Config{})
	o := &origin{body: func(*http.Request) string { return `["Grand Oral"]` }}
	do := serve(t, h.Handler(o))
	etag := do("GET", "/f").Header.Get("ETag")

	r := do("GET", "/f", "If-None-Match", `"other", `+etag)
	if r.StatusCode != http.StatusNotModified || body(t, r) != "" || r.Header.Get("ETag") != etag {
		t.Fatalf("hit with matching If-None-Match: %d %v", r.StatusCode, r.Header)
	}
	r = do("GET", "/f", "If-None-Match", "W/"+etag)
	if r.StatusCode != http.StatusNotModified {
		t.Fatalf("weak comparison: %d", r.StatusCode)
	}
	r = do("GET", "/f", "If-None-Match", `"nope"`)
	if r.StatusCode != http.StatusOK || body(t, r) != `["Grand Oral"]` {
		t.Fatalf("non-matching If-None-Match: %d", r.StatusCode)
	}
	// After invalidation the origin is asked for a full response (without the
	// conditional), and the unchanged body still earns a 304.
	_ = c.InvalidateTags(context.Background(), "formulas")
	r = do("GET", "/f", "If-None-Match", etag)
	if r.StatusCode != http.StatusNotModified || cacheState(r.Header) != "MISS" || o.calls.Load() != 2 {
		t.Fatalf("miss with matching If-None-Match: %d %v calls=%d", r.StatusCode, r.Header, o.calls.Load())
	}
}

func TestHTTPHead(t *testing.T) {
	h, _ := newHTTP(t, cache.HTTPConfig{}, cache.Config{})
	o := &origin{}
	do := serve(t, h.Handler(o))
	r := do("HEAD", "/x")
	if cacheState(r.Header) != "MISS" || o.calls.Load() != 1 {
		t.Fatal("HEAD miss not forwarded")
	}
	_ = do("GET", "/x")
	if o.calls.Load() != 2 {
		t.Fatal("HEAD response was stored for GET")
	}
	r = do("HEAD", "/x")
	if cacheState(r.Header) != "HIT" || r.Header.Get("Content-Length") != "10" || body(t, r) != "" || o.calls.Load() != 2 {
		t.Fatalf("HEAD hit: %v", r.Header)
	}
}

func TestHTTPRequestDirectives(t *testing.T) {
	h, _ := newHTTP(t, cache.HTTPConfig{}, cache.Config{})
	o := &origin{}
	do := serve(t, h.Handler(o))
	_ = do("GET", "/r")

	r := do("GET", "/r", "Cache-Control", "no-store")
	if cacheState(r.Header) != "BYPASS" || body(t, r) != `{"call":2}` {
		t.Fatalf("no-store: %v", r.Header)
	}
	if got := body(t, do("GET", "/r")); got != `{"call":1}` {
		t.Fatalf("no-store request replaced the entry: %q", got)
	}
	r = do("GET", "/r", "Cache-Control", "no-cache")
	if body(t, r) != `{"call":3}` || r.Header.Get("Cache-Status") != "harden; fwd=request; stored" {
		t.Fatalf("no-cache: %v", r.Header)
	}
	if got := body(t, do("GET", "/r")); got != `{"call":3}` {
		t.Fatalf("no-cache response not stored: %q", got)
	}
	if got := body(t, do("GET", "/r", "Pragma", "no-cache")); got != `{"call":4}` {
		t.Fatalf("Pragma: no-cache served %q", got)
	}
	if got := body(t, do("GET", "/r", "Cache-Control", "max-age=0")); got != `{"call":5}` {
		t.Fatalf("max-age=0 served %q", got)
	}
	if got := body(t, do("GET", "/r", "Cache-Control", "max-age=3600")); got != `{"call":5}` {
		t.Fatalf("max-age=3600 served %q", got)
	}
	if got := body(t, do("GET", "/r", "Cache-Control", "min-fresh=100000")); got != `{"call":6}` {
		t.Fatalf("min-fresh beyond the TTL served %q", got)
	}
	r = do("GET", "/absent", "Cache-Control", "only-if-cached")
	if r.StatusCode != http.StatusGatewayTimeout || r.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("only-if-cached miss: %d %v", r.StatusCode, r.Header)
	}
	if r := do("GET", "/r", "Cache-Control", "only-if-cached"); r.StatusCode != http.StatusOK || cacheState(r.Header) != "HIT" {
		t.Fatalf("only-if-cached hit: %d", r.StatusCode)
	}
}

func TestHTTPResponsesNotStored(t *testing.T) {
	cases := map[string]*origin{
		"set-cookie": {hdr: http.Header{"Set-Cookie": {"session=1"}}},
		"no-store":   {hdr: http.Header{"Cache-Control": {"no-store"}}},
		"private":    {hdr: http.Header{"Cache-Control": {"private, max-age=60"}}},
		"no-cache":   {hdr: http.Header{"Cache-Control": {"no-cache"}}},
		"max-age=0":  {hdr: http.Header{"Cache-Control": {"max-age=0"}}},
		"bad max":    {hdr: http.Header{"Cache-Control": {"max-age=soon"}}},
		"vary-star":  {hdr: http.Header{"Vary": {"*"}}},
		"500":        {status: 500},
		"206":        {status: 206},
		"404":        {status: 404},
		"410 public": {status: 410, hdr: http.Header{"Cache-Control": {"public"}}},
	}
	for name, o := range cases {
		t.Run(name, func(t *testing.T) {
			h, _ := newHTTP(t, cache.HTTPConfig{}, cache.Config{})
			do := serve(t, h.Handler(o))
			_ = do("GET", "/x")
			r := do("GET", "/x")
			if cacheState(r.Header) != "MISS" || o.calls.Load() != 2 {
				t.Fatalf("stored: %v after %d calls", r.Header, o.calls.Load())
			}
			if name == "set-cookie" && r.Header.Get("Set-Cookie") == "" {
				t.Fatal("Set-Cookie dropped from the forwarded response")
			}
		})
	}
	t.Run("404 with a lifetime is stored", func(t *testing.T) {
		h, _ := newHTTP(t, cache.HTTPConfig{}, cache.Config{})
		o := &origin{status: 404, hdr: http.Header{"Cache-Control": {"max-age=60"}}}
		do := serve(t, h.Handler(o))
		_ = do("GET", "/x")
		if r := do("GET", "/x"); r.StatusCode != 404 || cacheState(r.Header) != "HIT" {
			t.Fatalf("404: %d %v", r.StatusCode, r.Header)
		}
	})
}

func TestHTTPVary(t *testing.T) {
	h, _ := newHTTP(t, cache.HTTPConfig{}, cache.Config{})
	o := &origin{hdr: http.Header{"Vary": {"Accept-Language"}}, body: func(r *http.Request) string {
		return "lang=" + r.Header.Get("Accept-Language")
	}}
	do := serve(t, h.Handler(o))
	for range 2 {
		for _, lang := range []string{"fr", "ar", "en"} {
			if got := body(t, do("GET", "/v", "Accept-Language", lang)); got != "lang="+lang {
				t.Fatalf("Accept-Language %s got %q", lang, got)
			}
		}
	}
	if o.calls.Load() != 3 {
		t.Fatalf("%d origin calls for 3 variants", o.calls.Load())
	}
	r := do("GET", "/v", "Accept-Language", "de")
	if r.Header.Get("Cache-Status") != "harden; fwd=vary-miss; stored" {
		t.Fatalf("new variant: %q", r.Header.Get("Cache-Status"))
	}
}

// gzipMiddleware stands for a compression middleware: it gzips when the client accepts it
// and says so in Vary.
func gzipMiddleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Accept-Encoding")
		if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			if k == "Vary" {
				continue // the recorder's Vary holds only what the inner handler added
			}
			w.Header()[k] = v
		}
		for _, v := range rec.Header().Values("Vary") {
			w.Header().Add("Vary", v)
		}
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		_, _ = zw.Write(rec.Body.Bytes())
		_ = zw.Close()
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.Code)
		_, _ = w.Write(b.Bytes())
	})
}

func gunzip(t *testing.T, r *http.Response) string {
	t.Helper()
	if r.Header.Get("Content-Encoding") != "gzip" {
		return body(t, r)
	}
	zr, err := gzip.NewReader(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestHTTPComposesWithCompression(t *testing.T) {
	payload := strings.Repeat(`{"name":"Groupe Réussite","price":180}`, 50)
	t.Run("compression inside the cache", func(t *testing.T) {
		h, _ := newHTTP(t, cache.HTTPConfig{}, cache.Config{})
		o := &origin{body: func(*http.Request) string { return payload }}
		do := serve(t, h.Handler(gzipMiddleware(o)))
		for range 2 {
			r := do("GET", "/f", "Accept-Encoding", "gzip, deflate, br")
			if r.Header.Get("Content-Encoding") != "gzip" || gunzip(t, r) != payload {
				t.Fatalf("gzip variant wrong: %v", r.Header)
			}
			r = do("GET", "/f")
			if r.Header.Get("Content-Encoding") != "" || body(t, r) != payload {
				t.Fatalf("identity variant wrong: %v", r.Header)
			}
		}
		// Same set of codings in another order, with spaces and case: same variant.
		r := do("GET", "/f", "Accept-Encoding", "BR,gzip ,deflate;q=0.5")
		if cacheState(r.Header) != "HIT" || gunzip(t, r) != payload {
			t.Fatalf("normalised Accept-Encoding missed: %v", r.Header)
		}
		if o.calls.Load() != 2 {
			t.Fatalf("%d origin calls, want one per encoding", o.calls.Load())
		}
	})
	t.Run("compression outside the cache", func(t *testing.T) {
		h, _ := newHTTP(t, cache.HTTPConfig{}, cache.Config{})
		o := &origin{body: func(*http.Request) string { return payload }}
		o.hdr = http.Header{"Vary": {"Accept-Language"}}
		do := serve(t, gzipMiddleware(h.Handler(o)))
		for range 2 {
			r := do("GET", "/f", "Accept-Encoding", "gzip")
			if r.Header.Get("Content-Encoding") != "gzip" || gunzip(t, r) != payload {
				t.Fatalf("compressed hit wrong: %v", r.Header)
			}
			if vary := strings.Join(r.Header.Values("Vary"), ","); !strings.Contains(vary, "Accept-Encoding") || !strings.Contains(vary, "Accept-Language") {
				t.Fatalf("Vary %q lost a member", vary)
			}
			r = do("GET", "/f")
			if body(t, r) != payload {
				t.Fatal("identity wrong")
			}
			if vary := strings.Join(r.Header.Values("Vary"), ","); !strings.Contains(vary, "Accept-Encoding") || !strings.Contains(vary, "Accept-Language") {
				t.Fatalf("identity response: Vary %q lost a member", vary)
			}
		}
		if o.calls.Load() != 1 {
			t.Fatalf("%d origin calls, want 1: the cache stores identity", o.calls.Load())
		}
	})
}

func TestHTTPLargeBodyStreamsUncached(t *testing.T) {
	h, _ := newHTTP(t, cache.HTTPConfig{MaxBodyBytes: 1000}, cache.Config{})
	big := strings.Repeat("x", 5000)
	o := &origin{body: func(*http.Request) string { return big }}
	do := serve(t, h.Handler(o))
	for range 2 {
		if got := body(t, do("GET", "/big")); got != big {
			t.Fatalf("body of %d bytes", len(got))
		}
	}
	if o.calls.Load() != 2 {
		t.Fatal("body above MaxBodyBytes was stored")
	}
}

func TestHTTPFlushStreamsThroughCache(t *testing.T) {
	h, _ := newHTTP(t, cache.HTTPConfig{}, cache.Config{})
	release := make(chan struct{})
	do := serve(t, h.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "first\n")
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("Flush through the cache: %v", err)
		}
		<-release
		_, _ = io.WriteString(w, "second\n")
	})))
	r := do("GET", "/stream")
	line, err := bufio.NewReader(r.Body).ReadString('\n')
	if err != nil || line != "first\n" {
		t.Fatalf("first chunk %q, %v: not streamed", line, err)
	}
	close(release)
	if cacheState(r.Header) != "MISS" {
		t.Fatalf("%q: %v", cacheState(r.Header), r.Header)
	}
}

func TestHTTPHijackAndDeadlinesThroughCache(t *testing.T) {
	h, _ := newHTTP(t, cache.HTTPConfig{}, cache.Config{})
	srv := httptest.NewServer(routed(h.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if err := rc.SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			t.Errorf("SetWriteDeadline through the cache: %v", err)
		}
		conn, buf, err := rc.Hijack()
		if err != nil {
			t.Errorf("Hijack through the cache: %v", err)
			return
		}
		defer conn.Close()
		_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n\r\nhijacked")
		_ = buf.Flush()
	}))))
	t.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if got := body(t, resp); got != "hijacked" {
		t.Fatalf("hijacked response %q", got)
	}
}

// flakyOrigin answers "v<n>" on its n-th call, fresh for 60 s, or 503 while failing.
type flakyOrigin struct {
	calls   atomic.Int64
	failing atomic.Bool
}

func (o *flakyOrigin) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	n := o.calls.Add(1)
	if o.failing.Load() {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Cache-Control", "max-age=60")
	fmt.Fprintf(w, "v%d", n)
}

func TestHTTPLifetimeAndStale(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, _ := newHTTP(t, cache.HTTPConfig{}, cache.Config{StaleWhileRevalidate: time.Minute, StaleIfError: 10 * time.Minute})
		o := &flakyOrigin{}
		handler := routed(h.Handler(o))
		get := func(hdr ...string) *httptest.ResponseRecorder {
			req := httptest.NewRequest("GET", "/s", nil)
			for i := 0; i+1 < len(hdr); i += 2 {
				req.Header.Set(hdr[i], hdr[i+1])
			}
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, req)
			return rec
		}
		_ = get()
		time.Sleep(60*time.Second - time.Nanosecond)
		if r := get(); r.Body.String() != "v1" || cacheState(r.Header()) != "HIT" || r.Header().Get("Age") != "59" {
			t.Fatalf("before max-age: %q %v", r.Body, r.Header())
		}
		time.Sleep(time.Nanosecond + 10*time.Second)
		r := get()
		if r.Body.String() != "v1" || cacheState(r.Header()) != "STALE" || !strings.Contains(r.Header().Get("Cache-Status"), "ttl=-10") {
			t.Fatalf("stale-while-revalidate: %q %v", r.Body, r.Header())
		}
		synctest.Wait() // background revalidation
		if r := get(); r.Body.String() != "v2" || cacheState(r.Header()) != "HIT" {
			t.Fatalf("after revalidation: %q %v", r.Body, r.Header())
		}
		// Past stale-while-revalidate, inside stale-if-error: a 5xx is replaced by the stale copy.
		o.failing.Store(true)
		time.Sleep(60*time.Second + 2*time.Minute)
		r = get()
		if r.Code != 200 || r.Body.String() != "v2" || cacheState(r.Header()) != "STALE" || !strings.Contains(r.Header().Get("Cache-Status"), "fwd=stale; fwd-status=503") {
			t.Fatalf("stale-if-error: %d %q %v", r.Code, r.Body, r.Header())
		}
		// A request that refuses stale content (max-age) gets the error.
		if r := get("Cache-Control", "max-age=30"); r.Code != 503 {
			t.Fatalf("max-age request got %d", r.Code)
		}
		time.Sleep(10 * time.Minute)
		if r := get(); r.Code != 503 {
			t.Fatalf("past stale-if-error: %d", r.Code)
		}
	})
}

// TestHTTPStaleTTLIsNegative checks that Cache-Status tells a stale hit from a fresh one
// even when the entry went stale less than half a second ago (its ttl rounds to 0).
func TestHTTPStaleTTLIsNegative(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, _ := newHTTP(t, cache.HTTPConfig{}, cache.Config{StaleWhileRevalidate: time.Minute})
		handler := routed(h.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "max-age=60")
			fmt.Fprint(w, "v")
		})))
		get := func(path string) string {
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
			return rec.Header().Get("Cache-Status")
		}
		get("/a")
		time.Sleep(59700 * time.Millisecond)
		get("/b")
		if got := get("/a"); got != "harden; hit; ttl=0" {
			t.Fatalf("fresh for 300 ms more: %q", got)
		}
		time.Sleep(400 * time.Millisecond)
		if got := get("/a"); got != "harden; hit; ttl=-1" {
			t.Fatalf("stale for 100 ms: %q", got)
		}
		time.Sleep(59600 * time.Millisecond)
		if got := get("/b"); got != "harden; hit; ttl=-1" {
			t.Fatalf("stale since now: %q", got)
		}
		synctest.Wait() // background revalidations
		if got := get("/b"); got != "harden; hit; ttl=60" {
			t.Fatalf("after revalidation: %q", got)
		}
	})
}

// TestHTTPSendsNoXCache checks that Cache-Status alone reports what the cache did: no
// response it handles carries X-Cache, and an X-Cache set by the handler (an inner cache,
// say) reaches the client on the miss it belongs to but is not stored and replayed on hits.
func TestHTTPSendsNoXCache(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, _ := newHTTP(t, cache.HTTPConfig{}, cache.Config{StaleWhileRevalidate: time.Minute})
		handler := routed(h.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/inner" {
				w.Header().Set("X-Cache", "MISS from inner")
			}
			w.Header().Set("Cache-Control", "max-age=60")
			fmt.Fprint(w, "v")
		})))
		get := func(path string, hdr ...string) http.Header {
			req := httptest.NewRequest("GET", path, nil)
			for i := 0; i+1 < len(hdr); i += 2 {
				req.Header.Set(hdr[i], hdr[i+1])
			}
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, req)
			return rec.Header()
		}
		check := func(what string, hd http.Header, status string) {
			t.Helper()
			if _, ok := hd["X-Cache"]; ok || !strings.HasPrefix(hd.Get("Cache-Status"), status) {
				t.Fatalf("%s: %v", what, hd)
			}
		}
		check("miss", get("/plain"), "harden; fwd=uri-miss; stored")
		check("hit", get("/plain"), "harden; hit; ttl=60")
		check("bypass", get("/plain", "Cache-Control", "no-store"), "harden; fwd=bypass")
		check("only-if-cached", get("/none", "Cache-Control", "only-if-cached"), "harden; detail=only-if-cached")

		if hd := get("/inner"); hd.Get("X-Cache") != "MISS from inner" || hd.Get("Cache-Status") != "harden; fwd=uri-miss; stored" {
			t.Fatalf("inner miss: %v", hd)
		}
		check("hit of a response with X-Cache", get("/inner"), "harden; hit; ttl=60")
		time.Sleep(61 * time.Second)
		check("stale hit of a response with X-Cache", get("/inner"), "harden; hit; ttl=-1")
		synctest.Wait()
	})
}

func TestHTTPMustRevalidateNeverStale(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, _ := newHTTP(t, cache.HTTPConfig{}, cache.Config{})
		var calls atomic.Int64
		handler := routed(h.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "max-age=10, must-revalidate")
			fmt.Fprintf(w, "v%d", calls.Add(1))
		})))
		get := func() string {
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, httptest.NewRequest("GET", "/m", nil))
			return rec.Body.String()
		}
		_ = get()
		time.Sleep(11 * time.Second)
		if got := get(); got != "v2" {
			t.Fatalf("must-revalidate response served stale: %q", got)
		}
	})
}

func TestHTTPConfigErrors(t *testing.T) {
	c, _ := newCache(t, cache.Config{})
	for _, cfg := range []cache.HTTPConfig{
		{Tier: 9}, {MaxBodyBytes: -1}, {Name: "bad name"}, {Tags: []string{""}},
		{Query: []string{""}}, {Query: []string{"a b"}}, {Query: []string{"a&b"}}, {Query: []string{"l%65vel"}},
		{AnonymousCookies: []string{"bad name"}}, {CredentialHeaders: []string{"X-Key:"}},
	} {
		if _, err := cache.NewHTTP(c, cfg); !errors.Is(err, cache.ErrInvalidConfig) {
			t.Errorf("NewHTTP(%+v): %v", cfg, err)
		}
	}
	if _, err := cache.NewHTTP(c, cache.HTTPConfig{Query: []string{"page[size]", "level", "level"}}); err != nil {
		t.Errorf("plain parameter names refused: %v", err)
	}
	if _, err := cache.NewHTTP(nil, cache.HTTPConfig{}); err == nil {
		t.Error("nil cache accepted")
	}
}

func TestHTTP2ThroughCache(t *testing.T) {
	h, _ := newHTTP(t, cache.HTTPConfig{}, cache.Config{})
	var calls atomic.Int64
	srv := httptest.NewUnstartedServer(routed(h.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.ProtoMajor != 2 {
			t.Errorf("handler saw %s", r.Proto)
		}
		if r.URL.Path == "/stream" {
			_, _ = io.WriteString(w, "chunk\n")
			if err := http.NewResponseController(w).Flush(); err != nil {
				t.Errorf("Flush over HTTP/2: %v", err)
			}
			return
		}
		_, _ = io.WriteString(w, "h2 body")
	}))))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	client := srv.Client()
	for range 2 {
		resp, err := client.Get(srv.URL + "/x")
		if err != nil {
			t.Fatal(err)
		}
		if resp.ProtoMajor != 2 || body(t, resp) != "h2 body" {
			t.Fatalf("%s: unexpected response", resp.Proto)
		}
		resp.Body.Close()
	}
	if calls.Load() != 1 {
		t.Fatalf("%d handler calls over HTTP/2, want 1 (second request a hit)", calls.Load())
	}
	resp, err := client.Get(srv.URL + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if got := body(t, resp); got != "chunk\n" || cacheState(resp.Header) != "MISS" {
		t.Fatalf("streamed over HTTP/2: %q %v", got, resp.Header)
	}
}

func TestHTTPOuterHeadersNotStored(t *testing.T) {
	h, _ := newHTTP(t, cache.HTTPConfig{}, cache.Config{})
	var n atomic.Int64
	outer := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Request-Id", fmt.Sprint("req-", n.Add(1)))
			w.Header().Set("Vary", "Origin")
			next.ServeHTTP(w, r)
		})
	}
	o := &origin{hdr: http.Header{"X-Resource": {"formulas"}}}
	do := serve(t, outer(h.Handler(o)))
	_ = do("GET", "/x", "Origin", "https://a.example")
	r := do("GET", "/x", "Origin", "https://b.example")
	if cacheState(r.Header) != "HIT" {
		t.Fatalf("outer Vary: Origin split the cache: %v", r.Header)
	}
	if r.Header.Get("X-Request-Id") != "req-2" || r.Header.Get("X-Resource") != "formulas" {
		t.Fatalf("hit replays stored outer fields or lost the handler's: %v", r.Header)
	}
	if got := r.Header.Values("Vary"); len(got) != 1 || got[0] != "Origin" {
		t.Fatalf("Vary on hit = %q", got)
	}
}

// Inner runs inside the cache: what it adds is stored, and hits skip it.
func TestHTTPInnerIsStored(t *testing.T) {
	var runs atomic.Int64
	stamp := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n := runs.Add(1)
			w.Header().Set("X-Stamp", fmt.Sprint(n))
			next.ServeHTTP(w, r)
		})
	}
	h, _ := newHTTP(t, cache.HTTPConfig{Inner: stamp}, cache.Config{})
	o := &origin{}
	do := serve(t, h.Handler(o))
	for i, want := range []string{"MISS", "HIT", "HIT"} {
		r := do("GET", "/api/formulas")
		if cacheState(r.Header) != want || r.Header.Get("X-Stamp") != "1" || body(t, r) != `{"call":1}` {
			t.Fatalf("request %d: %q X-Stamp=%q", i, cacheState(r.Header), r.Header.Get("X-Stamp"))
		}
	}
	if runs.Load() != 1 || o.calls.Load() != 1 {
		t.Fatalf("inner ran %d times, origin %d", runs.Load(), o.calls.Load())
	}
}
