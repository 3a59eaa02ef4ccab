package harden_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/nexus-reussite/harden"
	"github.com/nexus-reussite/harden/cache"
	"github.com/nexus-reussite/harden/cache/rediscache"
	"github.com/nexus-reussite/harden/compress"
	"github.com/nexus-reussite/harden/health"
	"github.com/nexus-reussite/harden/internal/testenv"
	"github.com/nexus-reussite/harden/observe"
	"github.com/nexus-reussite/harden/ratelimit"
	"github.com/nexus-reussite/harden/ratelimit/redisstore"
	"github.com/nexus-reussite/harden/security"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	host         = "api.example.com"
	metricsToken = "scraper-token-0123456789"
)

// quiet is a logger for tests that do not read the logs.
var quiet = slog.New(slog.DiscardHandler)

// newStack builds a Stack, shut down when the test ends.
func newStack(t *testing.T, cfg harden.Config) *harden.Stack {
	t.Helper()
	s, err := harden.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Shutdown(context.Background(), 0, nil) })
	return s
}

// app is a service's mux: a page big enough to compress, a route with a path parameter
// and one that answers who is asking.
func app() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"hello":%q}`, strings.Repeat("world ", 200))
	})
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "user %s", r.PathValue("id"))
	})
	mux.HandleFunc("GET /me", me)
	return mux
}

// me answers who is asking.
func me(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie("session")
	if err != nil {
		fmt.Fprint(w, "anonymous")
		return
	}
	fmt.Fprintf(w, "you are %s", c.Value)
}

// client is a test server's client that does not follow redirects.
func client(srv *httptest.Server) *http.Client {
	c := *srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// response is what a test reads of an answer.
type response struct {
	status int
	header http.Header
	body   string
}

// showStatus is the HTTPConfig.CacheStatus of the tests that read Cache-Status (off by
// default) to tell hits from misses.
func showStatus(*http.Request) bool { return true }

// Patterns of the Cache-Status an HTTPCache named "harden" sends: a fresh hit (a stale one
// has a negative ttl), and any hit.
const (
	freshHit = `^harden; hit; ttl=[0-9]+$`
	anyHit   = `; hit(;|$)`
)

// get sends GET path to srv for Host host, with header pairs, and reads the answer.
func get(t *testing.T, srv *httptest.Server, path string, header ...string) response {
	t.Helper()
	return do(t, srv, http.MethodGet, path, header...)
}

func do(t *testing.T, srv *httptest.Server, method, path string, header ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	require.NoError(t, err)
	req.Host = host
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Host" {
			req.Host = header[i+1]
			continue
		}
		req.Header.Add(header[i], header[i+1])
	}
	res, err := client(srv).Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return response{res.StatusCode, res.Header, string(b)}
}

// metric returns the value of the sample of name whose labels include want, as /metrics
// (read with the token) serves it, and whether there is one.
func metric(t *testing.T, srv *httptest.Server, name string, want ...string) (string, bool) {
	t.Helper()
	r := get(t, srv, "/metrics", "Authorization", "Bearer "+metricsToken)
	require.Equal(t, http.StatusOK, r.status, r.body)
	sc := bufio.NewScanner(strings.NewReader(r.body))
	sc.Buffer(nil, 1<<20)
next:
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") {
			continue
		}
		for i := 0; i+1 < len(want); i += 2 {
			if !strings.Contains(line, fmt.Sprintf("%s=%q", want[i], want[i+1])) {
				continue next
			}
		}
		f := strings.Fields(line)
		return f[len(f)-1], true
	}
	return "", false
}

// A newcomer's first try: the zero Config, over TLS, serves the application with the
// security headers, the rate limit and compression; the probes answer; /metrics is
// nobody's.
func TestZeroConfigServesAHardenedApplication(t *testing.T) {
	s := newStack(t, harden.Config{})
	srv := httptest.NewTLSServer(s.Handler(app()))
	defer srv.Close()

	r := get(t, srv, "/hello", "Accept-Encoding", "gzip")
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.Equal(t, "gzip", r.header.Get("Content-Encoding"))
	assert.Equal(t, "max-age=31536000; includeSubDomains", r.header.Get("Strict-Transport-Security"))
	assert.Contains(t, r.header.Get("Content-Security-Policy"), "default-src 'none'")
	assert.Equal(t, "nosniff", r.header.Get("X-Content-Type-Options"))
	assert.Contains(t, r.header.Get("Content-Security-Policy"), "frame-ancestors 'none'")
	assert.Empty(t, r.header.Get("X-Frame-Options"), "JSON: the policy's frame-ancestors says it")
	assert.Equal(t, "same-origin", r.header.Get("Cross-Origin-Resource-Policy"))
	assert.Equal(t, `"default-1s";q=2;w=1`, r.header.Get("RateLimit-Policy"), "the default rule's tightest window")
	assert.Len(t, r.header.Get("X-Request-ID"), 32)

	live := get(t, srv, "/live")
	assert.Equal(t, http.StatusOK, live.status)
	assert.Equal(t, http.StatusServiceUnavailable, get(t, srv, "/ready").status, "not started")
	s.Start(context.Background())
	assert.Equal(t, http.StatusOK, get(t, srv, "/ready").status)
	assert.Equal(t, `{"status":"pass"}`, strings.TrimSpace(get(t, srv, "/health").body), "no details for anyone")

	m := get(t, srv, "/metrics")
	assert.Equal(t, http.StatusNotFound, m.status, "production without a metricsToken: /metrics is the application's")
	assert.NotContains(t, m.body, "harden_")
}

// A response net/http sniffs may be a document: it keeps the headers JSON goes without.
func TestZeroConfigSniffedResponseKeepsDocumentHeaders(t *testing.T) {
	srv := httptest.NewTLSServer(newStack(t, harden.Config{}).Handler(app()))
	defer srv.Close()
	page := get(t, srv, "/users/7")
	require.Equal(t, http.StatusOK, page.status, page.body)
	assert.Equal(t, "DENY", page.header.Get("X-Frame-Options"))
	assert.Equal(t, "strict-origin-when-cross-origin", page.header.Get("Referrer-Policy"))
	assert.Equal(t, "same-origin", page.header.Get("Cross-Origin-Opener-Policy"))
}

// Plain HTTP in production: without AllowedHosts, a 400 and never a redirect, whatever
// host the client or its headers name; probes still answer.
func TestPlainHTTPWithoutAllowedHostsIsNeverRedirected(t *testing.T) {
	for name, cfg := range map[string]harden.Config{
		"zero": {Logger: quiet},
		"behind a proxy that forwards hosts": {
			Logger: quiet, TrustedProxies: []string{"127.0.0.1", "::1"}, TrustForwardedHost: true,
		},
		"behind a Forwarded proxy": {
			Logger: quiet, TrustedProxies: []string{"127.0.0.1", "::1"}, ClientIPHeader: "Forwarded", TrustForwardedHost: true,
		},
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(newStack(t, cfg).Handler(app()))
			defer srv.Close()
			for _, h := range [][]string{
				{"Host", "evil.example"},
				{"X-Forwarded-Host", "evil.example", "X-Forwarded-Proto", "http"},
				{"Forwarded", "proto=http;host=evil.example"},
				{"Forwarded", "for=192.0.2.1;proto=http;host=evil.example", "X-Forwarded-Host", "evil.example"},
			} {
				r := get(t, srv, "/hello", h...)
				assert.Equal(t, http.StatusBadRequest, r.status, "%v", h)
				assert.Empty(t, r.header.Get("Location"), "%v", h)
				assert.Equal(t, "application/problem+json", r.header.Get("Content-Type"))
			}
			assert.Equal(t, http.StatusOK, get(t, srv, "/live", "Host", "10.1.2.3:8080").status)
		})
	}
}

// With AllowedHosts, plain HTTP is redirected to the listed host only.
func TestRedirectsNameOnlyListedHosts(t *testing.T) {
	s := newStack(t, harden.Config{
		Logger: quiet, AllowedHosts: []string{host}, TrustedProxies: []string{"127.0.0.1", "::1"},
	})
	srv := httptest.NewServer(s.Handler(app()))
	defer srv.Close()

	r := get(t, srv, "/hello?x=1", "X-Forwarded-Host", "evil.example")
	assert.Equal(t, http.StatusPermanentRedirect, r.status)
	assert.Equal(t, "https://"+host+"/hello?x=1", r.header.Get("Location"))
	r = get(t, srv, "/hello", "Host", "evil.example")
	assert.Equal(t, http.StatusBadRequest, r.status)
	assert.Empty(t, r.header.Get("Location"))
	// A proxy terminating TLS says so in the header family it sets.
	assert.Equal(t, http.StatusOK, get(t, srv, "/hello", "X-Forwarded-Proto", "https").status)
	// A client's own Forwarded header is not that family.
	assert.Equal(t, http.StatusPermanentRedirect, get(t, srv, "/hello", "Forwarded", "proto=https").status)
}

// An attacker floods the probes and /metrics far past the rate limit: they always
// answer, carry no rate limit header, are never redirected nor compressed, and spend none
// of the application's quota.
func TestProbesAndMetricsAreNeverLimited(t *testing.T) {
	s := newStack(t, harden.Config{
		Logger:       quiet,
		AllowedHosts: []string{host},
		RateLimit:    ratelimit.Config{Rule: ratelimit.MustParseRule("2 per hour")},
		Observe:      observe.Config{MetricsToken: metricsToken},
	})
	s.Start(context.Background())
	for _, tc := range []struct {
		name string
		srv  *httptest.Server
	}{
		{"https", httptest.NewTLSServer(s.Handler(app()))},
		{"plain http", httptest.NewServer(s.Handler(app()))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer tc.srv.Close()
			for range 30 {
				for _, p := range []string{"/live", "/ready", "/health", "/metrics"} {
					r := get(t, tc.srv, p, "Authorization", "Bearer "+metricsToken, "Accept-Encoding", "zstd", "Host", "10.0.0.7")
					require.Equal(t, http.StatusOK, r.status, "%s %s", p, r.body)
					require.Empty(t, r.header.Get("RateLimit-Policy"), p)
					require.Empty(t, r.header.Get("Location"), p)
					require.Empty(t, r.header.Get("Content-Encoding"), p)
				}
			}
			if tc.name == "plain http" {
				return // redirected before the rate limit counts
			}
			for range 2 {
				assert.Equal(t, http.StatusOK, get(t, tc.srv, "/hello").status, "the quota is intact")
			}
			assert.Equal(t, http.StatusTooManyRequests, get(t, tc.srv, "/hello").status)
		})
	}
}

// /metrics is nobody's in production until a token is set; then only the token's holder
// reads it, and no cache may keep it.
func TestMetricsNeedATokenInProduction(t *testing.T) {
	t.Run("no token", func(t *testing.T) {
		reg := prometheus.NewRegistry()
		s := newStack(t, harden.Config{Logger: quiet, Registerer: reg})
		srv := httptest.NewTLSServer(s.Handler(app()))
		defer srv.Close()
		r := get(t, srv, "/metrics")
		assert.Equal(t, http.StatusNotFound, r.status)
		assert.NotContains(t, r.body, "harden_")
		// The parts serve it elsewhere, for example on a listener only the scraper reaches.
		rec := httptest.NewRecorder()
		s.Observer().MetricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		assert.Contains(t, rec.Body.String(), "harden_http_requests_total")
	})
	t.Run("token", func(t *testing.T) {
		s := newStack(t, harden.Config{Logger: quiet, Observe: observe.Config{MetricsToken: metricsToken}})
		srv := httptest.NewTLSServer(s.Handler(app()))
		defer srv.Close()
		get(t, srv, "/hello")
		for _, auth := range []string{"", "Bearer ", "Bearer " + metricsToken[:len(metricsToken)-1], "Basic " + metricsToken} {
			r := get(t, srv, "/metrics", "Authorization", auth)
			assert.Equal(t, http.StatusUnauthorized, r.status, auth)
			assert.NotContains(t, r.body, "harden_", auth)
		}
		r := get(t, srv, "/metrics", "Authorization", "Bearer "+metricsToken)
		assert.Equal(t, http.StatusOK, r.status)
		assert.Contains(t, r.body, `harden_http_requests_total{code="2xx",method="GET",route="GET /hello"} 1`)
		assert.Contains(t, r.body, "harden_ratelimit_requests_total", "every package's metrics")
		assert.Equal(t, "no-store", r.header.Get("Cache-Control"))
		r = do(t, srv, http.MethodPost, "/metrics", "Authorization", "Bearer "+metricsToken)
		assert.Equal(t, http.StatusMethodNotAllowed, r.status)
		assert.Equal(t, "GET, HEAD", r.header.Get("Allow"))
	})
	t.Run("development", func(t *testing.T) {
		s := newStack(t, harden.Config{Logger: quiet, Profile: security.Development})
		srv := httptest.NewServer(s.Handler(app()))
		defer srv.Close()
		get(t, srv, "/hello")
		r := get(t, srv, "/metrics")
		assert.Equal(t, http.StatusOK, r.status)
		assert.Contains(t, r.body, "harden_http_requests_total")
	})
	t.Run("short token", func(t *testing.T) {
		_, err := harden.New(harden.Config{Logger: quiet, Observe: observe.Config{MetricsToken: "secret"}})
		assert.ErrorIs(t, err, harden.ErrInvalidConfig)
	})
	t.Run("token without a gatherer", func(t *testing.T) {
		reg := prometheus.WrapRegistererWith(prometheus.Labels{"service": "a"}, prometheus.NewRegistry())
		_, err := harden.New(harden.Config{Logger: quiet, Registerer: reg, Observe: observe.Config{MetricsToken: metricsToken}})
		assert.ErrorIs(t, err, harden.ErrInvalidConfig)
	})
}

// A route cached per route: anonymous requests share an entry, a request with a cookie
// or credentials goes to the handler and never sees another user's answer.
func TestCachedRouteServesOnlyAnonymousRequests(t *testing.T) {
	s := newStack(t, harden.Config{Logger: quiet, RateLimit: ratelimit.Config{Rule: ratelimit.MustParseRule("100 per second")}})
	c, err := s.HTTPCache(cache.HTTPConfig{CacheStatus: showStatus})
	require.NoError(t, err)
	mux := app()
	mux.Handle("GET /cached/me", c.Handler(http.HandlerFunc(me)))
	srv := httptest.NewTLSServer(s.Handler(mux))
	defer srv.Close()

	assert.Equal(t, "harden; fwd=uri-miss; stored", get(t, srv, "/cached/me").header.Get("Cache-Status"))
	r := get(t, srv, "/cached/me")
	assert.Regexp(t, freshHit, r.header.Get("Cache-Status"))
	assert.Contains(t, r.header.Get("Content-Security-Policy"), "default-src", "security headers on hits too")
	for _, h := range [][]string{{"Cookie", "session=alice"}, {"Authorization", "Bearer alice"}} {
		r := get(t, srv, "/cached/me", h...)
		assert.Equal(t, "harden; fwd=bypass; detail=credentials", r.header.Get("Cache-Status"), h)
	}
	r = get(t, srv, "/cached/me", "Cookie", "session=bob")
	assert.Equal(t, "you are bob", r.body)
	assert.Equal(t, "anonymous", get(t, srv, "/cached/me").body)
}

// Cache-Status tells clients what others asked for: a Stack's HTTPCache sends it in the
// Development profile only, unless the route's CacheStatus decides.
func TestCacheStatusOnlyInDevelopment(t *testing.T) {
	hide := func(*http.Request) bool { return false }
	for _, tc := range []struct {
		name    string
		profile security.Profile
		status  func(*http.Request) bool
		shown   bool
	}{
		{"production", security.Production, nil, false},
		{"development", security.Development, nil, true},
		{"development, hidden by the route", security.Development, hide, false},
		{"production, shown by the route", security.Production, showStatus, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStack(t, harden.Config{Logger: quiet, Profile: tc.profile})
			c, err := s.HTTPCache(cache.HTTPConfig{CacheStatus: tc.status})
			require.NoError(t, err)
			mux := app()
			mux.Handle("GET /cached/me", c.Handler(http.HandlerFunc(me)))
			srv := httptest.NewTLSServer(s.Handler(mux))
			defer srv.Close()
			miss, hit := get(t, srv, "/cached/me"), get(t, srv, "/cached/me")
			assert.NotEmpty(t, hit.header.Get("Age"), "the second request is a hit")
			if tc.shown {
				assert.Equal(t, "harden; fwd=uri-miss; stored", miss.header.Get("Cache-Status"))
				assert.Regexp(t, freshHit, hit.header.Get("Cache-Status"))
			} else {
				assert.NotContains(t, miss.header, "Cache-Status")
				assert.NotContains(t, hit.header, "Cache-Status")
			}
		})
	}
}

// The mistakes a newcomer makes with the cache: around the whole mux, or around the whole
// stack. /metrics (even served without a token, in development) and the probes are never
// stored, nor is who is asking.
func TestCachingAWholeMuxNeverCachesProbesMetricsOrUsers(t *testing.T) {
	for _, where := range []string{"around the mux", "around the stack"} {
		t.Run(where, func(t *testing.T) {
			s := newStack(t, harden.Config{
				Logger: quiet, Profile: security.Development,
				RateLimit: ratelimit.Config{Rule: ratelimit.MustParseRule("1000 per second")},
			})
			s.Start(context.Background())
			c, err := s.HTTPCache(cache.HTTPConfig{CacheStatus: showStatus})
			require.NoError(t, err)
			var h http.Handler
			if where == "around the mux" {
				h = s.Handler(c.Handler(app()))
			} else {
				h = c.Handler(s.Handler(app()))
			}
			srv := httptest.NewServer(h)
			defer srv.Close()

			var last string
			for i := range 3 {
				r := get(t, srv, "/metrics")
				require.Equal(t, http.StatusOK, r.status)
				assert.NotRegexp(t, anyHit, r.header.Get("Cache-Status"), "/metrics %d", i)
				assert.NotEqual(t, last, r.body, "/metrics %d is fresh", i)
				last = r.body
				for _, p := range []string{"/live", "/ready", "/health"} {
					assert.NotRegexp(t, anyHit, get(t, srv, p).header.Get("Cache-Status"), "%s %d", p, i)
				}
				assert.NotRegexp(t, anyHit, get(t, srv, "/nowhere").header.Get("Cache-Status"), "404 %d", i)
			}
			get(t, srv, "/me")
			r := get(t, srv, "/me", "Cookie", "session=alice")
			assert.Equal(t, "you are alice", r.body)
			assert.Equal(t, "anonymous", get(t, srv, "/me").body)
		})
	}
}

// A 429 is counted under the route it was refused on, although the rate limiter answers
// before the mux runs; so is a 503 of a per-route concurrency gate.
func TestRefusalsAreLabelledByRoute(t *testing.T) {
	t.Run("429", func(t *testing.T) {
		s := newStack(t, harden.Config{
			Logger: quiet, RateLimit: ratelimit.Config{Rule: ratelimit.MustParseRule("1 per hour")},
			Observe: observe.Config{MetricsToken: metricsToken},
		})
		srv := httptest.NewTLSServer(s.Handler(app()))
		defer srv.Close()
		assert.Equal(t, http.StatusOK, get(t, srv, "/users/1").status)
		for i := range 3 {
			assert.Equal(t, http.StatusTooManyRequests, get(t, srv, fmt.Sprintf("/users/%d", i+2)).status)
		}
		v, ok := metric(t, srv, "harden_http_requests_total", "route", "GET /users/{id}", "code", "4xx")
		assert.True(t, ok && v == "3", "429s labelled by route: %q", v)
		_, ok = metric(t, srv, "harden_http_requests_total", "route", "unmatched")
		assert.False(t, ok)
	})
	t.Run("429 with an explicit router", func(t *testing.T) {
		mux := app()
		s := newStack(t, harden.Config{
			Logger: quiet, RateLimit: ratelimit.Config{Rule: ratelimit.MustParseRule("1 per hour")},
			Observe: observe.Config{MetricsToken: metricsToken, Router: mux},
		})
		// The application is not the mux itself: Observe.Router names it.
		srv := httptest.NewTLSServer(s.Handler(http.HandlerFunc(mux.ServeHTTP)))
		defer srv.Close()
		get(t, srv, "/users/1")
		get(t, srv, "/users/2")
		v, ok := metric(t, srv, "harden_http_requests_total", "route", "GET /users/{id}", "code", "4xx")
		assert.True(t, ok && v == "1", "%q", v)
	})
	t.Run("503", func(t *testing.T) {
		s := newStack(t, harden.Config{Logger: quiet, Observe: observe.Config{MetricsToken: metricsToken}})
		gate, err := s.Concurrency(ratelimit.ConcurrencyConfig{Name: "slow", Limit: 1, QueueSize: -1})
		require.NoError(t, err)
		entered, release := make(chan struct{}), make(chan struct{})
		mux := app()
		mux.Handle("GET /slow/{id}", gate.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			entered <- struct{}{}
			<-release
		})))
		srv := httptest.NewTLSServer(s.Handler(mux))
		defer srv.Close()
		var wg sync.WaitGroup
		wg.Go(func() { get(t, srv, "/slow/1") })
		<-entered
		assert.Equal(t, http.StatusServiceUnavailable, get(t, srv, "/slow/2").status)
		close(release)
		wg.Wait()
		v, ok := metric(t, srv, "harden_http_requests_total", "route", "GET /slow/{id}", "code", "5xx")
		assert.True(t, ok && v == "1", "%q", v)
		_, ok = metric(t, srv, "harden_concurrency_shed_total", "limiter", "slow", "reason", "queue_full")
		assert.True(t, ok, "the gate's metrics are in the stack's registry")
	})
	t.Run("503 of a gate ahead of the mux, named by Observe.Router", func(t *testing.T) {
		var logs lockedBuffer
		mux := app()
		s := newStack(t, harden.Config{
			Logger:  observe.NewJSONLogger(&logs, nil),
			Observe: observe.Config{MetricsToken: metricsToken, Router: mux},
		})
		gate, err := s.Concurrency(ratelimit.ConcurrencyConfig{Name: "all", Limit: 1, QueueSize: -1})
		require.NoError(t, err)
		entered, release := make(chan struct{}), make(chan struct{})
		mux.HandleFunc("GET /slow/{id}", func(w http.ResponseWriter, r *http.Request) {
			entered <- struct{}{}
			<-release
		})
		// The gate sheds before the mux runs, so no pattern is set on the request: the
		// Router names the route.
		srv := httptest.NewTLSServer(s.Handler(gate.Handler(mux)))
		defer srv.Close()
		var wg sync.WaitGroup
		wg.Go(func() { get(t, srv, "/slow/1") })
		<-entered
		assert.Equal(t, http.StatusServiceUnavailable, get(t, srv, "/users/7").status)
		close(release)
		wg.Wait()
		v, ok := metric(t, srv, "harden_http_requests_total", "route", "GET /users/{id}", "code", "5xx")
		assert.True(t, ok && v == "1", "the shed request counted under its route: %q", v)
		_, ok = metric(t, srv, "harden_http_requests_total", "route", "unmatched")
		assert.False(t, ok, "a request counted as unmatched")
		assert.Contains(t, logs.String(), `"route":"GET /users/{id}","path":"/users/7","status":503`)
	})
}

// countingMux counts the route lookups made besides serving.
type countingMux struct {
	*http.ServeMux
	lookups atomic.Int32
}

func (m *countingMux) Handler(r *http.Request) (http.Handler, string) {
	m.lookups.Add(1)
	return m.ServeMux.Handler(r)
}

// A request the application serves is named after the pattern its ServeMux matched while
// serving it: the mux is looked up a second time only for a request answered before it.
func TestRoutesAreLookedUpOnlyForRefusals(t *testing.T) {
	s := newStack(t, harden.Config{
		Logger: quiet, RateLimit: ratelimit.Config{Rule: ratelimit.MustParseRule("2 per hour")},
		Observe: observe.Config{MetricsToken: metricsToken},
	})
	mux := &countingMux{ServeMux: app()}
	srv := httptest.NewTLSServer(s.Handler(mux))
	defer srv.Close()
	assert.Equal(t, http.StatusOK, get(t, srv, "/users/1").status)
	assert.Equal(t, http.StatusOK, get(t, srv, "/users/2").status)
	assert.Zero(t, mux.lookups.Load(), "served requests are named by the mux that served them")
	assert.Equal(t, http.StatusTooManyRequests, get(t, srv, "/users/3").status)
	assert.Equal(t, int32(1), mux.lookups.Load())
	v, ok := metric(t, srv, "harden_http_requests_total", "route", "GET /users/{id}", "code", "2xx")
	assert.True(t, ok && v == "2", "%q", v)
	v, ok = metric(t, srv, "harden_http_requests_total", "route", "GET /users/{id}", "code", "4xx")
	assert.True(t, ok && v == "1", "%q", v)
}

// A client behind a trusted proxy that speaks X-Forwarded-For cannot pick its address
// with a Forwarded header of its own: not for the rate limit, the access log, /health's
// details, nor the scheme.
func TestForwardedHeaderCannotSpoofTheClient(t *testing.T) {
	var logs lockedBuffer
	s := newStack(t, harden.Config{
		AllowedHosts:   []string{host},
		TrustedProxies: []string{"127.0.0.1", "::1"}, // the test client is the proxy
		Logger:         observe.NewJSONLogger(&logs, nil),
		RateLimit:      ratelimit.Config{Rule: ratelimit.MustParseRule("3 per hour")},
		Health:         health.Config{DetailCIDRs: []string{"127.0.0.1", "::1"}},
	})
	s.Start(context.Background())
	srv := httptest.NewTLSServer(s.Handler(app()))

	const client = "198.51.100.7" // as the proxy appends it
	for i := range 3 {
		r := get(t, srv, "/hello", "X-Forwarded-For", client, "Forwarded", fmt.Sprintf("for=192.0.2.%d;proto=http;host=evil.example", i))
		assert.Equal(t, http.StatusOK, r.status, "no redirect loop: %s", r.header.Get("Location"))
	}
	r := get(t, srv, "/hello", "X-Forwarded-For", client, "Forwarded", "for=192.0.2.99")
	assert.Equal(t, http.StatusTooManyRequests, r.status, "a new Forwarded address is the same client")
	r = get(t, srv, "/hello", "X-Forwarded-For", "198.51.100.8")
	assert.Equal(t, http.StatusOK, r.status, "another client, as the proxy says (control)")

	r = get(t, srv, "/health", "X-Forwarded-For", client, "Forwarded", "for=127.0.0.1")
	assert.NotContains(t, r.body, "checks", "no details for a remote client")
	for _, h := range [][]string{nil, {"X-Forwarded-For", "127.0.0.1"}} {
		r = get(t, srv, "/health", h...)
		assert.Contains(t, r.body, "uptime", "details from the host itself (control) %v", h)
	}

	srv.Close() // waits for the access lines
	n := 0
	for line := range strings.Lines(logs.String()) {
		var l struct {
			Msg, Path string
			ClientIP  string `json:"client_ip"`
		}
		require.NoError(t, json.Unmarshal([]byte(line), &l))
		if l.Msg == "http request" && l.Path == "/hello" && l.ClientIP != "198.51.100.8" {
			assert.Equal(t, client, l.ClientIP)
			n++
		}
	}
	assert.Equal(t, 4, n)
}

// lockedBuffer is a log destination safe for concurrent use.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// CONNECT redirects report the path the client chose as their pattern: they must not
// make one series per path.
func TestConnectRedirectsDoNotNameRoutes(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/dir/{name}/", func(http.ResponseWriter, *http.Request) {})
	s := newStack(t, harden.Config{
		Logger: quiet, Profile: security.Development,
		RateLimit: ratelimit.Config{Rule: ratelimit.MustParseRule("100 per second")},
	})
	h := s.Handler(mux)
	for i := range 20 {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodConnect, fmt.Sprintf("/dir/%d", i), nil))
	}
	rec := httptest.NewRecorder()
	s.Observer().MetricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	assert.Contains(t, rec.Body.String(), `harden_http_requests_total{code="3xx",method="CONNECT",route="unmatched"} 20`)
	assert.NotContains(t, rec.Body.String(), `route="/dir/1/"`)
}

// The shared settings fill the per-package Configs; a package set apart keeps its value;
// a conflict is an error, never a panic.
func TestSharedSettings(t *testing.T) {
	other := slog.New(slog.DiscardHandler)
	for name, tc := range map[string]struct {
		cfg harden.Config
		ok  bool
	}{
		"same value twice": {harden.Config{
			Logger: quiet, TrustedProxies: []string{"10.0.0.0/8"},
			Security: security.Config{TrustedProxies: []string{"10.0.0.0/8"}},
		}, true},
		"a package apart": {harden.Config{
			Logger: quiet, RateLimit: ratelimit.Config{TrustedProxies: []string{"10.0.0.0/8"}, Logger: quiet},
		}, true},
		"conflicting proxies": {harden.Config{
			Logger: quiet, TrustedProxies: []string{"10.0.0.0/8"},
			Health: health.Config{TrustedProxies: []string{"0.0.0.0/0"}},
		}, false},
		"conflicting header family": {harden.Config{
			Logger: quiet, ClientIPHeader: "X-Real-IP", Observe: observe.Config{ClientIPHeader: "Forwarded"},
		}, false},
		"conflicting logger": {harden.Config{Logger: quiet, Compress: compress.Config{Logger: other}}, false},
		"conflicting hosts": {harden.Config{
			Logger: quiet, AllowedHosts: []string{host}, Security: security.Config{AllowedHosts: []string{"*"}},
		}, false},
		"conflicting profile": {harden.Config{
			Logger: quiet, Profile: security.Development, Security: security.Config{Profile: security.Production},
		}, false},
		"uncomparable registerers": {harden.Config{
			Logger: quiet, Registerer: funcRegisterer{}, Cache: cache.Config{Registerer: funcRegisterer{}},
		}, false},
		"probe paths twice": {harden.Config{Logger: quiet, Health: health.Config{LivePath: "/metrics"}}, false},
	} {
		t.Run(name, func(t *testing.T) {
			s, err := harden.New(tc.cfg)
			if tc.ok {
				require.NoError(t, err)
				require.NoError(t, s.Shutdown(context.Background(), 0, nil))
				return
			}
			assert.ErrorIs(t, err, harden.ErrInvalidConfig)
		})
	}
}

// funcRegisterer is a Registerer of a type == cannot compare.
type funcRegisterer struct {
	prometheus.Registerer
	_ []func()
}

// A package's invalid setting is reported with both sentinels.
func TestInvalidPackageConfig(t *testing.T) {
	for name, tc := range map[string]struct {
		cfg  harden.Config
		pkgs error
	}{
		"compress":  {harden.Config{Compress: compress.Config{Level: 42}}, compress.ErrInvalidConfig},
		"security":  {harden.Config{AllowedHosts: []string{"bad host/"}}, security.ErrInvalidConfig},
		"ratelimit": {harden.Config{TrustedProxies: []string{"not an address"}}, nil},
		"health":    {harden.Config{Health: health.Config{Token: "short"}}, health.ErrInvalidConfig},
		"cache":     {harden.Config{Cache: cache.Config{Jitter: 2}}, cache.ErrInvalidConfig},
	} {
		t.Run(name, func(t *testing.T) {
			tc.cfg.Logger = quiet
			_, err := harden.New(tc.cfg)
			require.ErrorIs(t, err, harden.ErrInvalidConfig)
			if tc.pkgs != nil {
				assert.ErrorIs(t, err, tc.pkgs)
			}
		})
	}
	s := newStack(t, harden.Config{Logger: quiet})
	_, err := s.HTTPCache(cache.HTTPConfig{Query: []string{"a b"}})
	assert.ErrorIs(t, err, harden.ErrInvalidConfig)
	assert.ErrorIs(t, err, cache.ErrInvalidConfig)
	_, err = s.Concurrency(ratelimit.ConcurrencyConfig{Limit: -1})
	assert.ErrorIs(t, err, harden.ErrInvalidConfig)
	_, err = s.Concurrency(ratelimit.ConcurrencyConfig{Registerer: prometheus.NewRegistry()})
	assert.NoError(t, err, "no shared registry was given: the gate's own is used")
}

// Shutdown drains /ready before the server stops, then releases the parts.
func TestShutdownDrainsThenStops(t *testing.T) {
	s, err := harden.New(harden.Config{Logger: quiet})
	require.NoError(t, err)
	srv := httptest.NewTLSServer(s.Handler(app()))
	s.Start(context.Background())
	require.Equal(t, http.StatusOK, get(t, srv, "/ready").status)
	var ready int
	err = s.Shutdown(context.Background(), 0, func(context.Context) error {
		ready = get(t, srv, "/ready").status
		srv.Close()
		return errors.New("stopped")
	})
	assert.Equal(t, http.StatusServiceUnavailable, ready)
	assert.EqualError(t, err, "stopped")
	_, err = net.Dial("tcp", srv.Listener.Addr().String())
	assert.Error(t, err)
}

// Two instances of a service behind a load balancer share Redis: a response cached by one
// is a hit on the other, and a client's limit is counted across both.
func TestInstancesShareCacheAndLimitsThroughRedis(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	var srvs []*httptest.Server
	for range 2 {
		limits, err := redisstore.New(rdb, redisstore.Config{Prefix: prefix + "ratelimit:"})
		require.NoError(t, err)
		responses, err := rediscache.NewStore(rdb, rediscache.StoreConfig{Prefix: prefix})
		require.NoError(t, err)
		s := newStack(t, harden.Config{
			Logger:     quiet,
			CacheStore: responses,
			RateLimit:  ratelimit.Config{Rule: ratelimit.MustParseRule("3 per hour"), Store: limits},
		})
		c, err := s.HTTPCache(cache.HTTPConfig{CacheStatus: showStatus})
		require.NoError(t, err)
		mux := app()
		mux.Handle("GET /cached/me", c.Handler(http.HandlerFunc(me)))
		srv := httptest.NewTLSServer(s.Handler(mux))
		t.Cleanup(srv.Close)
		srvs = append(srvs, srv)
	}
	assert.Equal(t, "harden; fwd=uri-miss; stored", get(t, srvs[0], "/cached/me").header.Get("Cache-Status"))
	assert.Regexp(t, freshHit, get(t, srvs[1], "/cached/me").header.Get("Cache-Status"))
	assert.Equal(t, http.StatusOK, get(t, srvs[0], "/hello").status)
	assert.Equal(t, http.StatusTooManyRequests, get(t, srvs[1], "/hello").status, "the fourth request of the client")
}

// A cached route stores what the compressor made: hits are served with the stored
// compressed bytes, one entry per coding, and nothing is compressed again.
func TestCachedRouteServesCompressedBytes(t *testing.T) {
	s := newStack(t, harden.Config{Logger: quiet, Observe: observe.Config{MetricsToken: metricsToken},
		RateLimit: ratelimit.Config{Rule: ratelimit.MustParseRule("100 per second")}})
	c, err := s.HTTPCache(cache.HTTPConfig{CacheStatus: showStatus})
	require.NoError(t, err)
	mux := app()
	hello, _ := mux.Handler(httptest.NewRequest(http.MethodGet, "/hello", nil))
	mux.Handle("GET /cached/hello", c.Handler(hello))
	srv := httptest.NewTLSServer(s.Handler(mux))
	defer srv.Close()
	plain := get(t, srv, "/hello", "Accept-Encoding", "identity").body

	// The first coding misses the resource, the second only its variant.
	for _, coding := range []string{"gzip", "zstd"} {
		miss := map[string]string{"gzip": "uri-miss", "zstd": "vary-miss"}[coding]
		for i, want := range []string{"^harden; fwd=" + miss + "; stored$", freshHit, freshHit} {
			r := get(t, srv, "/cached/hello", "Accept-Encoding", coding)
			require.Equal(t, http.StatusOK, r.status)
			assert.Regexp(t, want, r.header.Get("Cache-Status"), "%s #%d", coding, i)
			assert.Equal(t, []string{coding}, r.header.Values("Content-Encoding"), "%s #%d", coding, i)
			assert.Equal(t, []string{"Accept-Encoding"}, r.header.Values("Vary"), "%s #%d", coding, i)
			var dec io.Reader
			if coding == "gzip" {
				dec, err = gzip.NewReader(strings.NewReader(r.body))
			} else {
				dec, err = zstd.NewReader(strings.NewReader(r.body))
			}
			require.NoError(t, err)
			b, err := io.ReadAll(dec)
			require.NoError(t, err)
			assert.Equal(t, plain, string(b))
		}
		n, _ := metric(t, srv, "harden_compress_responses_total", "encoding", coding)
		assert.Equal(t, "1", n, "%s: only the miss was compressed", coding)
	}
}
