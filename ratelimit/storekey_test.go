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
	"github.com/nexus-reussite/harden/ratelimit/store"
)

// recordingStore admits everything and records the keys it is asked for.
type recordingStore struct {
	mu   sync.Mutex
	keys []string
}

func (s *recordingStore) Take(_ context.Context, key string, rule ratelimit.Rule, _ store.Strategy, _ uint64) (store.Decision, error) {
	s.mu.Lock()
	s.keys = append(s.keys, key)
	s.mu.Unlock()
	d := store.Decision{Allowed: true, N: len(rule)}
	for i, l := range rule {
		d.Limits[i] = store.LimitStatus{Limit: l, Remaining: l.Count - 1}
	}
	return d, nil
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func (s *recordingStore) last() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.keys) == 0 {
		return ""
	}
	return s.keys[len(s.keys)-1]
}

// TestStoreKeys pins the keys a limiter hands its store, shows that IPKey of the same
// Config names the same client, and shows the default memory store, which the limiter
// looks up without building a string, counts under the same keys.
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
		{"route", ratelimit.Config{Name: "r", PerRoute: true}, "POST", "/b/{id}", "192.0.2.1:1", nil, "r:/b/{id}:ip:192.0.2.1"},
		{"route with method", ratelimit.Config{Name: "r", PerRoute: true}, "POST", "POST /b/{id}", "192.0.2.1:1", nil, "r:POST /b/{id}:ip:192.0.2.1"},
		{"forwarded family", ratelimit.Config{Name: "api", TrustedProxies: []string{"10.0.0.0/8"}, ClientIPHeader: "Forwarded"}, "GET", "", "10.0.0.1:1",
			[]string{"X-Forwarded-For", "6.6.6.6", "Forwarded", "for=198.51.100.7"}, "api:ip:198.51.100.7"},
		{"single-address header", ratelimit.Config{Name: "api", TrustedProxies: []string{"10.0.0.0/8"}, ClientIPHeader: "X-Real-IP"}, "GET", "", "10.0.0.1:1",
			[]string{"X-Forwarded-For", "6.6.6.6", "Forwarded", "for=6.6.6.7", "X-Real-IP", "198.51.100.7"}, "api:ip:198.51.100.7"},
		{"key func", ratelimit.Config{Key: ratelimit.HeaderKey("X-User")}, "GET", "", "192.0.2.1:1", []string{"X-User", "u"},
			"default:hdr:X-User:0bfe935e70c321c7ca3afc75ce0d0ca2"},
		{"key func without key", ratelimit.Config{Key: ratelimit.HeaderKey("X-User")}, "GET", "", "192.0.2.1:1", nil, "default:ip:192.0.2.1"},
		{"long key", ratelimit.Config{Key: func(*http.Request) string { return long }, PerRoute: true}, "GET", "/a", "192.0.2.1:1", nil,
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

			if cfg.Key == nil {
				ip, err := ratelimit.IPKey(cfg)
				require.NoError(t, err)
				assert.True(t, strings.HasSuffix(tc.want, ":"+ip(newReq())), "IPKey gives %q", ip(newReq()))
			}

			cfg.Store = nil // the default memory store, keyed without a string
			cfg.Rule = ratelimit.MustParseRule("1 per minute")
			h := newLimiter(t, cfg).Handler(okHandler)
			require.Equal(t, http.StatusOK, serve(h, newReq()).Code)
			assert.Equal(t, http.StatusTooManyRequests, serve(h, newReq()).Code)
		})
	}
}
