package reliability

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"syscall"
	"testing"
	"time"
)

// shutdownDelay is SHUTDOWN_DELAY in the shutdown test; nexus then drains in-flight
// requests for up to 30 s more.
const (
	shutdownDelay   = 2 * time.Second
	drainBound      = shutdownDelay + 30*time.Second
	slowAnswerDelay = 3 * time.Second
)

// TestSIGTERMUnderLoad sends SIGTERM while the mixed load runs and slow ARIA requests are
// in flight.
func TestSIGTERMUnderLoad(t *testing.T) {
	sec := section(t, "SIGTERM under load",
		`SIGTERM arrives while the mixed load runs and four ARIA requests (the fake OpenAI server
answers after 3 s) are in flight; SHUTDOWN_DELAY=2. The load stops sending when /ready
answers 503, as a load balancer would. Claims: /ready turns 503 first while the server still
serves (/live 200 after the flip); the listener closes only after the delay; every request
sent, including the slow ones that outlive the listener, completes with its expected status
(zero 5xx, zero dropped); the process exits 0 within the drain bound (delay + 30 s); every
acknowledged write is in the database.`)
	setupStart := time.Now()
	st := startStack(t, false, map[string]string{"SHUTDOWN_DELAY": fmt.Sprint(shutdownDelay.Seconds())})
	a := st.api
	w := newWorkload(t, a, size(8, 32), size(4, 12), int64(size(60000, 600000)), "sigterm")
	setup := time.Since(setupStart)
	w.think = 5 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(size(90, 600))*time.Second)
	defer cancel()
	slowUsers := []string{demoAdmin, "prof@nexus-reussite.com", demoParent, demoStudent}
	slowTokens := make([]string, len(slowUsers))
	for i, email := range slowUsers {
		slowTokens[i] = a.login(t, fmt.Sprintf("10.94.0.%d", i+1), email, demoPassword).AccessToken
	}

	pr := startProber(ctx, a, 100*time.Millisecond)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { w.run(ctx, stop); close(done) }()
	time.Sleep(time.Duration(size(2, 20)) * time.Second)

	// Slow requests, in flight across SIGTERM, the /ready flip and the listener close.
	st.openai.delay.Store(int64(slowAnswerDelay))
	slow := make([]reply, len(slowTokens))
	var slowWG sync.WaitGroup
	for i, tk := range slowTokens {
		slowWG.Add(1)
		go func() {
			defer slowWG.Done()
			slow[i] = a.call(ctx, "POST", "/api/aria/chat", fmt.Sprintf("10.94.0.%d", i+1), tk, map[string]string{"message": fmt.Sprintf("Question lente %d", i)})
		}()
	}
	time.Sleep(300 * time.Millisecond)
	w.setPhase(1)
	st.nexus.Signal(syscall.SIGTERM)
	sigAt := time.Now()
	readyFlip, ok := pr.waitReady(sigAt, http.StatusServiceUnavailable, 10*time.Second)
	if !ok {
		t.Errorf("/ready never answered 503 after SIGTERM")
	}
	close(stop) // the load balancer stops sending
	<-done
	slowWG.Wait()
	wctx, wcancel := context.WithTimeout(ctx, drainBound+5*time.Second)
	code, err := st.nexus.Wait(wctx)
	wcancel()
	exitAfter := st.nexus.exitedAt.Sub(sigAt)
	live := pr.stop()
	lastServed := pr.lastLive(http.StatusOK)
	refusedAt := pr.firstLive(sigAt, 0)

	sec.Add("Setup (services, nexus start, registrations and logins)", setup)
	sec.Addf("Load", "%d students + %d anonymous visitors, %d slow ARIA requests", len(w.students), w.anon, len(slow))
	sec.Addf("Requests before SIGTERM", "%d: %s", w.phases[0].Total(), w.phases[0].Classes())
	sec.Addf("Requests after SIGTERM", "%d: %s", w.phases[1].Total(), w.phases[1].Classes())
	var slowStatuses []int
	for _, r := range slow {
		slowStatuses = append(slowStatuses, r.status)
	}
	sec.Addf("Slow ARIA requests", "%v, in %s", slowStatuses, slow[0].took.Round(time.Millisecond))
	sec.Add("SIGTERM to /ready 503", readyFlip)
	sec.Add("SIGTERM to last /live 200", lastServed.Sub(sigAt))
	if !refusedAt.IsZero() {
		sec.Add("SIGTERM to first refused connection", refusedAt.Sub(sigAt))
	}
	sec.Addf("Exit", "code %d, %s after SIGTERM (bound %s)", code, exitAfter.Round(time.Millisecond), drainBound)
	sec.Addf("/live probes", "%d: %s", live.Total(), live.Statuses())

	if err != nil {
		t.Fatalf("nexus did not exit within %s of SIGTERM", drainBound+5*time.Second)
	}
	if code != 0 || exitAfter > drainBound {
		t.Errorf("exit code %d after %s, want 0 within %s", code, exitAfter, drainBound)
	}
	if !lastServed.After(sigAt.Add(readyFlip)) {
		t.Errorf("nothing served after /ready turned 503 (last /live 200 at +%s, flip at +%s): the flip was not first",
			lastServed.Sub(sigAt), readyFlip)
	}
	if !refusedAt.IsZero() && refusedAt.Sub(sigAt) < shutdownDelay {
		t.Errorf("connections refused %s after SIGTERM, before SHUTDOWN_DELAY %s", refusedAt.Sub(sigAt), shutdownDelay)
	}
	for i, r := range slow {
		if r.status != http.StatusOK {
			t.Errorf("slow request %d: %s, want 200", i, r)
		}
	}
	if slow[0].took < slowAnswerDelay || !st.nexus.exitedAt.After(sigAt.Add(shutdownDelay)) {
		t.Errorf("the slow requests (%s) did not outlive the delay: the drain was not exercised", slow[0].took)
	}
	if c := w.all.Of("5xx") + w.all.Of("transport"); c > 0 {
		t.Errorf("%d requests failed or dropped: %s", c, w.all.Statuses())
	}
	if n, sample := w.Unexpected(); n > 0 {
		t.Errorf("%d unexpected replies, first: %q", n, sample)
	}
	if w.phases[1].Total() == 0 {
		t.Error("no request completed after SIGTERM")
	}
	c := verifyDatabase(t, st.db, w)
	c.figures(sec)
	c.assertInvariants(t)
	if c.unacknowledged != 0 {
		t.Errorf("%d rows written without a 2xx", c.unacknowledged)
	}
	var stored int
	if err := st.db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM aria_interactions WHERE question LIKE 'Question lente %'`).Scan(&stored); err != nil || stored != len(slow) {
		t.Errorf("slow ARIA interactions stored: %d (%v), want %d", stored, err, len(slow))
	}
}
