package ratelimit

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-reussite/harden/ratelimit/store"
)

// stringStore forwards to a memory store through the Store interface, so the limiter
// cannot take its string-free path for the memory store.
type stringStore struct{ s *memoryStore }

func (s stringStore) Take(ctx context.Context, key string, rule Rule, st store.Strategy, cost uint64) (store.Decision, error) {
	return s.s.Take(ctx, key, rule, st, cost)
}

// TestAdmittedRequestAllocations serves admitted requests through a trusted proxy with
// X-Forwarded-For, three windows and metrics, and checks the headers, that every run was
// counted under the client's key, and that the allocations stay within a bound: the
// exact counts, which move with Go releases, are benchmarks (benchmarks/ratelimit). The
// bounds are the design: no allocation to find the client, build its key or count it in
// the memory store, one more for the key string of another store, and two for the
// headers (their values, and the slices holding them).
func TestAdmittedRequestAllocations(t *testing.T) {
	rule := MustParseRule("1000000000000 per day;100000000000 per hour;1000000000 per second")
	for _, tc := range []struct {
		name     string
		headers  HeaderMode
		plain    bool // go through the Store interface
		client   string
		perRoute bool
		max      float64
	}{
		{"ipv4 all headers", HeadersAll, false, "198.51.100.7", false, 2},
		{"ipv6 all headers", HeadersAll, false, "2001:db8:1:2::7", false, 2},
		{"ipv4 draft headers", HeadersDraft, false, "198.51.100.7", false, 2},
		{"ipv4 legacy headers", HeadersLegacy, false, "198.51.100.7", false, 2},
		{"ipv4 per route", HeadersAll, false, "198.51.100.7", true, 2},
		{"ipv4 no headers", HeadersNone, false, "198.51.100.7", false, 0},
		{"ipv6 no headers", HeadersNone, false, "2001:db8:1:2::7", false, 0},
		{"ipv4 all headers, store interface", HeadersAll, true, "198.51.100.7", false, 3},
		{"ipv6 no headers, store interface", HeadersNone, true, "2001:db8:1:2::7", false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem, err := newMemoryStore(memoryConfig{})
			require.NoError(t, err)
			var s store.Store = mem
			if tc.plain {
				s = stringStore{mem}
			}
			l, err := New(Config{
				Rule:           rule,
				Store:          s,
				PerRoute:       tc.perRoute,
				TrustedProxies: []string{"127.0.0.1"},
				Headers:        tc.headers,
				Registerer:     prometheus.NewRegistry(),
			})
			require.NoError(t, err)
			h := l.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
			r := httptest.NewRequest(http.MethodGet, "/api/formulas", nil)
			r.RemoteAddr = "127.0.0.1:40000"
			r.Header.Set("X-Forwarded-For", "203.0.113.1, "+tc.client)
			r.Pattern = "GET /api/formulas"
			w := httptest.NewRecorder()
			allocs := testing.AllocsPerRun(200, func() {
				clear(w.Header())
				h.ServeHTTP(w, r)
			})
			require.Equal(t, http.StatusNoContent, w.Code)
			// A tolerance of one allocation for what a Go release may add.
			assert.LessOrEqual(t, allocs, tc.max+1)
			switch tc.headers {
			case HeadersAll, HeadersLegacy:
				assert.Equal(t, "1000000000", w.Header().Get("X-RateLimit-Limit"))
				assert.NotEmpty(t, w.Header().Get("X-RateLimit-Remaining"))
				assert.NotEmpty(t, w.Header().Get("X-RateLimit-Reset"))
			case HeadersNone:
				assert.Empty(t, w.Header())
			}
			if tc.headers == HeadersAll || tc.headers == HeadersDraft {
				// The second's window, the one with the fewest units left, alone.
				assert.Equal(t, []string{`"default-1s";q=1000000000;w=1`}, w.Header().Values("RateLimit-Policy"))
				assert.Regexp(t, `^"default-1s";r=\d+;t=1$`, w.Header().Get("RateLimit"))
			}
			// Every run was counted: the key really was the client's.
			d, err := mem.Take(context.Background(), wantKey(tc.perRoute, tc.client), rule, store.FixedWindow, 1)
			require.NoError(t, err)
			assert.GreaterOrEqual(t, 1000000000-d.Limits[2].Remaining, uint64(200))
		})
	}
}

func wantKey(perRoute bool, client string) string {
	c := "ip:" + client
	if client == "2001:db8:1:2::7" {
		c = "ip:2001:db8:1:2::/64"
	}
	if perRoute {
		return "default:GET /api/formulas:" + c
	}
	return "default:" + c
}
