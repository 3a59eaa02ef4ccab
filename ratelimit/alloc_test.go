package ratelimit_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-reussite/harden/ratelimit"
)

// headerSink is a ResponseWriter that keeps headers and drops the body, so that
// allocation counts are the middleware's own.
type headerSink struct {
	h    http.Header
	code int
}

func (s *headerSink) Header() http.Header         { return s.h }
func (s *headerSink) Write(p []byte) (int, error) { return len(p), nil }
func (s *headerSink) WriteHeader(code int)        { s.code = code }

var noContent = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	w.WriteHeader(http.StatusNoContent)
})

// stringStore forwards to a MemoryStore through the Store interface, so the limiter
// cannot take its allocation-free path for the memory store.
type stringStore struct{ s *ratelimit.MemoryStore }

func (s stringStore) Take(ctx context.Context, key string, rule ratelimit.Rule, st ratelimit.Strategy, cost uint64) (ratelimit.Decision, error) {
	return s.s.Take(ctx, key, rule, st, cost)
}

// TestAdmittedRequestAllocations pins the allocations of an admitted request through a
// trusted proxy with X-Forwarded-For, three windows and metrics: one block holding
// every formatted header value and the backing array of the header slices; none with
// HeadersNone; one more (the key string) for a store other than MemoryStore.
func TestAdmittedRequestAllocations(t *testing.T) {
	rule := ratelimit.MustParseRule("1000000000000 per day;100000000000 per hour;1000000000 per second")
	for _, tc := range []struct {
		name    string
		headers ratelimit.HeaderMode
		plain   bool // go through the Store interface
		client  string
		scope   ratelimit.Scope
		want    float64
	}{
		{"ipv4 all headers", ratelimit.HeadersAll, false, "198.51.100.7", ratelimit.ScopeGlobal, 1},
		{"ipv6 all headers", ratelimit.HeadersAll, false, "2001:db8:1:2::7", ratelimit.ScopeGlobal, 1},
		{"ipv4 draft headers", ratelimit.HeadersDraft, false, "198.51.100.7", ratelimit.ScopeGlobal, 1},
		{"ipv4 legacy headers", ratelimit.HeadersLegacy, false, "198.51.100.7", ratelimit.ScopeGlobal, 1},
		{"ipv4 route and method scope", ratelimit.HeadersAll, false, "198.51.100.7", ratelimit.ScopeRouteMethod, 1},
		{"ipv4 no headers", ratelimit.HeadersNone, false, "198.51.100.7", ratelimit.ScopeGlobal, 0},
		{"ipv6 no headers", ratelimit.HeadersNone, false, "2001:db8:1:2::7", ratelimit.ScopeGlobal, 0},
		{"ipv4 all headers, store interface", ratelimit.HeadersAll, true, "198.51.100.7", ratelimit.ScopeGlobal, 2},
		{"ipv6 no headers, store interface", ratelimit.HeadersNone, true, "2001:db8:1:2::7", ratelimit.ScopeGlobal, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{})
			require.NoError(t, err)
			var store ratelimit.Store = mem
			if tc.plain {
				store = stringStore{mem}
			}
			l := newLimiter(t, ratelimit.Config{
				Rule:           rule,
				Store:          store,
				Scope:          tc.scope,
				TrustedProxies: []string{"127.0.0.1"},
				Headers:        tc.headers,
				Registerer:     prometheus.NewRegistry(),
			})
			h := l.Handler(noContent)
			r := httptest.NewRequest(http.MethodGet, "/api/formulas", nil)
			r.RemoteAddr = "127.0.0.1:40000"
			r.Header.Set("X-Forwarded-For", "203.0.113.1, "+tc.client)
			r.Pattern = "GET /api/formulas"
			w := &headerSink{h: http.Header{}}
			allocs := testing.AllocsPerRun(200, func() {
				clear(w.h)
				w.code = 0
				h.ServeHTTP(w, r)
			})
			require.Equal(t, http.StatusNoContent, w.code)
			assert.Equal(t, tc.want, allocs)
			switch tc.headers {
			case ratelimit.HeadersAll, ratelimit.HeadersLegacy:
				assert.Equal(t, "1000000000", w.h.Get("X-RateLimit-Limit"))
				assert.NotEmpty(t, w.h.Get("X-RateLimit-Remaining"))
				assert.NotEmpty(t, w.h.Get("X-RateLimit-Reset"))
			case ratelimit.HeadersNone:
				assert.Empty(t, w.h)
			}
			if tc.headers == ratelimit.HeadersAll || tc.headers == ratelimit.HeadersDraft {
				assert.Equal(t, `"default-1d";q=1000000000000;w=86400, "default-1h";q=100000000000;w=3600, "default-1s";q=1000000000;w=1`,
					w.h.Get("RateLimit-Policy"))
				assert.Contains(t, w.h.Get("RateLimit"), `"default-1s";r=`)
			}
			// Every run was counted: the key really was the client's.
			d, err := mem.Take(context.Background(), wantKey(tc.scope, tc.client), rule, ratelimit.FixedWindow, 1)
			require.NoError(t, err)
			assert.GreaterOrEqual(t, 1000000000-d.Limits[2].Remaining, uint64(200))
		})
	}
}

func wantKey(scope ratelimit.Scope, client string) string {
	c := "ip:" + client
	if client == "2001:db8:1:2::7" {
		c = "ip:2001:db8:1:2::/64"
	}
	if scope == ratelimit.ScopeRouteMethod {
		return "default:GET GET /api/formulas:" + c
	}
	return "default:" + c
}

// TestRejectedRequestAllocations pins the allocations of a rejected request with the
// default problem+json body: the decision and the request copy carrying it to the deny
// handler (three), the rate limit headers (one) and Retry-After (two), the detail and
// its extension map (three), and the problem body with its header values (three).
func TestRejectedRequestAllocations(t *testing.T) {
	l := newLimiter(t, ratelimit.Config{
		Rule:           ratelimit.MustParseRule("1 per hour;1000 per day"),
		TrustedProxies: []string{"127.0.0.1"},
		Registerer:     prometheus.NewRegistry(),
	})
	h := l.Handler(noContent)
	r := httptest.NewRequest(http.MethodGet, "/api/formulas", nil)
	r.RemoteAddr = "127.0.0.1:40000"
	r.Header.Set("X-Forwarded-For", "198.51.100.7")
	w := &headerSink{h: http.Header{}}
	h.ServeHTTP(w, r)
	require.Equal(t, http.StatusNoContent, w.code)
	allocs := testing.AllocsPerRun(200, func() {
		clear(w.h)
		w.code = 0
		h.ServeHTTP(w, r)
	})
	require.Equal(t, http.StatusTooManyRequests, w.code)
	assert.Equal(t, "application/problem+json", w.h.Get("Content-Type"))
	assert.NotEmpty(t, w.h.Get("Retry-After"))
	assert.NotEmpty(t, w.h.Get("RateLimit"))
	assert.LessOrEqual(t, allocs, 13.0)
}
