package reliability

import (
	"context"
	"testing"
	"time"
)

// TestSustainedLoad runs the mixed workload at high concurrency against PostgreSQL and
// Redis: zero 5xx, zero unexpected statuses, the database consistent with exactly the
// acknowledged writes, and resident memory flat between the two halves of the run.
func TestSustainedLoad(t *testing.T) {
	sec := section(t, "Sustained mixed load",
		`Students register, log in, refresh, book a teacher's slots (few slots, many students: the
database arbitrates), cancel, enroll in groups of six, ask ARIA (fake OpenAI server) and read;
anonymous visitors read formulas, config and the page. Claims: zero 5xx and zero statuses
outside each operation's expected set; afterwards PostgreSQL, read directly, has no double
slot, no group over six, counters equal to rows, every acknowledged write and nothing else;
peak RSS of the second half within 25 % (+16 MiB) of the first half's.`)
	setupStart := time.Now()
	st := startStack(t, false, nil)
	students, anon := size(16, 48), size(16, 64)
	budget := int64(size(8000, 100000))
	w := newWorkload(t, st.api, students, anon, budget, "sustained")
	setup := time.Since(setupStart)
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(size(120, 900))*time.Second)
	defer cancel()

	rssBefore, err := st.nexus.RSS()
	if err != nil {
		t.Fatal(err)
	}
	var rs rssSampler
	sctx, stopSampling := context.WithCancel(ctx)
	sampled := make(chan struct{})
	go func() { rs.sample(sctx, st.nexus, w, 100*time.Millisecond); close(sampled) }()
	start := time.Now()
	w.run(ctx, nil)
	took := time.Since(start)
	stopSampling()
	<-sampled
	rssAfter, err := st.nexus.RSS()
	if err != nil {
		t.Fatal(err)
	}

	issued := min(w.issued.Load(), budget)
	warm, mid := issued/10, issued*11/20 // warm-up 10 %, then two halves
	peakA, nA := rs.peak(warm, mid)
	peakB, nB := rs.peak(mid, issued+int64(students+anon))

	sec.Add("Setup (services, nexus start, registrations and logins)", setup)
	sec.Addf("Concurrency", "%d students + %d anonymous visitors", students, anon)
	sec.Addf("Requests", "%d in %s (%.0f req/s)", w.all.Total(), took.Round(time.Millisecond), float64(w.all.Total())/took.Seconds())
	sec.Add("By class", w.all.Classes())
	sec.Add("By status", w.all.Statuses())
	sec.Addf("Latency", "p50 %s, p95 %s, p99 %s", w.all.Quantile(0.5).Round(100*time.Microsecond),
		w.all.Quantile(0.95).Round(100*time.Microsecond), w.all.Quantile(0.99).Round(time.Millisecond))
	n, sample := w.Unexpected()
	sec.Add("Unexpected statuses", n)
	w.opTable(sec)
	decisions := metricByLabel(t, st.api, "harden_ratelimit_requests_total", "outcome")
	sec.Add("Rate limiter decisions (default and route limiters)", render(decisions))
	sec.Addf("RSS", "start %s; peak first half %s (%d samples), second half %s (%d samples); end %s",
		mib(rssBefore), mib(peakA), nA, mib(peakB), nB, mib(rssAfter))

	if w.StoppedEarly() {
		t.Errorf("the time bound ended the run after %d of %d requests", issued, budget)
	}
	if c := w.all.Of("5xx"); c > 0 {
		t.Errorf("%d responses 5xx", c)
	}
	// Redis is healthy throughout: a limiter that fails open here is not enforcing limits
	// under load. A saturated machine may still time out a rare call.
	var total float64
	for _, v := range decisions {
		total += v
	}
	if open := decisions["failed_open"]; open > total/100 {
		t.Errorf("rate limiter failed open on %.0f of %.0f decisions with Redis up", open, total)
	}
	if c := w.all.Of("transport"); c > 0 {
		t.Errorf("%d requests without a response", c)
	}
	if n > 0 {
		t.Errorf("%d unexpected replies, first: %q", n, sample)
	}
	if got := st.openai.answered.Load(); got != int64(w.ops[opChat].Status(200)) {
		t.Errorf("the OpenAI server answered %d requests, the backend acknowledged %d chats", got, w.ops[opChat].Status(200))
	}
	if nA < 3 || nB < 3 {
		t.Errorf("too few RSS samples (%d, %d) to compare the halves", nA, nB)
	} else if limit := peakA + peakA/4 + 16<<20; peakB > limit {
		t.Errorf("RSS grew: peak %s in the second half, over %s (first half %s + 25 %% + 16 MiB)", mib(peakB), mib(limit), mib(peakA))
	}

	c := verifyDatabase(t, st.db, w)
	c.figures(sec)
	c.assertInvariants(t)
	b, _, e, ch := w.acks()
	if c.unacknowledged != 0 || c.bookings != b || c.enrollments != e || c.chats != ch {
		t.Errorf("database holds %d bookings, %d enrollments, %d chats; acknowledged %d, %d, %d",
			c.bookings, c.enrollments, c.chats, b, e, ch)
	}
	if b == 0 || e == 0 || ch == 0 || w.ops[opBook].Status(409) == 0 {
		t.Errorf("the load did not exercise every write (bookings %d, conflicts %d, enrollments %d, chats %d)",
			b, w.ops[opBook].Status(409), e, ch)
	}
	if err := st.nexus.waitReady(5 * time.Second); err != nil {
		t.Errorf("not ready after the load: %v", err)
	}
}
