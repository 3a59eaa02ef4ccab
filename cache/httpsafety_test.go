package cache_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"html"
	"html/template"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nexus-reussite/harden/cache"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// countingStore counts the writes that reach a store.
type countingStore struct {
	cache.Store
	sets atomic.Int64
}

func (s *countingStore) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	s.sets.Add(1)
	return s.Store.Set(ctx, key, value, ttl)
}

// newCountedHTTP returns an HTTPCache over a Memory store whose writes are counted.
func newCountedHTTP(t *testing.T, cfg cache.HTTPConfig) (*cache.HTTPCache, *countingStore) {
	t.Helper()
	store := &countingStore{Store: newMemory(t, cache.MemoryConfig{})}
	c, err := cache.New(store, cache.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	h, err := cache.NewHTTP(c, shown(cfg))
	if err != nil {
		t.Fatal(err)
	}
	return h, store
}

// session answers who the request's credentials name: a session cookie or a bearer
// token, "" for none.
func session(r *http.Request) string {
	if c, err := r.Cookie("session"); err == nil {
		return c.Value
	}
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
}

// newcomerApp is a service laid out the way a newcomer reads "compress, cache, then the
// mux": a whole http.ServeMux behind a response cache with a zero HTTPConfig, serving
// Prometheus metrics, a liveness probe, an authenticated /api/me, a handler that marks its
// response public, and /api/formulas registered with the cache as a route.
type newcomerApp struct {
	t                          *testing.T
	srv                        *httptest.Server
	live, me, public, formulas atomic.Int64
}

func newNewcomerApp(t *testing.T, h *cache.HTTPCache) *newcomerApp {
	a := &newcomerApp{t: t}
	reg := prometheus.NewRegistry()
	requests := prometheus.NewCounter(prometheus.CounterOpts{Name: "requests_total", Help: "Requests."})
	reg.MustRegister(requests)
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /live", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "ok %d", a.live.Add(1))
	})
	mux.HandleFunc("GET /api/me", func(w http.ResponseWriter, r *http.Request) {
		a.me.Add(1)
		user := session(r)
		if user == "" {
			http.Error(w, "who are you?", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"user":%q}`, user)
	})
	mux.HandleFunc("GET /api/public", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=60")
		fmt.Fprintf(w, "public %d", a.public.Add(1))
	})
	mux.Handle("GET /api/formulas", h.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "formulas %d", a.formulas.Add(1))
	})))
	a.srv = httptest.NewServer(h.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Inc()
		mux.ServeHTTP(w, r)
	})))
	t.Cleanup(a.srv.Close)
	return a
}

// get requests path with the header fields of hdr (name, value, …).
func (a *newcomerApp) get(path string, hdr ...string) (int, string, http.Header) {
	a.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, a.srv.URL+path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := a.srv.Client().Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// TestHTTPWholeMuxZeroConfig: metrics, probes, /api/me and unknown paths reach their
// handlers on every request, nothing is written to the store, and no user's response
// reaches another. A handler that says Cache-Control: public is cached, and so is a route
// registered with the cache.
func TestHTTPWholeMuxZeroConfig(t *testing.T) {
	h, store := newCountedHTTP(t, cache.HTTPConfig{})
	a := newNewcomerApp(t, h)
	a.checkUncachedPaths()
	a.checkUsersApart()
	if a.live.Load() != 3 || a.me.Load() != 6 {
		t.Fatalf("handler calls: /live %d, /api/me %d; want 3 and 6", a.live.Load(), a.me.Load())
	}
	if n := store.sets.Load(); n != 0 {
		t.Fatalf("%d writes to the store for responses nobody marked cacheable", n)
	}
	// What may be cached still is.
	for range 3 {
		a.get("/api/public")
		a.get("/api/formulas")
	}
	if a.public.Load() != 1 || a.formulas.Load() != 1 {
		t.Fatalf("handler calls: /api/public %d, /api/formulas %d; want 1 each", a.public.Load(), a.formulas.Load())
	}
}

// checkUncachedPaths requests /metrics, /live and unknown paths three times each: none is
// a hit, and the metrics change between scrapes.
func (a *newcomerApp) checkUncachedPaths() {
	t := a.t
	var scrapes []string
	for range 3 {
		_, b, hd := a.get("/metrics")
		if cacheState(hd) == "HIT" {
			t.Fatalf("/metrics served from the cache: %v", hd)
		}
		scrapes = append(scrapes, b)
	}
	if scrapes[0] == scrapes[1] || scrapes[1] == scrapes[2] {
		t.Fatal("/metrics did not change between scrapes: served from the cache")
	}
	for i := range 3 {
		if _, _, hd := a.get("/live"); cacheState(hd) == "HIT" {
			t.Fatalf("/live served from the cache: %v", hd)
		}
		if code, _, hd := a.get(fmt.Sprint("/nope/", i%2)); code != http.StatusNotFound || cacheState(hd) == "HIT" {
			t.Fatalf("unknown path: %d %v", code, hd)
		}
	}
}

// checkUsersApart asks /api/me as alice, bob and nobody, by cookie and by bearer token.
func (a *newcomerApp) checkUsersApart() {
	t := a.t
	for _, creds := range [][2][]string{
		{{"Cookie", "session=alice"}, {"Cookie", "session=bob"}},
		{{"Authorization", "Bearer alice"}, {"Authorization", "Bearer bob"}},
	} {
		_, alice, _ := a.get("/api/me", creds[0]...)
		_, bob, _ := a.get("/api/me", creds[1]...)
		code, anon, _ := a.get("/api/me")
		if alice != `{"user":"alice"}` || bob != `{"user":"bob"}` || code != http.StatusUnauthorized || strings.Contains(anon, "alice") {
			t.Fatalf("%s: alice %q, bob %q, anonymous %d %q", creds[0][0], alice, bob, code, anon)
		}
	}
}

// TestHTTPCredentialsBypass sends the same route requests with credentials of several
// kinds: none is served from the cache or fills it, so no user's answer reaches another;
// cookies named in AnonymousCookies do not count as credentials.
func TestHTTPCredentialsBypass(t *testing.T) {
	h, store := newCountedHTTP(t, cache.HTTPConfig{AnonymousCookies: []string{"consent", "theme"}, CredentialHeaders: []string{"x-api-key"}})
	var calls atomic.Int64
	do := serve(t, h.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		who := session(r)
		if who == "" {
			who = r.Header.Get("X-Api-Key")
		}
		fmt.Fprintf(w, "hello %s", who)
	})))
	for _, tc := range []struct{ field, alice, bob string }{
		{"Authorization", "Bearer alice", "Bearer bob"},
		{"Cookie", "session=alice", "session=bob"},
		{"Cookie", "consent=yes; session=alice", "theme=dark; session=bob"},
		{"X-Api-Key", "alice", "bob"},
	} {
		for _, who := range []string{"alice", "bob", "alice"} {
			value := tc.alice
			if who == "bob" {
				value = tc.bob
			}
			r := do("GET", "/me", tc.field, value)
			if got := body(t, r); got != "hello "+who {
				t.Fatalf("%s %q answered %q", tc.field, value, got)
			}
			if cacheState(r.Header) != "BYPASS" || r.Header.Get("Cache-Status") != "harden; fwd=bypass; detail=credentials" {
				t.Fatalf("%s %q: %v", tc.field, value, r.Header)
			}
		}
	}
	if calls.Load() != 12 || store.sets.Load() != 0 {
		t.Fatalf("%d handler calls, %d store writes; want 12 and 0", calls.Load(), store.sets.Load())
	}
	// Cookies that do not identify anyone: served like a request without cookies.
	_ = do("GET", "/me", "Cookie", "consent=yes")
	if r := do("GET", "/me", "Cookie", "theme=dark; consent=no"); cacheState(r.Header) != "HIT" || body(t, r) != "hello " {
		t.Fatalf("anonymous cookies: %v", r.Header)
	}
}

// TestHTTPSameForEveryone declares a route the same for everyone: requests with
// credentials are served from the cache, and the handler never sees the credentials, so
// what it stores cannot depend on them.
func TestHTTPSameForEveryone(t *testing.T) {
	h, _ := newCountedHTTP(t, cache.HTTPConfig{SameForEveryone: true, AnonymousCookies: []string{"theme"}, CredentialHeaders: []string{"X-Api-Key"}})
	var seen []string
	do := serve(t, h.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, fmt.Sprintf("auth=%q cookie=%q key=%q", r.Header.Get("Authorization"), r.Header.Get("Cookie"), r.Header.Get("X-Api-Key")))
		fmt.Fprint(w, "the same list for everyone")
	})))
	first := do("GET", "/list", "Authorization", "Bearer alice", "Cookie", "session=alice; theme=dark", "X-Api-Key", "k1")
	if cacheState(first.Header) != "MISS" {
		t.Fatalf("first request: %v", first.Header)
	}
	for _, hdr := range [][]string{{"Authorization", "Bearer bob"}, {"Cookie", "session=bob"}, {"X-Api-Key", "k2"}, nil} {
		if r := do("GET", "/list", hdr...); cacheState(r.Header) != "HIT" {
			t.Fatalf("%q: %v", hdr, r.Header)
		}
	}
	if want := []string{`auth="" cookie="theme=dark" key=""`}; !slices.Equal(seen, want) {
		t.Fatalf("the handler saw %q, want %q", seen, want)
	}
}

// TestHTTPQueryDeclared checks that only declared parameters reach the key: other
// parameters bypass the cache and write nothing, and forms of the declared ones that the
// handler reads alike share an entry.
func TestHTTPQueryDeclared(t *testing.T) {
	h, store := newCountedHTTP(t, cache.HTTPConfig{Query: []string{"level", "page"}})
	do := serve(t, h.Handler(&origin{body: func(r *http.Request) string {
		return fmt.Sprint(r.URL.Query())
	}}))
	if r := do("GET", "/f?level=terminale&page=2"); r.Header.Get("Cache-Status") != "harden; fwd=uri-miss; stored" {
		t.Fatalf("declared parameters: %v", r.Header)
	}
	written := store.sets.Load()
	for _, q := range []string{"page=2&level=terminale", "level=termin%61le&page=2", "&level=terminale&&page=2&"} {
		if r := do("GET", "/f?"+q); cacheState(r.Header) != "HIT" {
			t.Fatalf("%q: %v", q, r.Header)
		}
	}
	for i := range 50 {
		for _, q := range []string{fmt.Sprint("utm=", i), fmt.Sprint("level=terminale&page=2&x", i, "=1"), fmt.Sprint("lev%65l=", i), fmt.Sprint("level=", i, ";x")} {
			r := do("GET", "/f?"+q)
			if r.Header.Get("Cache-Status") != "harden; fwd=bypass; detail=query" {
				t.Fatalf("%q: %v", q, r.Header)
			}
			if got, want := body(t, r), fmt.Sprint(mustParseQuery(t, q)); got != want {
				t.Fatalf("%q: the handler saw %s, want %s", q, got, want)
			}
		}
	}
	if n := store.sets.Load(); n != written {
		t.Fatalf("%d store writes for undeclared parameters", n-written)
	}
	// A route's made-up paths ({id} of nothing) answer 404 without a lifetime: not stored.
	ids := serve(t, h.Handler(&origin{status: http.StatusNotFound}))
	for i := range 50 {
		ids("GET", fmt.Sprint("/formulas/", 1000+i))
	}
	if n := store.sets.Load(); n != written {
		t.Fatalf("%d store writes for 404s without a lifetime", n-written)
	}
}

func mustParseQuery(t *testing.T, q string) map[string][]string {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/f?"+q, nil)
	return r.URL.Query()
}

type nonceKey struct{}

// withNonce stands for a CSP middleware: every response gets a fresh nonce in field's
// policy and in the request's context.
func withNonce(field string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b [16]byte
		_, _ = rand.Read(b[:])
		n := base64.StdEncoding.EncodeToString(b[:])
		w.Header().Set(field, "default-src 'self'; script-src 'self' 'nonce-"+n+"'")
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), nonceKey{}, n)))
	})
}

var page = template.Must(template.New("page").Parse(`<!doctype html><title>Nexus</title><script nonce="{{.}}">start()</script>`))

var (
	headerNonce = regexp.MustCompile(`'nonce-([^']+)'`)
	bodyNonce   = regexp.MustCompile(`nonce="([^"]+)"`)
)

// nonceOf returns the nonce of the response's policy and the one its body uses.
func nonceOf(hd http.Header, field, b string) (header, inBody string) {
	if m := headerNonce.FindStringSubmatch(hd.Get(field)); m != nil {
		header = m[1]
	}
	if m := bodyNonce.FindStringSubmatch(b); m != nil {
		inBody = html.UnescapeString(m[1])
	}
	return header, inBody
}

// TestHTTPNonceNeverReplayed serves pages and JSON under a policy with a nonce, set in
// front of the cache or by the handler: a page's nonce always equals its policy's, and no
// policy nonce is served twice; JSON that does not contain the nonce is still cached.
func TestHTTPNonceNeverReplayed(t *testing.T) {
	pageHandler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = page.Execute(w, r.Context().Value(nonceKey{}))
	})
	for _, field := range []string{"Content-Security-Policy", "Content-Security-Policy-Report-Only"} {
		t.Run(field, func(t *testing.T) {
			h, _ := newHTTP(t, cache.HTTPConfig{}, cache.Config{})
			var jsonCalls atomic.Int64
			mux := http.NewServeMux()
			mux.Handle("GET /page", h.Handler(pageHandler))
			mux.Handle("GET /sniffed", h.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_ = page.Execute(w, r.Context().Value(nonceKey{}))
			})))
			mux.Handle("GET /own", h.Handler(withNonce(field, pageHandler)))
			mux.Handle("GET /own.json", h.Handler(withNonce(field, &origin{})))
			mux.Handle("GET /echo.json", h.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprintf(w, `{"nonce":%q}`, r.Context().Value(nonceKey{}))
			})))
			mux.Handle("GET /gzip.json", h.Handler(gzipMiddleware(&origin{})))
			mux.Handle("GET /api.json", h.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				jsonCalls.Add(1)
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, `{"formulas":[]}`)
			})))
			do := serve(t, withNonce(field, mux))
			for _, path := range []string{"/page", "/sniffed", "/own", "/own.json", "/echo.json", "/gzip.json"} {
				var seen []string
				for range 3 {
					r := do("GET", path, "Accept-Encoding", "gzip")
					b := gunzip(t, r)
					header, inBody := nonceOf(r.Header, field, b)
					if cacheState(r.Header) != "MISS" || !strings.Contains(r.Header.Get("Cache-Status"), "detail=csp-nonce") {
						t.Fatalf("%s: %v", path, r.Header)
					}
					if header == "" || (inBody != "" && inBody != header) || slices.Contains(seen, header) {
						t.Fatalf("%s: policy nonce %q, body nonce %q, earlier %q", path, header, inBody, seen)
					}
					seen = append(seen, header)
				}
			}
			var seen []string
			for range 3 {
				r := do("GET", "/api.json")
				header, _ := nonceOf(r.Header, field, "")
				if slices.Contains(seen, header) {
					t.Fatalf("/api.json: policy nonce %q served twice", header)
				}
				seen = append(seen, header)
			}
			if jsonCalls.Load() != 1 {
				t.Fatalf("/api.json: %d handler calls, want 1 (cached)", jsonCalls.Load())
			}
		})
	}
}

// TestHTTPRevalidationKeepsNonceRule refreshes a stale JSON entry in the background while
// the handler starts to embed the nonce: the refreshed response is judged with the policy
// the stale response was served under, so it is not stored and never replayed.
func TestHTTPRevalidationKeepsNonceRule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, _ := newHTTP(t, cache.HTTPConfig{}, cache.Config{StaleWhileRevalidate: time.Hour})
		var embed atomic.Bool
		mux := http.NewServeMux()
		mux.Handle("GET /config", h.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "max-age=60")
			if embed.Load() {
				fmt.Fprintf(w, `{"scriptNonce":%q}`, r.Context().Value(nonceKey{}))
				return
			}
			fmt.Fprint(w, `{}`)
		})))
		handler := withNonce("Content-Security-Policy", mux)
		get := func() *httptest.ResponseRecorder {
			w := httptest.NewRecorder()
			handler.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/config", nil))
			return w
		}
		if w := get(); !strings.HasSuffix(w.Header().Get("Cache-Status"), "stored") {
			t.Fatalf("first response not stored: %v", w.Header())
		}
		embed.Store(true)
		time.Sleep(61 * time.Second)
		if w := get(); cacheState(w.Header()) != "STALE" {
			t.Fatalf("past max-age: %v", w.Header())
		}
		synctest.Wait()
		for range 3 {
			w := get()
			header, _ := nonceOf(w.Header(), "Content-Security-Policy", "")
			if b := w.Body.String(); strings.Contains(b, "scriptNonce") && !strings.Contains(b, header) {
				t.Fatalf("%s served under nonce %s: %v", b, header, w.Header())
			}
		}
	})
}

// TestHTTPHeaderValuesNotShared has an outer handler write into the header values of each
// response in place once it is served, on the miss and on hits: no later response
// changes. The outer handler also hands every response the same Vary slice with room to
// grow, which the cache must not write into.
func TestHTTPHeaderValuesNotShared(t *testing.T) {
	h, _ := newHTTP(t, cache.HTTPConfig{}, cache.Config{})
	var calls atomic.Int64
	inner := routed(h.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		hd := w.Header()
		hd["Vary"] = append(slices.Clip(hd["Vary"]), "Accept-Language")
		hd.Set("X-Origin", "a")
		hd.Set("Content-Type", "application/json")
		fmt.Fprint(w, `{}`)
	})))
	outerVary := make([]string, 1, 4)
	var kept []http.Header
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		outerVary[0] = "Origin"
		w.Header()["Vary"] = outerVary[:1]
		inner.ServeHTTP(w, r)
		hd := w.Header()
		kept = append(kept, hd.Clone())
		for _, vals := range hd {
			for i := range vals {
				vals[i] = "x"
			}
		}
	})
	want := map[string][]string{"Vary": {"Origin", "Accept-Language"}, "X-Origin": {"a"}, "Content-Type": {"application/json"}}
	for i := range 4 {
		handler.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/shared", nil))
		for k, v := range want {
			if got := kept[i][k]; !slices.Equal(got, v) {
				t.Fatalf("response %d: %s = %q, want %q", i, k, got, v)
			}
		}
		if i > 0 && cacheState(kept[i]) != "HIT" {
			t.Fatalf("response %d not a hit: %v", i, kept[i])
		}
	}
	if slices.ContainsFunc(outerVary[1:cap(outerVary)], func(s string) bool { return s != "" }) {
		t.Fatalf("the cache wrote into the outer handler's slice: %q", outerVary[:cap(outerVary)])
	}
	if calls.Load() != 1 {
		t.Fatalf("%d handler calls", calls.Load())
	}
}
