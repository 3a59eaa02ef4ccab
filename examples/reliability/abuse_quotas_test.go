package reliability

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// metricsToken is METRICS_TOKEN of the production children.
const metricsToken = "reliability-metrics-token-0123456789"

// all runs fn n times at once and tallies the statuses.
func all(n int, fn func(i int) reply) (*Counts, []reply) {
	counts, replies := &Counts{}, make([]reply, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			replies[i] = fn(i)
			counts.Add(replies[i].status, replies[i].took)
		}()
	}
	close(start)
	wg.Wait()
	return counts, replies
}

// TestQuotasUnderAbuse replays, against the real binary on PostgreSQL + Redis, what one
// free account did to shared resources: 120 ARIA questions at once, every slot of a
// teacher's next 60 hours at once (nights included), 50 children at once; and checks
// that a production binary keeps /metrics private.
func TestQuotasUnderAbuse(t *testing.T) {
	sec := section(t, "Abuse: quotas on shared resources",
		`One account cannot exhaust what everyone shares. Against the real binary on PostgreSQL + Redis,
with the defaults ARIA_DAILY_LIMIT=50, BOOKING_MAX_ACTIVE=10, BOOKING_HOURS=08:00-21:00 in
Africa/Tunis and PARENT_MAX_CHILDREN=6, all requests of each burst sent at once: 120 ARIA questions
of one student make exactly 50 upstream calls (the rest 429); 60 bookings of one student on
consecutive hours hold 10, none at night (422 outside the hours, 409 past the quota); 50 children
of one parent end at 6 (409 for the others). A production binary refuses to start with /metrics
public, and with METRICS_ADDR and METRICS_TOKEN serves them only on the metrics port, to the token.`)
	st := startStack(t, false, map[string]string{
		"ARIA_DAILY_LIMIT": "50", "BOOKING_MAX_ACTIVE": "10", "BOOKING_TIMEZONE": "Africa/Tunis",
		"BOOKING_HOURS": "08:00-21:00", "PARENT_MAX_CHILDREN": "6",
	})
	a := st.api
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	student := a.login(t, "10.95.0.1", demoStudent, demoPassword)
	parent := a.login(t, "10.95.0.2", demoParent, demoPassword)

	// ARIA: 120 questions at once.
	before := st.openai.answered.Load()
	aria, replies := all(120, func(i int) reply {
		return a.call(ctx, "POST", "/api/aria/chat", "10.95.0.1", student.AccessToken, map[string]string{"message": fmt.Sprintf("Question %d", i)})
	})
	calls := st.openai.answered.Load() - before
	problems := true
	for _, r := range replies {
		if r.status == http.StatusTooManyRequests && (!r.problemJSON() || r.header.Get("Retry-After") == "") {
			problems = false
		}
	}
	sec.Addf("ARIA: 120 questions at once, limit 50", "%d upstream calls; answers %s", calls, aria.Statuses())
	if calls != 50 || aria.Status(http.StatusOK) != 50 || aria.Status(http.StatusTooManyRequests) != 70 || !problems {
		t.Errorf("ARIA: %d upstream calls, statuses %s, 429 problem+json with Retry-After: %v", calls, aria.Statuses(), problems)
	}

	// Bookings: the next 60 hours from tomorrow 00:00 in Tunis, at once.
	var teachers struct {
		Teachers []struct {
			ID int64 `json:"id"`
		} `json:"teachers"`
	}
	if err := a.must(t, http.StatusOK, "GET", "/api/teachers", "10.95.0.1", student.AccessToken, nil).decode(&teachers); err != nil || len(teachers.Teachers) == 0 {
		t.Fatalf("teachers: %v", err)
	}
	tunis, err := time.LoadLocation("Africa/Tunis")
	if err != nil {
		t.Fatal(err)
	}
	d := time.Now().In(tunis).AddDate(0, 0, 1)
	first := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, tunis)
	bookings, _ := all(60, func(i int) reply {
		return a.call(ctx, "POST", "/api/bookings", "10.95.0.1", student.AccessToken, map[string]any{
			"teacher_id": teachers.Teachers[0].ID, "starts_at": first.Add(time.Duration(i) * time.Hour).UTC().Format(time.RFC3339), "format": "online"})
	})
	rows, err := st.db.QueryContext(ctx, `SELECT b.starts_at FROM bookings b JOIN users u ON u.id = b.student_id WHERE u.email = $1 AND b.status <> 'cancelled'`, demoStudent)
	if err != nil {
		t.Fatal(err)
	}
	var held, night int
	for rows.Next() {
		var starts int64
		if err := rows.Scan(&starts); err != nil {
			t.Fatal(err)
		}
		held++
		if h := time.Unix(starts, 0).In(tunis).Hour(); h < 8 || h >= 21 {
			night++
		}
	}
	rows.Close()
	sec.Addf("Bookings: 60 consecutive hours at once, quota 10", "%d held, %d outside 08:00-21:00; answers %s", held, night, bookings.Statuses())
	// 30 of the 60 hours are within 08:00-21:00: 13 on each of the first two days, 4 on
	// the third.
	if held != 10 || night != 0 || bookings.Status(http.StatusCreated) != 10 || bookings.Status(http.StatusUnprocessableEntity) != 30 ||
		bookings.Status(http.StatusConflict) != 20 {
		t.Errorf("bookings: %d held, %d at night, statuses %s", held, night, bookings.Statuses())
	}

	// Children: 50 at once from one parent (who has one child already).
	kids, _ := all(50, func(i int) reply {
		return a.call(ctx, "POST", "/api/students", "10.95.0.2", parent.AccessToken, map[string]any{
			"email": fmt.Sprintf("enfant-abus-%d@example.tn", i), "password": "child-password-0123", "first_name": "Enfant", "last_name": fmt.Sprint(i)})
	})
	var children int
	if err := st.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM parent_children pc JOIN users u ON u.id = pc.parent_id WHERE u.email = $1`, demoParent).Scan(&children); err != nil {
		t.Fatal(err)
	}
	sec.Addf("Children: 50 at once, quota 6", "%d children; answers %s", children, kids.Statuses())
	// Each accepted child costs a password hash: a server short of CPU may shed some with
	// 503, never pass the quota.
	shed := kids.Status(http.StatusServiceUnavailable)
	if children > 6 || kids.Status(http.StatusCreated) != children-1 || kids.Status(http.StatusCreated)+kids.Status(http.StatusConflict)+shed != 50 ||
		(shed == 0 && children != 6) {
		t.Errorf("children: %d, statuses %s", children, kids.Statuses())
	}
	if n := kids.Status(http.StatusInternalServerError) + bookings.Status(http.StatusInternalServerError) + aria.Status(http.StatusInternalServerError); n != 0 {
		t.Errorf("%d answers 500", n)
	}

	checkMetricsPrivate(t, sec)
}

// checkMetricsPrivate runs the binary in production: without METRICS_TOKEN and
// METRICS_ADDR it exits 2 naming them; with both, the API's port answers /metrics 404 and
// the metrics port serves them to the token alone.
func checkMetricsPrivate(t *testing.T, sec *Section) {
	prod := map[string]string{
		"APP_ENV": "production", "ALLOWED_HOSTS": "api.nexus.tn", "SHUTDOWN_DELAY": "0",
		"DATABASE_URL": "sqlite://" + t.TempDir() + "/nexus.db",
	}
	cmd := exec.Command(nexusBinary(t))
	cmd.Dir = t.TempDir()
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + cmd.Dir}
	for k, v := range baseEnv(0) {
		if k != "PORT" {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	for k, v := range prod {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	refused := cmd.ProcessState != nil && cmd.ProcessState.ExitCode() == 2 && strings.Contains(stderr.String(), "METRICS_TOKEN: required in production unless METRICS_ADDR is set")
	sec.Addf("Production with /metrics public", "exit %d: %s", cmd.ProcessState.ExitCode(), strings.TrimSpace(stderr.String()))
	if !refused {
		t.Errorf("production without a metrics setting: %v, %s", err, stderr.String())
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	metricsAddr := ln.Addr().String()
	ln.Close()
	prod["METRICS_ADDR"], prod["METRICS_TOKEN"] = metricsAddr, metricsToken
	p := startNexus(t, prod)
	a := newAPI(p.URL)
	defer a.close()
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	viaProxy := []string{"Host", "api.nexus.tn", "X-Forwarded-Proto", "https"}
	onAPI := [2]int{a.call(ctx, "GET", "/metrics", "", "", nil, viaProxy...).status, a.call(ctx, "GET", "/metrics", "", metricsToken, nil, viaProxy...).status}
	m := newAPI("http://" + metricsAddr)
	defer m.close()
	onMetrics := [2]int{m.call(ctx, "GET", "/metrics", "", "", nil).status, m.call(ctx, "GET", "/metrics", "", metricsToken, nil).status}
	sec.Addf("/metrics without and with METRICS_TOKEN", "API port: %d, %d; metrics port: %d, %d", onAPI[0], onAPI[1], onMetrics[0], onMetrics[1])
	if onAPI != [2]int{http.StatusNotFound, http.StatusNotFound} || onMetrics != [2]int{http.StatusUnauthorized, http.StatusOK} {
		t.Errorf("/metrics: API port %v, metrics port %v", onAPI, onMetrics)
	}
}
