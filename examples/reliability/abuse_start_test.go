package reliability

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nexus-reussite/harden/internal/testenv"
)

// TestAbuseRedisDownAtStart starts nexus while its redis-server is down, then starts
// Redis.
func TestAbuseRedisDownAtStart(t *testing.T) {
	sec := section(t, "Abuse: Redis down at start",
		`nexus is started (SQLite) with REDIS_URL pointing at its own redis-server, killed beforehand.
Claims: it starts and /ready answers 200; /health reports warn; logins, authenticated reads and the
formulas work (limits fail open, the cache serves its in-process level); a logout is enforced at
once (revocation falls back to the database). Once redis-server starts, nexus connects by itself:
/health passes and the rate limiter counts in Redis again, without a restart.`)
	rs := testenv.StartRedisServer(t)
	rs.Kill()
	start := time.Now()
	p := startNexus(t, map[string]string{
		"DATABASE_URL": "sqlite://" + filepath.Join(t.TempDir(), "nexus.db"), "REDIS_URL": rs.URL(), "REDIS_PREFIX": redisPrefix, "LOG_LEVEL": "warn",
	})
	sec.Add("Start to /ready 200 with Redis down", time.Since(start))
	a := newAPI(p.URL)
	t.Cleanup(a.close)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	check := func(name string, ok bool, got string) {
		verdict := "as claimed"
		if !ok {
			verdict = "NOT as claimed"
			t.Errorf("%s: %s", name, got)
		}
		sec.Addf(name, "%s (%s)", got, verdict)
	}
	h := healthStatus(ctx, a)
	check("/health with Redis down", h == "warn", h)
	kept := a.login(t, "192.0.2.1", demoStudent, demoPassword)
	dropped := a.login(t, "192.0.2.2", demoParent, demoPassword)
	me := a.call(ctx, "GET", "/api/auth/me", "192.0.2.1", kept.AccessToken, nil)
	formulas := a.call(ctx, "GET", "/api/formulas", "192.0.2.1", "", nil)
	check("Login, /api/auth/me, /api/formulas with Redis down", me.status == http.StatusOK && formulas.status == http.StatusOK,
		fmt.Sprintf("200, %d, %d", me.status, formulas.status))
	out := a.call(ctx, "POST", "/api/auth/logout", "192.0.2.2", dropped.AccessToken, nil)
	after := a.call(ctx, "GET", "/api/auth/me", "192.0.2.2", dropped.AccessToken, nil)
	check("Logout with Redis down, then the token", after.status == http.StatusUnauthorized,
		fmt.Sprintf("logout %d, then %d", out.status, after.status))

	if err := rs.Start(); err != nil {
		t.Fatal(err)
	}
	took, ok := pollUntil(30*time.Second, func() bool { return healthStatus(ctx, a) == "pass" })
	check("Redis started: /health passes after", ok, took.Round(time.Millisecond).String())
	rc := rs.Client()
	took, ok = pollUntil(30*time.Second, func() bool {
		a.call(ctx, "GET", "/api/formulas", "192.0.2.3", "", nil)
		return countKeys(ctx, rc, redisPrefix+"ratelimit:*") > 0
	})
	check("Redis started: the rate limiter counts in Redis after", ok, took.Round(time.Millisecond).String())
	again := a.call(ctx, "GET", "/api/auth/me", "192.0.2.2", dropped.AccessToken, nil)
	check("The token logged out during the outage, after", again.status == http.StatusUnauthorized, fmt.Sprint(again.status))
	if lines := p.logs.Lines("redis unreachable at start"); len(lines) != 1 {
		t.Errorf("%d start warnings about Redis, want 1", len(lines))
	}
}

// TestAbuseCSPReportSpam sends a flood of CSP reports from one address, then one report
// from another.
func TestAbuseCSPReportSpam(t *testing.T) {
	sec := section(t, "Abuse: CSP report spam",
		`One address sends 500 CSP reports (legacy report-uri bodies, and a Reporting API batch of 50),
then another address sends one. Claims: the spammer gets 429 past 5 requests a minute and at most 5
reports a request are taken, so at most 25 of its reports are logged a minute; the other client's
report is accepted and logged.`)
	p := startNexus(t, map[string]string{"DATABASE_URL": "sqlite://" + filepath.Join(t.TempDir(), "nexus.db"), "LOG_LEVEL": "warn"})
	a := newAPI(p.URL)
	t.Cleanup(a.close)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	report := func(tag string) string {
		return `{"csp-report":{"document-uri":"https://nexus.test/` + tag + `","violated-directive":"script-src","effective-directive":"script-src","blocked-uri":"inline","disposition":"enforce","original-policy":"default-src 'none'"}}`
	}
	var batch []string
	for i := range 50 {
		batch = append(batch, fmt.Sprintf(`{"type":"csp-violation","age":1,"url":"https://nexus.test/","body":{"documentURL":"https://nexus.test/spam-batch-%d","effectiveDirective":"img-src","blockedURL":"https://evil.example/x","disposition":"enforce"}}`, i))
	}
	var spam Counts
	r := a.call(ctx, "POST", "/api/csp-report", "198.51.100.66", "", "["+strings.Join(batch, ",")+"]", "Content-Type", "application/reports+json")
	spam.Add(r.status, r.took)
	for i := range 499 {
		r := a.call(ctx, "POST", "/api/csp-report", "198.51.100.66", "", report(fmt.Sprint("spam-", i)), "Content-Type", "application/csp-report")
		spam.Add(r.status, r.took)
	}
	honest := a.call(ctx, "POST", "/api/csp-report", "192.0.2.7", "", report("honest-page"), "Content-Type", "application/csp-report")
	// The log line may reach the pipe a moment after the answer.
	pollUntil(5*time.Second, func() bool { return len(p.logs.Lines("honest-page")) > 0 })
	logged := len(p.logs.Lines(`"msg":"csp violation"`))
	sec.Addf("Spammer's 500 requests", "%s", spam.Statuses())
	sec.Addf("Reports logged", "%d (the other client's: %v)", logged, len(p.logs.Lines("honest-page")) == 1)
	if spam.Status(http.StatusNoContent) != 5 || spam.Status(http.StatusTooManyRequests) != 495 {
		t.Errorf("spammer: %s, want 5 × 204 and 495 × 429", spam.Statuses())
	}
	if honest.status != http.StatusNoContent || len(p.logs.Lines("honest-page")) != 1 {
		t.Errorf("the other client's report: %s, logged %d times", honest, len(p.logs.Lines("honest-page")))
	}
	if logged > 26 {
		t.Errorf("%d reports logged, want at most 25 of the spammer's and the other's", logged)
	}
}
