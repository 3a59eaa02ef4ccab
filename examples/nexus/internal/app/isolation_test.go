package app

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// keysUnder counts the Redis keys matching prefix+"*" (SCAN, never KEYS).
func keysUnder(t *testing.T, c *redis.Client, prefix string) int {
	t.Helper()
	n := 0
	iter := c.Scan(t.Context(), 0, prefix+"*", 1000).Iterator()
	for iter.Next(t.Context()) {
		n++
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}

// isHit reports whether a Cache-Status names a hit of the nexus cache.
func isHit(r *response) bool {
	cs := r.header.Get("Cache-Status")
	return strings.HasPrefix(cs, "nexus") && strings.Contains(cs, "hit")
}

// TestJunkQueriesFillNothing: 1000 made-up query strings on the cached routes are
// answered by the handler and write no key to Redis, while the plain URIs keep being
// served from the cache.
func TestJunkQueriesFillNothing(t *testing.T) {
	be := postgresRedisBackend(t)
	s := newTestServer(t, be, nil)
	for _, p := range []string{"/api/formulas", "/api/formulas/1"} {
		s.expect(http.StatusOK, "GET", p, "", nil)
		if r := s.expect(http.StatusOK, "GET", p, "", nil); !isHit(r) {
			t.Fatalf("GET %s: Cache-Status %q, want a hit on the second anonymous request", p, r.header.Get("Cache-Status"))
		}
	}
	before := keysUnder(t, s.app.rdb, be.prefix)
	cacheBefore := keysUnder(t, s.app.rdb, be.prefix+"cache:")
	for i := range 1000 {
		p := fmt.Sprintf("/api/formulas?junk%d=%d", i, i)
		if i%2 == 1 {
			p = fmt.Sprintf("/api/formulas/1?utm_source=x%d", i)
		}
		r := s.expect(http.StatusOK, "GET", p, "", nil)
		if isHit(r) || !strings.Contains(r.header.Get("Cache-Status"), "bypass") {
			t.Fatalf("GET %s: Cache-Status %q, want a bypass", p, r.header.Get("Cache-Status"))
		}
	}
	if after, cacheAfter := keysUnder(t, s.app.rdb, be.prefix), keysUnder(t, s.app.rdb, be.prefix+"cache:"); after != before || cacheAfter != cacheBefore {
		t.Fatalf("junk queries created Redis keys: %d then %d under %s (cache %d then %d)", before, after, be.prefix, cacheBefore, cacheAfter)
	}
	if r := s.expect(http.StatusOK, "GET", "/api/formulas", "", nil); !isHit(r) {
		t.Fatalf("the plain list is no longer a hit: %q", r.header.Get("Cache-Status"))
	}
}

// TestCredentialedRequestsBypassTheCache: a request carrying a cookie or a token is never
// answered from the cache, nor stored in it.
func TestCredentialedRequestsBypassTheCache(t *testing.T) {
	eachBackend(t, func(t *testing.T, be backend) {
		s := newTestServer(t, be, nil)
		tok := s.login(demoStudent, demoPassword).AccessToken
		s.expect(http.StatusOK, "GET", "/api/formulas/2", "", nil)
		if r := s.expect(http.StatusOK, "GET", "/api/formulas/2", "", nil); !isHit(r) {
			t.Fatalf("Cache-Status %q, want a hit", r.header.Get("Cache-Status"))
		}
		for _, hdr := range [][]string{
			{"Cookie", "session=alice"},
			{"Cookie", "theme=dark; session=bob"},
			{"Authorization", "Bearer " + tok},
		} {
			r := s.expect(http.StatusOK, "GET", "/api/formulas/2", "", nil, hdr...)
			if isHit(r) || !strings.Contains(r.header.Get("Cache-Status"), "bypass") {
				t.Errorf("%s: Cache-Status %q, want a bypass", hdr[0], r.header.Get("Cache-Status"))
			}
		}
		// A credentialed first request stores nothing for the anonymous ones.
		s.expect(http.StatusOK, "GET", "/api/formulas/3", "", nil, "Cookie", "session=alice")
		if r := s.expect(http.StatusOK, "GET", "/api/formulas/3", "", nil); isHit(r) {
			t.Errorf("anonymous request served what a cookie-carrying one fetched: %q", r.header.Get("Cache-Status"))
		}
	})
}

// TestPageNonceIsNeverReplayed: each HTML page carries a fresh CSP nonce that matches
// its own header, on every backend, however often it is asked for.
func TestPageNonceIsNeverReplayed(t *testing.T) {
	nonceRe := regexp.MustCompile(`'nonce-([A-Za-z0-9+/=_-]+)'`)
	eachBackend(t, func(t *testing.T, be backend) {
		s := newTestServer(t, be, nil)
		seen := map[string]bool{}
		for i := range 5 {
			r := s.expect(http.StatusOK, "GET", "/", "", nil)
			m := nonceRe.FindStringSubmatch(r.header.Get("Content-Security-Policy"))
			if m == nil {
				t.Fatalf("no nonce in %q", r.header.Get("Content-Security-Policy"))
			}
			body := html.UnescapeString(string(r.body))
			if strings.Count(body, `nonce="`) != strings.Count(body, `nonce="`+m[1]+`"`) || !strings.Contains(body, m[1]) {
				t.Fatalf("request %d: the page's nonces are not the header's %s", i, m[1])
			}
			if seen[m[1]] || strings.Contains(r.header.Get("Cache-Status"), "hit") {
				t.Fatalf("request %d: nonce %s replayed (Cache-Status %q)", i, m[1], r.header.Get("Cache-Status"))
			}
			seen[m[1]] = true
		}
	})
}

// TestTwoServicesOnOneRedis: two backends with their own databases and REDIS_PREFIX on
// one Redis server share no rate-limit counter, cache entry or invalidation.
func TestTwoServicesOnOneRedis(t *testing.T) {
	one, two := postgresRedisBackend(t), postgresRedisBackend(t)
	if one.prefix == two.prefix {
		t.Fatal("the backends share a prefix")
	}
	a := newTestServerOpts(t, one, nil, Options{})
	b := newTestServerOpts(t, two, nil, Options{})

	// Rate limits: a's login limit ("5 per minute") is spent; the same client is not
	// limited on b.
	adminA := a.login(demoAdmin, demoPassword).AccessToken
	wrong := map[string]string{"email": demoAdmin, "password": "wrong-password"}
	for range 4 {
		a.expect(http.StatusUnauthorized, "POST", "/api/auth/login", "", wrong)
	}
	a.expect(http.StatusTooManyRequests, "POST", "/api/auth/login", "", wrong)
	b.expect(http.StatusUnauthorized, "POST", "/api/auth/login", "", wrong)

	// Cache entries: what a cached is a miss on b.
	a.expect(http.StatusOK, "GET", "/api/formulas/1", "", nil)
	if r := a.expect(http.StatusOK, "GET", "/api/formulas/1", "", nil); !isHit(r) {
		t.Fatalf("a: Cache-Status %q, want a hit", r.header.Get("Cache-Status"))
	}
	if r := b.expect(http.StatusOK, "GET", "/api/formulas/1", "", nil); isHit(r) {
		t.Fatalf("b served a's cache entry: %q", r.header.Get("Cache-Status"))
	}
	if r := b.expect(http.StatusOK, "GET", "/api/formulas/1", "", nil); !isHit(r) {
		t.Fatalf("b: Cache-Status %q, want a hit", r.header.Get("Cache-Status"))
	}

	// Invalidations: a's admin drops a's formulas; b keeps serving its own from its
	// cache, and a's own invalidation reached a.
	a.expect(http.StatusOK, "POST", "/api/admin/cache/invalidate", adminA, map[string]string{"tag": "formulas"})
	time.Sleep(300 * time.Millisecond) // room for a message on a shared channel to arrive
	if r := b.expect(http.StatusOK, "GET", "/api/formulas/1", "", nil); !isHit(r) {
		t.Fatalf("b lost its entry to a's invalidation: %q", r.header.Get("Cache-Status"))
	}
	if r := a.expect(http.StatusOK, "GET", "/api/formulas/1", "", nil); isHit(r) {
		t.Fatalf("a still serves its invalidated entry: %q", r.header.Get("Cache-Status"))
	}

	// Every key of each service sits under its own prefix.
	ctx := context.Background()
	for _, be := range []backend{one, two} {
		if n := keysUnder(t, a.app.rdb, be.prefix); n == 0 {
			t.Errorf("no key under %s", be.prefix)
		}
	}
	channels, err := a.app.rdb.PubSubChannels(ctx, "*cache:invalidate").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, be := range []backend{one, two} {
		found := false
		for _, c := range channels {
			found = found || c == be.prefix+"cache:invalidate"
		}
		if !found {
			t.Errorf("no subscriber on %scache:invalidate among %q", be.prefix, channels)
		}
	}
}
