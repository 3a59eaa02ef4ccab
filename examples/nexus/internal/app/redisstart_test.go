package app

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nexus-reussite/harden/examples/nexus/internal/servicetest"
)

// eventually polls cond every 20 ms until it holds, failing after d.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, d)
		}
	}
}

// TestRedisDownAtStart starts the backend while its redis-server is down: it starts
// degraded exactly as after losing Redis at run time (logins and reads work with limits
// failing open, a logout is enforced at once through the database, /ready is 200 and
// /health warns), then connects by itself when Redis starts: /health passes, the rate
// limiter counts in Redis again, and a cache invalidation sent by another instance
// reaches it.
func TestRedisDownAtStart(t *testing.T) {
	redisSrv := servicetest.StartRedisServer(t)
	redisSrv.Kill()
	const prefix = "nexus-late-redis:"
	be := backend{name: "postgres+late-redis", env: map[string]string{"DATABASE_URL": servicetest.Postgres(t), "REDIS_URL": redisSrv.URL()}, prefix: prefix}
	s := newTestServer(t, be, nil)
	if !strings.Contains(s.logs.String(), "redis unreachable at start") {
		t.Fatal("no warning logged about Redis at start")
	}

	s.expect(http.StatusOK, "GET", "/ready", "", nil)
	h := s.expect(http.StatusOK, "GET", "/health", healthToken, nil).json(t)
	if h["status"] != "warn" {
		t.Fatalf("/health with Redis down: %v", h)
	}
	kept := s.login(demoStudent, demoPassword)
	dropped := s.login(demoParent, demoPassword)
	s.expect(http.StatusOK, "GET", "/api/auth/me", kept.AccessToken, nil)
	s.expect(http.StatusOK, "GET", "/api/formulas/1", "", nil)
	// Revocation fails closed: recorded in the database, refused at once, and the client
	// is told to retry since Redis could not be told.
	s.expect(http.StatusServiceUnavailable, "POST", "/api/auth/logout", dropped.AccessToken, nil)
	s.expect(http.StatusUnauthorized, "GET", "/api/auth/me", dropped.AccessToken, nil)

	if err := redisSrv.Start(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "/health passes once Redis answers", func() bool {
		return s.expect(http.StatusOK, "GET", "/health", healthToken, nil).json(t)["status"] == "pass"
	})
	rc := redisSrv.Client()
	eventually(t, 15*time.Second, "the rate limiter counts in Redis", func() bool {
		s.expect(http.StatusOK, "GET", "/api/formulas", "", nil)
		return keysUnder(t, rc, prefix+"ratelimit:") > 0
	})
	s.expect(http.StatusUnauthorized, "GET", "/api/auth/me", dropped.AccessToken, nil)
	s.expect(http.StatusOK, "GET", "/api/auth/me", kept.AccessToken, nil)

	// A second instance, started with Redis up, invalidates a formula the first has cached.
	other := newTestServer(t, be, nil)
	eventually(t, 15*time.Second, "the first instance caches GET /api/formulas/1", func() bool {
		return isHit(s.expect(http.StatusOK, "GET", "/api/formulas/1", "", nil))
	})
	f := other.expect(http.StatusOK, "GET", "/api/formulas/1", "", nil).json(t)
	f["price"] = 333
	other.expect(http.StatusOK, "PUT", "/api/formulas/1", other.login(demoAdmin, demoPassword).AccessToken, f)
	eventually(t, 5*time.Second, "the invalidation reaches the instance started without Redis", func() bool {
		return s.expect(http.StatusOK, "GET", "/api/formulas/1", "", nil).json(t)["price"].(float64) == 333
	})
}
