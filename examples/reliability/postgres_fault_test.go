package reliability

import (
	"context"
	"net/http"
	"testing"
	"time"
)

// poolTimeout is DB_POOL_TIMEOUT in the database fault test: how long a request may wait
// for a connection before it is answered 503.
const poolTimeout = 2 * time.Second

// TestPostgresCutMidLoad cuts the TCP connection between the backend and PostgreSQL in
// the middle of the mixed load, then restores it.
func TestPostgresCutMidLoad(t *testing.T) {
	sec := section(t, "PostgreSQL cut mid-load, then restored",
		`A TCP proxy between the backend and PostgreSQL closes every connection and refuses new ones
while the mixed load runs (DB_POOL_TIMEOUT=2), then lets connections through again. Claims:
/ready answers 503 within 2 s of the cut, /live stays 200 throughout; while the database is
away requests that need it get 503 application/problem+json within the pool timeout (+1 s),
never a 500 or a hang; after the restore /ready is 200 again and writes succeed within
seconds, no 503 follows; no write is half-done and every acknowledged write is in the
database.`)
	setupStart := time.Now()
	st := startStack(t, true, map[string]string{"DB_POOL_TIMEOUT": "2"})
	a := st.api
	w := newWorkload(t, a, size(8, 32), size(4, 12), int64(size(60000, 600000)), "pgcut")
	setup := time.Since(setupStart)
	w.think = 5 * time.Millisecond
	w.tolerate = func(_ string, r reply) bool {
		p := w.phase.Load()
		return (p == 1 || p == 2) && r.status == http.StatusServiceUnavailable && r.problemJSON() && r.took <= poolTimeout+time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(size(90, 600))*time.Second)
	defer cancel()
	probe := a.login(t, "10.93.0.1", demoStudent, demoPassword)

	// /live and /ready, probed throughout as an orchestrator would.
	pr := startProber(ctx, a, 200*time.Millisecond)

	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { w.run(ctx, stop); close(done) }()
	outage := time.Duration(size(4, 20)) * time.Second

	time.Sleep(1500 * time.Millisecond)
	w.setPhase(1)
	st.proxy.Cut()
	cutAt := time.Now()
	readyDown, ok := pr.waitReady(cutAt, http.StatusServiceUnavailable, 10*time.Second)
	if !ok || readyDown > 2*time.Second {
		t.Errorf("/ready turned 503 after %s (seen: %v), want within 2s", readyDown, ok)
	}
	direct := a.call(ctx, "GET", "/api/bookings", "10.93.0.1", probe.AccessToken, nil)
	if direct.status != http.StatusServiceUnavailable || !direct.problemJSON() || direct.took > poolTimeout+time.Second {
		t.Errorf("GET /api/bookings during the cut: %s, want a 503 problem+json within %s", direct, poolTimeout+time.Second)
	}
	time.Sleep(time.Until(cutAt.Add(outage)))

	w.setPhase(2)
	st.proxy.Restore()
	restoredAt := time.Now()
	readyBack, ok := pr.waitReady(restoredAt, http.StatusOK, 30*time.Second)
	if !ok {
		t.Errorf("/ready not 200 %s after the restore", readyBack)
	}
	slot := time.Now().UTC().Truncate(time.Hour).Add(24 * 300 * time.Hour)
	var writeReply reply
	writeBack, ok := pollUntil(30*time.Second, func() bool {
		writeReply = a.call(ctx, "POST", "/api/bookings", "10.93.0.1", probe.AccessToken,
			map[string]any{"teacher_id": w.teacher, "starts_at": slot.Format(time.RFC3339), "format": "hybrid"})
		return writeReply.status == http.StatusCreated
	})
	if !ok {
		t.Errorf("no booking accepted %s after the restore: %s", writeBack, writeReply)
	}
	w.setPhase(3)
	time.Sleep(1500 * time.Millisecond)
	close(stop)
	<-done
	live := pr.stop()

	sec.Add("Setup (services, nexus start, registrations and logins)", setup)
	sec.Addf("Load", "%d students + %d anonymous visitors; cut for %s", len(w.students), w.anon, restoredAt.Sub(cutAt).Round(time.Millisecond))
	for i, name := range []string{"before the cut", "during the cut", "restore to recovery", "after recovery"} {
		sec.Addf("Requests "+name, "%d: %s", w.phases[i].Total(), w.phases[i].Statuses())
	}
	n, sample := w.Unexpected()
	sec.Add("Unexpected statuses (500, slow 503, 503 after recovery…)", n)
	sec.Add("503 problem+json within the pool timeout", w.Tolerated())
	sec.Add("Cut to /ready 503", readyDown)
	sec.Addf("Request needing the database during the cut", "%d in %s", direct.status, direct.took.Round(time.Millisecond))
	sec.Addf("/live during the whole test", "%d probes: %s", live.Total(), live.Statuses())
	sec.Add("/ready probe interval", pr.interval)
	sec.Add("Restore to /ready 200", readyBack)
	sec.Add("Restore to first write accepted", writeBack)

	if live.Total() == 0 || live.Status(http.StatusOK) != live.Total() {
		t.Errorf("/live: %s, want only 200", live.Statuses())
	}
	if n > 0 {
		t.Errorf("%d unexpected replies, first: %q", n, sample)
	}
	if w.Tolerated() == 0 {
		t.Error("no request met the cut database: the fault was not exercised")
	}
	for i := range w.phases {
		if w.phases[i].Total() == 0 {
			t.Errorf("no request completed in phase %d", i)
		}
	}
	c := verifyDatabase(t, st.db, w)
	c.figures(sec)
	c.assertInvariants(t)
}
