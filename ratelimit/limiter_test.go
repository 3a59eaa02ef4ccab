package ratelimit_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sethvargo/go-limiter"
	"github.com/sethvargo/go-limiter/memorystore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-reussite/harden/ratelimit"
	"github.com/nexus-reussite/harden/ratelimit/store"
)

var okHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })

func newLimiter(t *testing.T, cfg ratelimit.Config) *ratelimit.Limiter {
	t.Helper()
	l, err := ratelimit.New(cfg)
	require.NoError(t, err)
	return l
}

// do serves one request from remote through h and returns the recorder.
func do(h http.Handler, method, target, remote string, hdr ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, nil)
	r.RemoteAddr = remote
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Add(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func codes(h http.Handler, n int, method, target, remote string, hdr ...string) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = do(h, method, target, remote, hdr...).Code
	}
	return out
}

func TestDefaultsAndHeaders(t *testing.T) {
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	l := newLimiter(t, ratelimit.Config{Now: func() time.Time { return now }})
	assert.Equal(t, "default", l.Name())
	assert.Equal(t, ratelimit.MustParseRule(ratelimit.DefaultRule), l.Rule())
	h := l.Handler(okHandler)

	w := do(h, "GET", "/", "192.0.2.1:1234")
	require.Equal(t, http.StatusOK, w.Code)
	// The draft fields carry the tightest window alone: the second's, 1 unit left.
	assert.Equal(t, []string{`"default-1s";q=2;w=1`}, w.Header().Values("RateLimit-Policy"))
	assert.Equal(t, []string{`"default-1s";r=1;t=1`}, w.Header().Values("RateLimit"))
	for _, legacy := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} {
		assert.Empty(t, w.Header().Values(legacy), "HeadersAll only: %s", legacy)
	}
	assert.Empty(t, w.Header().Get("Retry-After"))

	require.Equal(t, http.StatusOK, do(h, "GET", "/", "192.0.2.1:1234").Code)
	w = do(h, "GET", "/", "192.0.2.1:1234")
	require.Equal(t, http.StatusTooManyRequests, w.Code)
	assert.Equal(t, "1", w.Header().Get("Retry-After"))
	assert.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
	// On 429, the exhausted window, its reset being Retry-After.
	assert.Equal(t, `"default-1s";r=0;t=1`, w.Header().Get("RateLimit"))
	assert.Equal(t, `"default-1s";q=2;w=1`, w.Header().Get("RateLimit-Policy"))
	var body map[string]any
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body))
	assert.Equal(t, 429.0, body["status"])
	assert.Equal(t, "Rate limit of 2 per second exceeded; retry later.", body["detail"])
	assert.Equal(t, 1.0, body["retry_after"])

	// Another client has its own counters.
	assert.Equal(t, http.StatusOK, do(h, "GET", "/", "192.0.2.2:1234").Code)
}

// TestDraftFieldsCarryTheTightestWindow checks that RateLimit-Policy and RateLimit carry
// one item, for the window the X-RateLimit-* fields describe: the fewest units left, the
// shortest reset on a tie, and on 429 the window that blocks longest.
func TestDraftFieldsCarryTheTightestWindow(t *testing.T) {
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	for _, tc := range []struct {
		name, rule        string
		requests          int
		policy, rateLimit string
		limit, remaining  string
		code              int
		retryAfter        string
	}{
		{"fewest left, not the shortest period", "10 per second;3 per hour", 1,
			`"default-1h";q=3;w=3600`, `"default-1h";r=2;t=3600`, "3", "2", 200, ""},
		{"a tie goes to the shortest reset", "3 per minute;3 per hour", 1,
			`"default-1m";q=3;w=60`, `"default-1m";r=2;t=60`, "3", "2", 200, ""},
		{"the exhausted window on 429", "10 per second;2 per hour;5 per day", 3,
			`"default-1h";q=2;w=3600`, `"default-1h";r=0;t=3600`, "2", "0", 429, "3600"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLimiter(t, ratelimit.Config{Rule: ratelimit.MustParseRule(tc.rule), Headers: ratelimit.HeadersAll, Now: clock})
			h := l.Handler(okHandler)
			var w *httptest.ResponseRecorder
			for range tc.requests {
				w = do(h, "GET", "/", "192.0.2.1:1")
			}
			require.Equal(t, tc.code, w.Code)
			assert.Equal(t, []string{tc.policy}, w.Header().Values("RateLimit-Policy"))
			assert.Equal(t, []string{tc.rateLimit}, w.Header().Values("RateLimit"))
			assert.Equal(t, tc.limit, w.Header().Get("X-RateLimit-Limit"))
			assert.Equal(t, tc.remaining, w.Header().Get("X-RateLimit-Remaining"))
			assert.Equal(t, tc.retryAfter, w.Header().Get("Retry-After"))
		})
	}
}

func TestHeaderModes(t *testing.T) {
	for mode, want := range map[ratelimit.HeaderMode][]string{
		ratelimit.HeadersDraft:  {"Ratelimit", "Ratelimit-Policy"},
		ratelimit.HeadersAll:    {"Ratelimit", "Ratelimit-Policy", "X-Ratelimit-Limit", "X-Ratelimit-Remaining", "X-Ratelimit-Reset"},
		ratelimit.HeadersLegacy: {"X-Ratelimit-Limit", "X-Ratelimit-Remaining", "X-Ratelimit-Reset"},
		ratelimit.HeadersNone:   nil,
	} {
		l := newLimiter(t, ratelimit.Config{Headers: mode, Rule: ratelimit.MustParseRule("1/minute")})
		w := do(l.Handler(okHandler), "GET", "/", "192.0.2.1:1")
		var got []string
		for k := range w.Header() {
			if strings.Contains(strings.ToLower(k), "ratelimit") {
				got = append(got, k)
			}
		}
		assert.ElementsMatch(t, want, got, "mode %d", mode)
		w = do(l.Handler(okHandler), "GET", "/", "192.0.2.1:1")
		assert.Equal(t, "60", w.Header().Get("Retry-After"), "Retry-After is always sent on 429")
	}
}

func TestSpoofedForwardedForCannotEvade(t *testing.T) {
	app := &counting{}
	// The test client connects from 127.0.0.1, which is not a trusted proxy here.
	l := newLimiter(t, ratelimit.Config{Rule: ratelimit.MustParseRule("2 per minute"), TrustedProxies: []string{"10.0.0.0/8"}})
	srv := httptest.NewServer(l.Handler(app))
	defer srv.Close()
	var got []int
	for i := range 6 {
		req, _ := http.NewRequest("GET", srv.URL, nil)
		req.Header.Set("X-Forwarded-For", "203.0.113."+strconv.Itoa(i))
		req.Header.Set("Forwarded", "for=198.51.100."+strconv.Itoa(i))
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		got = append(got, resp.StatusCode)
	}
	assert.Equal(t, []int{200, 200, 429, 429, 429, 429}, got)
	assert.Equal(t, int64(2), app.n.Load())
}

func TestTrustedProxyForwardedFor(t *testing.T) {
	l := newLimiter(t, ratelimit.Config{Rule: ratelimit.MustParseRule("2 per minute"), TrustedProxies: []string{"10.0.0.0/8"}})
	h := l.Handler(okHandler)
	// Behind the trusted proxy, distinct clients are distinct...
	for i := range 5 {
		assert.Equal(t, http.StatusOK, do(h, "GET", "/", "10.0.0.1:1", "X-Forwarded-For", "203.0.113."+strconv.Itoa(i)).Code)
	}
	// ...and one client cannot escape by prepending addresses.
	var got []int
	for i := range 4 {
		got = append(got, do(h, "GET", "/", "10.0.0.1:1", "X-Forwarded-For", "6.6.6."+strconv.Itoa(i)+", 198.51.100.7, 10.0.0.9").Code)
	}
	assert.Equal(t, []int{200, 200, 429, 429}, got)
}

func TestIPv6Grouping(t *testing.T) {
	l := newLimiter(t, ratelimit.Config{Rule: ratelimit.MustParseRule("1 per minute")})
	h := l.Handler(okHandler)
	assert.Equal(t, 200, do(h, "GET", "/", "[2001:db8:1:2::1]:1").Code)
	assert.Equal(t, 429, do(h, "GET", "/", "[2001:db8:1:2:ffff:ffff:ffff:ffff]:1").Code, "same /64")
	assert.Equal(t, 200, do(h, "GET", "/", "[2001:db8:1:3::1]:1").Code, "other /64")
	assert.Equal(t, 200, do(h, "GET", "/", "[::ffff:192.0.2.9]:1").Code)
	assert.Equal(t, 429, do(h, "GET", "/", "192.0.2.9:1").Code, "IPv4-mapped is the IPv4 client")

	l = newLimiter(t, ratelimit.Config{Rule: ratelimit.MustParseRule("1 per minute"), IPv6PrefixLen: 128})
	h = l.Handler(okHandler)
	assert.Equal(t, 200, do(h, "GET", "/", "[2001:db8:1:2::1]:1").Code)
	assert.Equal(t, 200, do(h, "GET", "/", "[2001:db8:1:2::2]:1").Code)
}

func TestExemptions(t *testing.T) {
	reg := prometheus.NewRegistry()
	l := newLimiter(t, ratelimit.Config{
		Rule:        ratelimit.MustParseRule("1 per hour"),
		ExemptPaths: []string{"/live", "/ready", "/health", "/metrics"},
		ExemptCIDRs: []string{"192.0.2.0/24", "2001:db8::1"},
		Exempt:      func(r *http.Request) bool { return r.Header.Get("X-Internal") == "yes" },
		Registerer:  reg,
	})
	h := l.Handler(okHandler)
	for _, p := range []string{"/live", "/ready", "/health", "/metrics"} {
		for range 3 {
			w := do(h, "GET", p, "203.0.113.1:1")
			require.Equal(t, 200, w.Code, p)
			assert.Empty(t, w.Header().Get("RateLimit"), "exempt responses carry no rate limit headers")
		}
	}
	assert.Equal(t, []int{200, 200, 200}, codes(h, 3, "GET", "/api", "192.0.2.77:1"))
	assert.Equal(t, []int{200, 200}, codes(h, 2, "GET", "/api", "[2001:db8::1]:1"))
	assert.Equal(t, []int{200, 200}, codes(h, 2, "GET", "/api", "203.0.113.1:1", "X-Internal", "yes"))
	assert.Equal(t, []int{200, 429}, codes(h, 2, "GET", "/api", "203.0.113.1:1"))
	assert.Equal(t, []int{429}, codes(h, 1, "GET", "/live/x", "203.0.113.1:1"), "paths match exactly")
	assert.Equal(t, 19.0, counterValue(t, reg, "harden_ratelimit_requests_total", "exempt"))
	assert.Equal(t, 1.0, counterValue(t, reg, "harden_ratelimit_requests_total", "admitted"))
	assert.Equal(t, 2.0, counterValue(t, reg, "harden_ratelimit_requests_total", "limited"))
}

func counterValue(t *testing.T, reg *prometheus.Registry, name, outcome string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == "outcome" && lp.GetValue() == outcome || outcome == "" && lp.GetName() == "limiter" {
					sum += m.GetCounter().GetValue()
				}
			}
		}
	}
	return sum
}

type counting struct{ n atomic.Int64 }

func (c *counting) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	c.n.Add(1)
	_, _ = io.WriteString(w, "ok")
}

// TestPerRouteOnTopOfDefault wires limits the way the reference backend does: the
// default rule around the mux, tighter rules on login and register inside it.
func TestPerRouteOnTopOfDefault(t *testing.T) {
	lim := newLimiter(t, ratelimit.Config{Rule: ratelimit.MustParseRule("6 per minute"), ExemptPaths: []string{"/metrics"}, Headers: ratelimit.HeadersAll})
	login, err := lim.With("login", ratelimit.MustParseRule("5 per minute"))
	require.NoError(t, err)
	register, err := lim.With("register", ratelimit.MustParseRule("3 per minute"))
	require.NoError(t, err)
	_, err = lim.With("bad name!", ratelimit.MustParseRule("1/second"))
	assert.ErrorIs(t, err, ratelimit.ErrInvalidConfig)
	_, err = lim.With("empty", nil)
	assert.ErrorIs(t, err, ratelimit.ErrInvalidRule)

	mux := http.NewServeMux()
	mux.Handle("POST /api/auth/login", login.Handler(okHandler))
	mux.Handle("POST /api/auth/register", register.Handler(okHandler))
	mux.Handle("GET /api/formulas", okHandler)
	mux.Handle("GET /metrics", okHandler)
	h := lim.Handler(mux)

	assert.Equal(t, []int{200, 200, 200, 429}, codes(h, 4, "POST", "/api/auth/register", "192.0.2.1:1"))
	w := do(h, "POST", "/api/auth/login", "192.0.2.1:1")
	require.Equal(t, 200, w.Code)
	assert.Equal(t, []string{`"default-1m";q=6;w=60`, `"login-1m";q=5;w=60`}, w.Header().Values("RateLimit-Policy"))
	assert.Equal(t, []string{`"default-1m";r=1;t=60`, `"login-1m";r=4;t=60`}, w.Header().Values("RateLimit"))
	// The default limit counts every request: 4 + 1 so far; one more, then 429.
	assert.Equal(t, "1", w.Header().Get("X-RateLimit-Remaining"), "legacy headers show the tightest limit")
	assert.Equal(t, []int{200, 429}, codes(h, 2, "GET", "/api/formulas", "192.0.2.1:1"))
	assert.Equal(t, []int{200, 200}, codes(h, 2, "GET", "/metrics", "192.0.2.1:1"))

	// Another client: login alone is capped at 5 per minute.
	assert.Equal(t, []int{200, 200, 200, 200, 200, 429}, codes(h, 6, "POST", "/api/auth/login", "192.0.2.2:1"))
	w = do(h, "POST", "/api/auth/login", "192.0.2.3:1")
	assert.Equal(t, "4", w.Header().Get("X-RateLimit-Remaining"))
}

func TestPerRoute(t *testing.T) {
	mk := func(perRoute bool) http.Handler {
		l := newLimiter(t, ratelimit.Config{Rule: ratelimit.MustParseRule("1 per minute"), PerRoute: perRoute})
		mux := http.NewServeMux()
		mux.Handle("/a", l.Handler(okHandler))
		mux.Handle("/b/{id}", l.Handler(okHandler))
		mux.Handle("GET /c", l.Handler(okHandler))
		mux.Handle("POST /c", l.Handler(okHandler))
		return mux
	}
	global := mk(false)
	assert.Equal(t, 200, do(global, "GET", "/a", "192.0.2.1:1").Code)
	assert.Equal(t, 429, do(global, "GET", "/b/1", "192.0.2.1:1").Code, "one limit shared by the routes")

	route := mk(true)
	assert.Equal(t, 200, do(route, "GET", "/a", "192.0.2.1:1").Code)
	assert.Equal(t, 200, do(route, "GET", "/b/1", "192.0.2.1:1").Code)
	assert.Equal(t, 429, do(route, "GET", "/b/2", "192.0.2.1:1").Code, "counted by pattern, not raw path")
	assert.Equal(t, 429, do(route, "POST", "/a", "192.0.2.1:1").Code, "a pattern without a method counts every method")
	assert.Equal(t, 200, do(route, "GET", "/c", "192.0.2.1:1").Code)
	assert.Equal(t, 200, do(route, "POST", "/c", "192.0.2.1:1").Code, "patterns with a method count apart")
	assert.Equal(t, 429, do(route, "GET", "/c", "192.0.2.1:1").Code)
}

func TestCost(t *testing.T) {
	l := newLimiter(t, ratelimit.Config{
		Rule: ratelimit.MustParseRule("5 per minute"),
		Cost: func(r *http.Request) uint64 {
			n, _ := strconv.ParseUint(r.URL.Query().Get("cost"), 10, 64)
			return n
		},
	})
	h := l.Handler(okHandler)
	assert.Equal(t, 200, do(h, "GET", "/?cost=3", "192.0.2.1:1").Code)
	assert.Equal(t, 429, do(h, "GET", "/?cost=3", "192.0.2.1:1").Code)
	assert.Equal(t, []int{200, 200, 200}, codes(h, 3, "GET", "/?cost=0", "192.0.2.1:1"), "cost 0 is not counted")
	assert.Equal(t, 200, do(h, "GET", "/?cost=2", "192.0.2.1:1").Code)
	assert.Equal(t, 429, do(h, "GET", "/?cost=1", "192.0.2.1:1").Code)
}

func TestShadowMode(t *testing.T) {
	reg := prometheus.NewRegistry()
	var logs bytes.Buffer
	app := &counting{}
	l := newLimiter(t, ratelimit.Config{
		Name: "dry", Rule: ratelimit.MustParseRule("2 per minute"), Shadow: true,
		Registerer: reg, Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
	})
	h := l.Handler(app)
	for range 5 {
		w := do(h, "GET", "/x", "192.0.2.1:1")
		require.Equal(t, 200, w.Code)
		assert.Empty(t, w.Header().Get("RateLimit"))
		assert.Empty(t, w.Header().Get("Retry-After"))
	}
	assert.Equal(t, int64(5), app.n.Load())
	assert.Equal(t, 3.0, counterValue(t, reg, "harden_ratelimit_requests_total", "shadow_limited"))
	assert.Equal(t, 2.0, counterValue(t, reg, "harden_ratelimit_requests_total", "admitted"))
	assert.Equal(t, 3, strings.Count(logs.String(), "shadow mode"))
	assert.Contains(t, logs.String(), `"limiter":"dry"`)
}

// stoppedStore is go-limiter's memory store after Close: every take fails, as any
// backend that went away.
func stoppedStore(t *testing.T) store.Store {
	t.Helper()
	s, err := memorystore.New(&memorystore.Config{Tokens: 10, Interval: time.Minute})
	require.NoError(t, err)
	require.NoError(t, s.Close(context.Background()))
	return store.NewGoLimiter(s)
}

func TestStoreFailurePolicy(t *testing.T) {
	reg := prometheus.NewRegistry()
	var logs bytes.Buffer
	app := &counting{}
	open := newLimiter(t, ratelimit.Config{Name: "open", Store: stoppedStore(t), Registerer: reg, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	assert.Equal(t, []int{200, 200, 200}, codes(open.Handler(app), 3, "GET", "/", "192.0.2.1:1"))
	assert.Equal(t, int64(3), app.n.Load())
	assert.Equal(t, 3.0, counterValue(t, reg, "harden_ratelimit_requests_total", "failed_open"))
	assert.Equal(t, 3.0, counterValue(t, reg, "harden_ratelimit_store_errors_total", ""))
	assert.Equal(t, 1, strings.Count(logs.String(), "failing open"))

	closed := newLimiter(t, ratelimit.Config{Name: "closed", Store: stoppedStore(t), FailClosed: true, Registerer: reg})
	w := do(closed.Handler(app), "GET", "/", "192.0.2.1:1")
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
	assert.Equal(t, "1", w.Header().Get("Retry-After"))
	assert.Equal(t, int64(3), app.n.Load())

	custom := newLimiter(t, ratelimit.Config{Store: stoppedStore(t), FailClosed: true,
		UnavailableHandler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })})
	assert.Equal(t, http.StatusTeapot, do(custom.Handler(app), "GET", "/", "192.0.2.1:1").Code)
}

func TestDenyHandlerReplaced(t *testing.T) {
	l := newLimiter(t, ratelimit.Config{
		Rule: ratelimit.MustParseRule("1 per minute;10 per hour"),
		DenyHandler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			d, ok := ratelimit.DecisionFrom(r.Context())
			if !ok {
				w.WriteHeader(500)
				return
			}
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, d.Tightest().Limit.String()+" "+w.Header().Get("Retry-After"))
		}),
	})
	h := l.Handler(okHandler)
	require.Equal(t, 200, do(h, "GET", "/", "192.0.2.1:1").Code)
	w := do(h, "GET", "/", "192.0.2.1:1")
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Equal(t, "1 per minute 60", w.Body.String())
	_, ok := ratelimit.DecisionFrom(context.Background())
	assert.False(t, ok)
}

func TestNewRejectsInvalidConfig(t *testing.T) {
	for name, cfg := range map[string]ratelimit.Config{
		"name":        {Name: "a b"},
		"long name":   {Name: strings.Repeat("n", 65)},
		"headers":     {Headers: 9},
		"v6 prefix":   {IPv6PrefixLen: 129},
		"neg prefix":  {IPv6PrefixLen: -1},
		"proxies":     {TrustedProxies: []string{"10.0.0.0/99"}},
		"exempt cidr": {ExemptCIDRs: []string{"nope"}},
	} {
		_, err := ratelimit.New(cfg)
		assert.ErrorIs(t, err, ratelimit.ErrInvalidConfig, name)
	}
	_, err := ratelimit.New(ratelimit.Config{Rule: ratelimit.Rule{{Count: 0, Period: time.Second}}})
	assert.ErrorIs(t, err, ratelimit.ErrInvalidRule)

	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewGauge(prometheus.GaugeOpts{Name: "harden_ratelimit_requests_total", Help: "clash"}))
	_, err = ratelimit.New(ratelimit.Config{Registerer: reg})
	assert.ErrorIs(t, err, ratelimit.ErrInvalidConfig)

	shared := prometheus.NewRegistry()
	_, err = ratelimit.New(ratelimit.Config{Name: "a", Registerer: shared})
	require.NoError(t, err)
	_, err = ratelimit.New(ratelimit.Config{Name: "b", Registerer: shared})
	require.NoError(t, err, "limiters share a registry")
}

func TestKeyFuncs(t *testing.T) {
	type userKey struct{}
	user := ratelimit.ContextKey("user", func(ctx context.Context) string { s, _ := ctx.Value(userKey{}).(string); return s })
	apiKey := ratelimit.HeaderKey("x-api-key")
	ip, err := ratelimit.IPKey(ratelimit.Config{})
	require.NoError(t, err)

	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "192.0.2.1:5"
	assert.Equal(t, "ip:192.0.2.1", ip(r))
	assert.Empty(t, apiKey(r))
	assert.Empty(t, user(r))
	assert.Empty(t, ratelimit.CompositeKey(apiKey, ip)(r))
	assert.Equal(t, "ip:192.0.2.1", ratelimit.FirstKey(user, apiKey, ip)(r))

	r.Header.Set("X-Api-Key", "secret-value")
	k := apiKey(r)
	assert.Regexp(t, `^hdr:X-Api-Key:[0-9a-f]{32}$`, k)
	assert.NotContains(t, k, "secret")
	assert.Equal(t, k+"|ip:192.0.2.1", ratelimit.CompositeKey(apiKey, ip)(r))

	r = r.WithContext(context.WithValue(r.Context(), userKey{}, "42"))
	assert.Equal(t, "user:42", ratelimit.FirstKey(user, apiKey, ip)(r))

	for _, cfg := range []ratelimit.Config{
		{TrustedProxies: []string{"bad"}},
		{IPv6PrefixLen: 200},
		{ClientIPHeader: "X-Forwarded-Proto"},
		{ClientIPHeader: "bad header"},
	} {
		_, err = ratelimit.IPKey(cfg)
		assert.ErrorIs(t, err, ratelimit.ErrInvalidConfig, "%+v", cfg)
		_, err = ratelimit.New(cfg)
		assert.ErrorIs(t, err, ratelimit.ErrInvalidConfig, "%+v", cfg)
	}
	bad := &http.Request{RemoteAddr: "@unix"}
	assert.Equal(t, "ip:unknown", ip(bad))
}

func TestKeyFallsBackToIP(t *testing.T) {
	l := newLimiter(t, ratelimit.Config{Rule: ratelimit.MustParseRule("1 per minute"), Key: ratelimit.HeaderKey("X-Api-Key")})
	h := l.Handler(okHandler)
	assert.Equal(t, []int{200, 429}, codes(h, 2, "GET", "/", "192.0.2.1:1"), "no API key: limited by IP")
	assert.Equal(t, []int{200, 429}, codes(h, 2, "GET", "/", "192.0.2.1:1", "X-Api-Key", "k1"))
	assert.Equal(t, []int{200}, codes(h, 1, "GET", "/", "192.0.2.1:1", "X-Api-Key", "k2"))
}

// TestResponseControllerThroughMiddleware shows the limiter hands the original writer
// on: flushing and hijacking work behind it.
func TestResponseControllerThroughMiddleware(t *testing.T) {
	l := newLimiter(t, ratelimit.Config{})
	srv := httptest.NewServer(l.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if r.URL.Path == "/hijack" {
			conn, buf, err := rc.Hijack()
			if err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			defer conn.Close()
			_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n\r\nhijacked")
			_ = buf.Flush()
			return
		}
		_, _ = io.WriteString(w, "part1\n")
		if err := rc.Flush(); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		_, _ = io.WriteString(w, "part2\n")
	})))
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/flush")
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, []string{"chunked"}, resp.TransferEncoding, "flushed before the end")
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "part1\n", line)

	resp2, err := http.Get(srv.URL + "/hijack")
	require.NoError(t, err)
	defer resp2.Body.Close()
	b, _ := io.ReadAll(resp2.Body)
	assert.Equal(t, "hijacked", string(b))
}

// FuzzIPKey feeds every forwarding header at once to IPKey in each header family: the
// key is well formed, headers outside the family never change it, and without trusted
// proxies no header does.
func FuzzIPKey(f *testing.F) {
	f.Add("10.0.0.1:80", "203.0.113.5, 10.0.0.2", "", "", uint8(0))
	f.Add("[2001:db8::1]:1", "", `for="[2001:db8:aa::1]:80"`, "", uint8(1))
	f.Add("10.0.0.1:80", "", `for="[2001:db8:aa::1`, "198.51.100.2", uint8(2))
	f.Add("garbage", "1.1.1.1", "for=1.1.1.1", "1.1.1.1", uint8(1))
	families := []string{"X-Forwarded-For", "Forwarded", "X-Real-IP"}
	var trusted, untrusted []ratelimit.KeyFunc
	for _, h := range families {
		k, err := ratelimit.IPKey(ratelimit.Config{TrustedProxies: []string{"10.0.0.0/8", "::1"}, ClientIPHeader: h})
		if err != nil {
			f.Fatal(err)
		}
		trusted = append(trusted, k)
		if k, err = ratelimit.IPKey(ratelimit.Config{ClientIPHeader: h}); err != nil {
			f.Fatal(err)
		}
		untrusted = append(untrusted, k)
	}
	f.Fuzz(func(t *testing.T, remote, xff, fwd, real string, family uint8) {
		i := int(family) % len(families)
		values := map[string]string{"X-Forwarded-For": xff, "Forwarded": fwd, "X-Real-IP": real}
		all := &http.Request{RemoteAddr: remote, Header: http.Header{}}
		own := &http.Request{RemoteAddr: remote, Header: http.Header{}}
		for name, v := range values {
			all.Header.Set(name, v)
			if name == families[i] {
				own.Header.Set(name, v)
			}
		}
		k := trusted[i](all)
		if !strings.HasPrefix(k, "ip:") || len(k) > 3+len("ffff:ffff:ffff:ffff::/64") {
			t.Fatalf("key %q", k)
		}
		if strings.Count(k, ":") > 1 && !strings.HasSuffix(k, "/64") {
			t.Fatalf("IPv6 key %q not grouped by /64", k)
		}
		if o := trusted[i](own); o != k {
			t.Fatalf("%s family: headers of other families changed the key from %q to %q", families[i], o, k)
		}
		bare := &http.Request{RemoteAddr: remote, Header: http.Header{}}
		if d := untrusted[i](all); d != untrusted[i](bare) {
			t.Fatalf("no trusted proxy, yet headers changed the key: %q vs %q", d, untrusted[i](bare))
		}
	})
}

func mustGoLimiterMemory(t *testing.T) limiter.Store {
	t.Helper()
	s, err := memorystore.New(&memorystore.Config{Tokens: 1, Interval: time.Hour})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

func TestHostileForwardingHeaders(t *testing.T) {
	l := newLimiter(t, ratelimit.Config{Rule: ratelimit.MustParseRule("2 per minute"), TrustedProxies: []string{"10.0.0.0/8"}})
	h := l.Handler(okHandler)
	long := strings.Repeat("10.1.1.1, ", 20000) + "198.51.100.7"
	assert.Equal(t, []int{200, 200, 429}, codes(h, 3, "GET", "/", "10.0.0.1:1", "X-Forwarded-For", long))
	// Garbage ends the walk at the nearest trusted hop: one bucket for the proxy, and
	// no way to mint fresh keys.
	var got []int
	for i := range 3 {
		got = append(got, do(h, "GET", "/", "10.0.0.2:1", "X-Forwarded-For", "198.51.100.9, \x00garbage"+strconv.Itoa(i)).Code)
	}
	assert.Equal(t, []int{200, 200, 429}, got)
	assert.Equal(t, []int{200, 200, 429}, codes(h, 3, "GET", "/", "10.0.0.3:1", "Forwarded", `for="[::1`+strings.Repeat(`\"`, 5000)))
}

// blockingStore stands for a store that answers only when the request context ends.
type blockingStore struct{}

func (blockingStore) Take(ctx context.Context, _ string, _ ratelimit.Rule, _ store.Strategy, _ uint64) (store.Decision, error) {
	<-ctx.Done()
	return store.Decision{}, ctx.Err()
}

func TestClientGoneIsNotAStoreFailure(t *testing.T) {
	reg := prometheus.NewRegistry()
	app := &counting{}
	l := newLimiter(t, ratelimit.Config{Store: blockingStore{}, Registerer: reg})
	ctx, cancel := context.WithCancel(context.Background())
	r := httptest.NewRequest("GET", "/", nil).WithContext(ctx)
	cancel()
	w := httptest.NewRecorder()
	l.Handler(app).ServeHTTP(w, r)
	assert.Zero(t, app.n.Load(), "nothing served to a client that left")
	assert.Zero(t, counterValue(t, reg, "harden_ratelimit_store_errors_total", ""))
	assert.Zero(t, counterValue(t, reg, "harden_ratelimit_requests_total", "failed_open"))
}
