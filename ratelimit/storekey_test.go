package ratelimit_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-reussite/harden/ratelimit"
)

// recordingStore admits everything and records the keys it is asked for.
type recordingStore struct {
	mu   sync.Mutex
	keys []string
}

func (s *recordingStore) Take(_ context.Context, key string, rule ratelimit.Rule, _ ratelimit.Strategy, _ uint64) (ratelimit.Decision, error) {
	s.mu.Lock()
	s.keys = append(s.keys, key)
	s.mu.Unlock()
	d := ratelimit.Decision{Allowed: true, N: len(rule)}
	for i, l := range rule {
		d.Limits[i] = ratelimit.LimitStatus{Limit: l, Remaining: l.Count - 1}
	}
	return d, nil
}

func (s *recordingStore) last() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.keys) == 0 {
		return ""
	}
	return s.keys[len(s.keys)-1]
}

// TestStoreKeys pins the keys a limiter hands its store, and shows the memory store,
// which the limiter looks up without building a string, counts under the same keys.
func TestStoreKeys(t *testing.T) {
	long := strings.Repeat("k", 300) // longer than the key's stack buffer
	for _, tc := range []struct {
		name    string
		cfg     ratelimit.Config
		method  string
		pattern string
		remote  string
		hdr     []string
		want    string
	}{
		{"ipv4", ratelimit.Config{}, "GET", "", "192.0.2.1:1", nil, "default:ip:192.0.2.1"},
		{"ipv6 /64", ratelimit.Config{}, "GET", "", "[2001:db8:1:2::7]:1", nil, "default:ip:2001:db8:1:2::/64"},
		{"ipv6 /48", ratelimit.Config{IPv6PrefixLen: 48}, "GET", "", "[2001:db8:1:2::7]:1", nil, "default:ip:2001:db8:1::/48"},
		{"ipv6 /128", ratelimit.Config{IPv6PrefixLen: 128}, "GET", "", "[2001:db8:1:2::7]:1", nil, "default:ip:2001:db8:1:2::7"},
		{"unknown", ratelimit.Config{}, "GET", "", "@unix", nil, "default:ip:unknown"},
		{"forwarded through proxy", ratelimit.Config{Name: "api", TrustedProxies: []string{"10.0.0.0/8"}}, "GET", "", "10.0.0.1:1",
			[]string{"X-Forwarded-For", "6.6.6.6, 198.51.100.7, 10.0.0.2"}, "api:ip:198.51.100.7"},
		{"route", ratelimit.Config{Name: "r", Scope: ratelimit.ScopeRoute}, "POST", "/b/{id}", "192.0.2.1:1", nil, "r:/b/{id}:ip:192.0.2.1"},
		{"route and method", ratelimit.Config{Name: "r", Scope: ratelimit.ScopeRouteMethod}, "POST", "/b/{id}", "192.0.2.1:1", nil, "r:POST /b/{id}:ip:192.0.2.1"},
		{"route and other method", ratelimit.Config{Name: "r", Scope: ratelimit.ScopeRouteMethod}, "BREW", "/b/{id}", "192.0.2.1:1", nil, "r:OTHER /b/{id}:ip:192.0.2.1"},
		{"key func", ratelimit.Config{Key: ratelimit.HeaderKey("X-User")}, "GET", "", "192.0.2.1:1", []string{"X-User", "u"},
			"default:hdr:X-User:0bfe935e70c321c7ca3afc75ce0d0ca2"},
		{"key func without key", ratelimit.Config{Key: ratelimit.HeaderKey("X-User")}, "GET", "", "192.0.2.1:1", nil, "default:ip:192.0.2.1"},
		{"long key", ratelimit.Config{Key: func(*http.Request) string { return long }, Scope: ratelimit.ScopeRoute}, "GET", "/a", "192.0.2.1:1", nil,
			"default:/a:" + long},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recordingStore{}
			cfg := tc.cfg
			cfg.Store = rec
			newReq := func() *http.Request {
				r := httptest.NewRequest(tc.method, "/x", nil)
				r.RemoteAddr = tc.remote
				r.Pattern = tc.pattern
				for i := 0; i+1 < len(tc.hdr); i += 2 {
					r.Header.Add(tc.hdr[i], tc.hdr[i+1])
				}
				return r
			}
			newLimiter(t, cfg).Handler(okHandler).ServeHTTP(httptest.NewRecorder(), newReq())
			assert.Equal(t, tc.want, rec.last())

			mem, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{})
			require.NoError(t, err)
			cfg.Store = mem
			cfg.Rule = ratelimit.MustParseRule("1 per minute")
			w := httptest.NewRecorder()
			newLimiter(t, cfg).Handler(okHandler).ServeHTTP(w, newReq())
			require.Equal(t, http.StatusOK, w.Code)
			assert.Equal(t, 1, mem.Len())
			d, err := mem.Take(context.Background(), tc.want, cfg.Rule, ratelimit.FixedWindow, 1)
			require.NoError(t, err)
			assert.False(t, d.Allowed, "the request was counted under %q", tc.want)
		})
	}
}
