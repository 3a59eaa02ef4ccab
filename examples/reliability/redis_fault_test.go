package reliability

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// registerProbe sends n malformed registrations (cheap 400s) from ip and returns their
// statuses: the register route's own limit is "3 per minute" per client, so with the
// limiter working the fourth is 429.
func registerProbe(ctx context.Context, a *api, ip string, n int) []int {
	var out []int
	for range n {
		out = append(out, a.call(ctx, "POST", "/api/auth/register", ip, "", "{").status)
	}
	return out
}

// countKeys counts the keys matching pattern (SCAN, never KEYS).
func countKeys(ctx context.Context, c *redis.Client, pattern string) int {
	n := 0
	iter := c.Scan(ctx, 0, pattern, 500).Iterator()
	for iter.Next(ctx) {
		n++
	}
	return n
}

// healthStatus is the "status" of /health, which everyone sees.
func healthStatus(ctx context.Context, a *api) string {
	r := a.call(ctx, "GET", "/health", "", "", nil)
	var h struct {
		Status string `json:"status"`
	}
	if r.err != nil || json.Unmarshal(r.body, &h) != nil {
		return fmt.Sprintf("no answer (%s)", r)
	}
	return h.Status
}

// pollUntil calls f every 50 ms until it reports true or d passes; it returns how long
// that took and whether f succeeded.
func pollUntil(d time.Duration, f func() bool) (time.Duration, bool) {
	start := time.Now()
	for {
		if f() {
			return time.Since(start), true
		}
		if time.Since(start) > d {
			return time.Since(start), false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRedisKilledMidLoad kills the backend's own redis-server in the middle of the mixed
// load and starts it again (empty).
func TestRedisKilledMidLoad(t *testing.T) {
	sec := section(t, "Redis killed mid-load, then restarted",
		`The backend's own redis-server (rate limits, cache, session states) is killed with SIGKILL
while the mixed load runs, and started again empty. Claims: no 5xx and no unexpected status
from the load in any phase; rate limits fail open as configured during the outage and are
enforced again after the restart; the formulas keep being served during the outage (from the local
cache level) and, after the restart, invalidation works again and the shared cache fills and
hits; a token revoked before or during the outage is refused throughout and after
(revocation falls back to PostgreSQL); /ready stays 200 (Redis is non-critical) while /health
reports warn, and pass again after the restart.`)
	setupStart := time.Now()
	st := startStack(t, false, nil)
	a := st.api
	w := newWorkload(t, a, size(8, 32), size(4, 12), int64(size(60000, 600000)), "redis")
	// One formula the load never reads, so that after the restart its detail URI is a
	// miss and then a hit of this test's own requests alone.
	if len(w.formulas) < 2 {
		t.Fatalf("formulas %v: need two", w.formulas)
	}
	reserved := fmt.Sprintf("/api/formulas/%d", w.formulas[len(w.formulas)-1])
	w.formulas = w.formulas[:len(w.formulas)-1]
	setup := time.Since(setupStart)
	w.think = 5 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(size(90, 600))*time.Second)
	defer cancel()

	revokedBefore := a.login(t, "10.90.0.1", demoParent, demoPassword)
	a.must(t, http.StatusNoContent, "POST", "/api/auth/logout", "10.90.0.1", revokedBefore.AccessToken, nil)
	loggedOutDuring := a.login(t, "10.90.0.2", demoStudent, demoPassword)
	kept := a.login(t, "10.90.0.3", demoAdmin, demoPassword)
	a.must(t, http.StatusOK, "GET", "/api/formulas", "", "", nil)
	if cs := a.must(t, http.StatusOK, "GET", "/api/formulas", "", "", nil).header.Get("Cache-Status"); !strings.Contains(cs, "hit") {
		t.Fatalf("formulas not cached before the outage: Cache-Status %q", cs)
	}
	if got := registerProbe(ctx, a, "10.91.0.1", 4); got[3] != http.StatusTooManyRequests {
		t.Fatalf("register limit before the outage: statuses %v, want the 4th 429", got)
	}

	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { w.run(ctx, stop); close(done) }()
	outage := time.Duration(size(4, 20)) * time.Second

	time.Sleep(1500 * time.Millisecond)
	limiterBefore := metricByLabel(t, a, "harden_ratelimit_requests_total", "outcome")
	w.setPhase(1)
	st.redis.Kill()
	killedAt := time.Now()

	// During the outage.
	var cacheDuring []string
	for range 3 {
		r := a.call(ctx, "GET", "/api/formulas", "", "", nil)
		if r.status != http.StatusOK {
			t.Errorf("GET /api/formulas during the outage: %s", r)
		}
		cacheDuring = append(cacheDuring, fmt.Sprintf("%q", r.header.Get("Cache-Status")))
	}
	failOpen := registerProbe(ctx, a, "10.91.0.2", 5)
	for _, s := range failOpen {
		if s != http.StatusBadRequest {
			t.Errorf("register limit during the outage: statuses %v, want every one 400 (fail open)", failOpen)
			break
		}
	}
	invalidateDuring := a.call(ctx, "POST", "/api/admin/cache/invalidate", "10.90.0.3", kept.AccessToken, map[string]string{"tag": "formulas"})
	if invalidateDuring.status != http.StatusOK && invalidateDuring.status != http.StatusServiceUnavailable {
		t.Errorf("cache invalidation during the outage: %s, want 200, or 503 asking to retry", invalidateDuring)
	}
	logout := a.call(ctx, "POST", "/api/auth/logout", "10.90.0.2", loggedOutDuring.AccessToken, nil)
	if logout.status != http.StatusServiceUnavailable && logout.status != http.StatusNoContent {
		t.Errorf("logout during the outage: %s, want 204, or 503 asking to retry", logout)
	}
	var revokedChecks Counts
	refused := func(when string) {
		for _, tk := range []tokens{revokedBefore, loggedOutDuring} {
			r := a.call(ctx, "GET", "/api/auth/me", "10.90.0.4", tk.AccessToken, nil)
			revokedChecks.Add(r.status, r.took)
			if r.status != http.StatusUnauthorized {
				t.Errorf("revoked token %s: %s, want 401", when, r)
			}
			r = a.call(ctx, "POST", "/api/auth/refresh", "10.90.0.4", "", map[string]string{"refresh_token": tk.RefreshToken})
			revokedChecks.Add(r.status, r.took)
			if r.status != http.StatusUnauthorized {
				t.Errorf("revoked refresh token %s: %s, want 401", when, r)
			}
		}
		if r := a.call(ctx, "GET", "/api/auth/me", "10.90.0.3", kept.AccessToken, nil); r.status != http.StatusOK {
			t.Errorf("valid token %s: %s, want 200", when, r)
		}
	}
	refused("during the outage")
	if r := a.call(ctx, "GET", "/ready", "", "", nil); r.status != http.StatusOK {
		t.Errorf("/ready during the outage: %s, want 200", r)
	}
	healthDuring := healthStatus(ctx, a)
	if healthDuring != "warn" {
		t.Errorf("/health during the outage: %q, want warn", healthDuring)
	}
	time.Sleep(time.Until(killedAt.Add(outage)))
	limiterOutage := diff(limiterBefore, metricByLabel(t, a, "harden_ratelimit_requests_total", "outcome"))
	if limiterOutage["failed_open"] == 0 || limiterOutage["failed_closed"] != 0 {
		t.Errorf("rate limiter during the outage: %s, want failed_open and no failed_closed", render(limiterOutage))
	}

	// Restart, empty.
	w.setPhase(2)
	if err := st.redis.Start(); err != nil {
		t.Fatal(err)
	}
	restartedAt := time.Now()
	healthBack, ok := pollUntil(15*time.Second, func() bool { return healthStatus(ctx, a) == "pass" })
	if !ok {
		t.Errorf("/health not pass %s after the restart", healthBack)
	}
	probe := 0
	limitsBack, ok := pollUntil(15*time.Second, func() bool {
		probe++
		return registerProbe(ctx, a, fmt.Sprintf("10.92.%d.%d", probe/250, probe%250+1), 4)[3] == http.StatusTooManyRequests
	})
	if !ok {
		t.Errorf("register limit not enforced %s after the restart", limitsBack)
	}
	// The shared cache works again: an invalidation goes through, the next read is a
	// miss that fills the cache, the one after a hit.
	invalidateBack, ok := pollUntil(15*time.Second, func() bool {
		return a.call(ctx, "POST", "/api/admin/cache/invalidate", "10.90.0.3", kept.AccessToken, map[string]string{"tag": "formulas"}).status == http.StatusOK
	})
	if !ok {
		t.Errorf("cache invalidation still failing %s after the restart", invalidateBack)
	}
	// A URI the load never reads, so its fills cannot interfere.
	var cacheAfter []string
	for range 2 {
		cacheAfter = append(cacheAfter, fmt.Sprintf("%q", a.must(t, http.StatusOK, "GET", reserved, "", "", nil).header.Get("Cache-Status")))
	}
	if strings.Contains(cacheAfter[0], "hit") || !strings.Contains(cacheAfter[1], "hit") {
		t.Errorf("Cache-Status after the restart: %v, want a miss then a hit", cacheAfter)
	}
	cacheKeys := countKeys(ctx, st.redis.Client(), redisPrefix+"cache:k:*")
	if cacheKeys == 0 {
		t.Error("no cache entry in the restarted Redis: the shared level did not recover")
	}
	refused("after the restart")

	w.setPhase(3)
	time.Sleep(1500 * time.Millisecond)
	close(stop)
	<-done

	sec.Add("Setup (services, nexus start, registrations and logins)", setup)
	sec.Addf("Load", "%d students + %d anonymous visitors; outage %s", len(w.students), w.anon, outage)
	for i, name := range []string{"before the kill", "during the outage", "restart and recovery", "after recovery"} {
		if i == 3 && w.phases[3].Total() == 0 {
			continue
		}
		sec.Addf("Requests "+name, "%d: %s", w.phases[i].Total(), w.phases[i].Classes())
	}
	n, sample := w.Unexpected()
	sec.Add("Unexpected statuses", n)
	sec.Add("Cache-Status during the outage", strings.Join(cacheDuring, ", "))
	sec.Addf("Register limit (3/min) during the outage", "%v (fail open)", failOpen)
	sec.Add("Rate limiter decisions during the outage", render(limiterOutage))
	sec.Addf("Logout during the outage", "%d (recorded in PostgreSQL, the client is asked to retry)", logout.status)
	sec.Addf("Revoked access and refresh tokens presented during and after the outage", "%d: %s", revokedChecks.Total(), revokedChecks.Statuses())
	sec.Addf("Cache invalidation during the outage", "%d", invalidateDuring.status)
	sec.Add("/health during the outage", healthDuring)
	sec.Add("Restart to /health pass", healthBack)
	sec.Add("Restart to limits enforced", limitsBack)
	sec.Add("Restart to cache invalidation accepted", invalidateBack)
	sec.Add("Cache-Status of a new URI after the restart", strings.Join(cacheAfter, ", "))
	sec.Add("Cache entries in the restarted Redis", cacheKeys)
	sec.Add("Outage (kill to restart)", restartedAt.Sub(killedAt))

	if c := w.all.Of("5xx") + w.all.Of("transport"); c > 0 {
		t.Errorf("%d responses 5xx or missing: %s", c, w.all.Statuses())
	}
	if n > 0 {
		t.Errorf("%d unexpected replies, first: %q", n, sample)
	}
	for i := range w.phases[:3] {
		if w.phases[i].Total() == 0 {
			t.Errorf("no request completed in phase %d", i)
		}
	}
	if w.issued.Load() >= w.budget {
		t.Errorf("the request budget ran out before the end of the test")
	}
	c := verifyDatabase(t, st.db, w)
	c.figures(sec)
	c.assertInvariants(t)
	if c.unacknowledged != 0 {
		t.Errorf("%d rows written without a 2xx", c.unacknowledged)
	}
}
