package app

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nexus-reussite/harden/examples/nexus/internal/servicetest"
)

// TestTwoInstancesShareRedis runs two backends on one PostgreSQL database and one Redis:
// the login limit counts across both, and a logout on one revokes the token on the other.
func TestTwoInstancesShareRedis(t *testing.T) {
	be := postgresRedisBackend(t)
	a := newTestServerOpts(t, be, nil, Options{})
	b := newTestServerOpts(t, be, nil, Options{})

	// "5 per minute" on login, per client, whichever instance answers.
	for i := 0; i < 5; i++ {
		s := a
		if i%2 == 1 {
			s = b
		}
		s.expect(http.StatusUnauthorized, "POST", "/api/auth/login", "", map[string]string{"email": demoAdmin, "password": "wrong-password"})
	}
	for _, s := range []*testServer{a, b} {
		r := s.expect(http.StatusTooManyRequests, "POST", "/api/auth/login", "", map[string]string{"email": demoAdmin, "password": demoPassword})
		if r.header.Get("Retry-After") == "" {
			t.Fatal("429 without Retry-After")
		}
	}
	// Other routes are still open: the login rule is per route.
	a.expect(http.StatusOK, "GET", "/api/formulas", "", nil)
}

// TestLogoutRevokesOnEveryInstance: a token logged out through one instance is refused
// by the other at once, and so is its refresh token.
func TestLogoutRevokesOnEveryInstance(t *testing.T) {
	be := postgresRedisBackend(t)
	a := newTestServer(t, be, nil)
	b := newTestServer(t, be, nil)
	pair := a.login(demoParent, demoPassword)
	b.expect(http.StatusOK, "GET", "/api/auth/me", pair.AccessToken, nil)
	b.expect(http.StatusNoContent, "POST", "/api/auth/logout", pair.AccessToken, nil)
	a.expect(http.StatusUnauthorized, "GET", "/api/auth/me", pair.AccessToken, nil)
	a.expect(http.StatusUnauthorized, "POST", "/api/auth/refresh", "", map[string]string{"refresh_token": pair.RefreshToken})
}

// TestRedisOutage kills the backend's own redis-server: logins and protected routes keep
// working (revocation falls back to the database), a logout during the outage is still
// enforced, /ready stays up (Redis is non-critical) while /health reports it, and after
// Redis returns (empty) nothing revoked comes back to life.
func TestRedisOutage(t *testing.T) {
	redisSrv := servicetest.StartRedisServer(t)
	be := backend{name: "postgres+own-redis", env: map[string]string{"DATABASE_URL": servicetest.Postgres(t), "REDIS_URL": redisSrv.URL()}, prefix: "nexus-outage:"}
	s := newTestServer(t, be, nil)
	kept := s.login(demoStudent, demoPassword)
	dropped := s.login(demoParent, demoPassword)

	redisSrv.Kill()
	s.expect(http.StatusOK, "GET", "/api/auth/me", kept.AccessToken, nil)
	// The database records the revocation; publishing it to Redis fails, so the client
	// is told to retry, but the token is refused already.
	s.expect(http.StatusServiceUnavailable, "POST", "/api/auth/logout", dropped.AccessToken, nil)
	s.expect(http.StatusUnauthorized, "GET", "/api/auth/me", dropped.AccessToken, nil)
	fresh := s.login(demoTeacher, demoPassword)
	s.expect(http.StatusOK, "GET", "/api/auth/me", fresh.AccessToken, nil)
	s.expect(http.StatusOK, "GET", "/api/formulas", "", nil) // rate limiting fails open
	s.expect(http.StatusOK, "GET", "/ready", "", nil)
	h := s.expect(http.StatusOK, "GET", "/health", healthToken, nil).json(t)
	redisCheck, _ := h["checks"].(map[string]any)["redis"].([]any)
	if h["status"] != "warn" || len(redisCheck) != 1 || redisCheck[0].(map[string]any)["status"] != "warn" {
		t.Fatalf("/health during the outage: %v", h)
	}

	if err := redisSrv.Start(); err != nil {
		t.Fatal(err)
	}
	s.expect(http.StatusUnauthorized, "GET", "/api/auth/me", dropped.AccessToken, nil)
	s.expect(http.StatusUnauthorized, "POST", "/api/auth/refresh", "", map[string]string{"refresh_token": dropped.RefreshToken})
	s.expect(http.StatusOK, "GET", "/api/auth/me", kept.AccessToken, nil)
	s.expect(http.StatusOK, "GET", "/api/auth/me", fresh.AccessToken, nil)
	// Logging out again now publishes the revocation.
	s.expect(http.StatusNoContent, "POST", "/api/auth/logout", kept.AccessToken, nil)
	s.expect(http.StatusUnauthorized, "GET", "/api/auth/me", kept.AccessToken, nil)
}

// TestCacheInvalidationReachesEveryInstance: both instances cache GET /api/formulas/1; an
// admin edit through one makes the other serve the new formula.
func TestCacheInvalidationReachesEveryInstance(t *testing.T) {
	be := postgresRedisBackend(t)
	a := newTestServer(t, be, nil)
	b := newTestServer(t, be, nil)
	for _, s := range []*testServer{a, b} {
		s.expect(http.StatusOK, "GET", "/api/formulas/1", "", nil)
		if r := s.expect(http.StatusOK, "GET", "/api/formulas/1", "", nil); !strings.Contains(r.header.Get("Cache-Status"), "hit") {
			t.Fatalf("Cache-Status %q, want a hit", r.header.Get("Cache-Status"))
		}
	}
	f := b.expect(http.StatusOK, "GET", "/api/formulas/1", "", nil).json(t)
	f["price"] = 222
	a.expect(http.StatusOK, "PUT", "/api/formulas/1", a.login(demoAdmin, demoPassword).AccessToken, f)

	// The message travels through Redis pub/sub: allow it a moment to arrive.
	deadline := time.Now().Add(3 * time.Second)
	for {
		got := b.expect(http.StatusOK, "GET", "/api/formulas/1", "", nil).json(t)
		if got["price"].(float64) == 222 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("instance b still serves price %v", got["price"])
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The admin route invalidates by tag on every instance too.
	a.expect(http.StatusOK, "GET", "/api/formulas", "", nil)
	if r := a.expect(http.StatusOK, "GET", "/api/formulas", "", nil); !strings.Contains(r.header.Get("Cache-Status"), "hit") {
		t.Fatalf("Cache-Status %q, want a hit", r.header.Get("Cache-Status"))
	}
	admin := b.login(demoAdmin, demoPassword).AccessToken
	b.expect(http.StatusOK, "POST", "/api/admin/cache/invalidate", admin, map[string]string{"tag": "formulas"})
	deadline = time.Now().Add(3 * time.Second)
	for strings.Contains(a.expect(http.StatusOK, "GET", "/api/formulas", "", nil).header.Get("Cache-Status"), "hit") {
		if time.Now().After(deadline) {
			t.Fatal("instance a still serves the invalidated list from its cache")
		}
		time.Sleep(20 * time.Millisecond)
	}
	stats := b.expect(http.StatusOK, "GET", "/api/admin/cache/stats", admin, nil).json(t)
	if stats["store"] != "redis+local" {
		t.Fatalf("cache stats %v", stats)
	}
}

// TestRevocationFailsClosed: when neither Redis nor the database can answer whether a
// session is revoked, protected routes refuse with 503 instead of trusting the token;
// public routes and probes of liveness keep answering, and service returns with the
// database.
func TestRevocationFailsClosed(t *testing.T) {
	redisSrv := servicetest.StartRedisServer(t)
	pg := servicetest.Postgres(t)
	u, err := url.Parse(pg)
	if err != nil {
		t.Fatal(err)
	}
	proxy := servicetest.StartProxy(t, u.Host)
	u.Host = proxy.Addr()
	be := backend{name: "cut", env: map[string]string{"DATABASE_URL": u.String(), "REDIS_URL": redisSrv.URL(), "DB_POOL_TIMEOUT": "2"}, prefix: "nexus-closed:"}
	s := newTestServer(t, be, nil)
	tok := s.login(demoStudent, demoPassword).AccessToken
	s.expect(http.StatusOK, "GET", "/api/auth/me", tok, nil)

	redisSrv.Kill()
	proxy.Cut()
	r := s.expect(http.StatusServiceUnavailable, "GET", "/api/bookings", tok, nil)
	if strings.Contains(string(r.body), "connection") || strings.Contains(string(r.body), "127.0.0.1") {
		t.Fatalf("503 leaks internals: %s", r.body)
	}
	s.expect(http.StatusOK, "GET", "/live", "", nil)

	proxy.Restore()
	deadline := time.Now().Add(10 * time.Second)
	for s.request("GET", "/api/auth/me", tok, nil).status != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("service did not come back with the database")
		}
		time.Sleep(100 * time.Millisecond)
	}
	// With Redis back (empty), the session state is restored from the database.
	if err := redisSrv.Start(); err != nil {
		t.Fatal(err)
	}
	s.expect(http.StatusOK, "GET", "/api/auth/me", tok, nil)
	keys, _, err := redisSrv.Client().Scan(t.Context(), 0, "nexus-closed:session:*", 100).Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("session state not restored in redis: %v %v", keys, err)
	}
}

// TestInstancesStartTogether: several instances starting at once on a fresh PostgreSQL
// database migrate it once (advisory lock) and seed it once, and all of them serve.
func TestInstancesStartTogether(t *testing.T) {
	be := postgresRedisBackend(t)
	const n = 3
	servers := make([]*testServer, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			servers[i], errs[i] = startTestServer(t, be, nil, Options{RouteRules: map[string]string{"login": "1000 per minute"}})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("instance %d: %v", i, err)
		}
	}
	for _, s := range servers {
		s.login(demoAdmin, demoPassword)
		s.expect(http.StatusOK, "GET", "/api/formulas", "", nil)
	}
	var users, formulas int
	ctx := t.Context()
	if err := servers[0].app.db.Pool().QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&users); err != nil {
		t.Fatal(err)
	}
	if err := servers[0].app.db.Pool().QueryRowContext(ctx, `SELECT COUNT(*) FROM formulas`).Scan(&formulas); err != nil {
		t.Fatal(err)
	}
	if users != 4 || formulas != 4 {
		t.Fatalf("%d users and %d formulas, want 4 and 4", users, formulas)
	}
}

// TestRedisKeyLayout: every key the backend writes to Redis sits once under the
// instance prefix, in one of its sections (cache entries and tag versions, rate-limit
// windows, session state), and two instances writing the cache use the same keys.
func TestRedisKeyLayout(t *testing.T) {
	be := postgresRedisBackend(t)
	a := newTestServer(t, be, nil)
	b := newTestServer(t, be, nil)
	admin := a.login(demoAdmin, demoPassword).AccessToken
	a.expect(http.StatusOK, "GET", "/api/formulas/1", "", nil)
	b.expect(http.StatusOK, "GET", "/api/formulas", "", nil)
	a.expect(http.StatusOK, "POST", "/api/admin/cache/invalidate", admin, map[string]string{"tag": "formulas"})
	// A hit on b of what a stored: the instances agree on the keys.
	for _, s := range []*testServer{a, b} {
		s.expect(http.StatusOK, "GET", "/api/formulas/2", "", nil)
	}
	if r := b.expect(http.StatusOK, "GET", "/api/formulas/2", "", nil); !strings.Contains(r.header.Get("Cache-Status"), "hit") {
		t.Fatalf("Cache-Status %q on the second instance, want a hit", r.header.Get("Cache-Status"))
	}

	var keys []string
	iter := a.app.rdb.Scan(t.Context(), 0, be.prefix+"*", 500).Iterator()
	for iter.Next(t.Context()) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	sections := map[string]int{}
	for _, k := range keys {
		rest := strings.TrimPrefix(k, be.prefix)
		section := ""
		for _, s := range []string{"cache:k:", "cache:t:", "ratelimit:", "session:"} {
			if strings.HasPrefix(rest, s) {
				section = s
			}
		}
		if section == "" || strings.Contains(rest, be.prefix) {
			t.Errorf("key %q is outside the layout %s{cache:k:,cache:t:,ratelimit:,session:}…", k, be.prefix)
		}
		sections[section]++
	}
	if n, err := a.app.rdb.Exists(t.Context(), be.prefix+"cache:t:"+"formulas").Result(); err != nil || n != 1 {
		t.Errorf("tag version key %scache:t:%s: exists %d, %v", be.prefix, "formulas", n, err)
	}
	for _, s := range []string{"cache:k:", "ratelimit:", "session:"} {
		if sections[s] == 0 {
			t.Errorf("no %s%s key among %q", be.prefix, s, keys)
		}
	}
}
