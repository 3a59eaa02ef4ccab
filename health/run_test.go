package health

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

func TestStatusAggregation(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name   string
		checks []Check
		want   Status
		each   []Status
	}{
		{"no checks", nil, StatusPass, nil},
		{"all pass", []Check{{Name: "a", Func: pass}, {Name: "b", Func: pass}}, StatusPass, []Status{StatusPass, StatusPass}},
		{"critical fails", []Check{{Name: "a", Func: pass}, {Name: "b", Func: func(context.Context) error { return boom }}},
			StatusFail, []Status{StatusPass, StatusFail}},
		{"non-critical fails", []Check{{Name: "a", Func: pass}, {Name: "b", NonCritical: true, Func: func(context.Context) error { return boom }}},
			StatusWarn, []Status{StatusPass, StatusWarn}},
		{"warning from critical", []Check{{Name: "a", Func: func(context.Context) error { return Warning(boom) }}},
			StatusWarn, []Status{StatusWarn}},
		{"warning wrapped further", []Check{{Name: "a", Func: func(context.Context) error { return fmt.Errorf("ctx: %w", Warning(boom)) }}},
			StatusWarn, []Status{StatusWarn}},
		{"fail beats warn", []Check{
			{Name: "a", Func: func(context.Context) error { return Warning(boom) }},
			{Name: "b", Func: func(context.Context) error { return boom }},
			{Name: "c", NonCritical: true, Func: func(context.Context) error { return boom }},
		}, StatusFail, []Status{StatusWarn, StatusFail, StatusWarn}},
		{"panic is a failure", []Check{{Name: "a", Func: func(context.Context) error { panic("kaboom") }}},
			StatusFail, []Status{StatusFail}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := mustNew(t, Config{Checks: tt.checks})
			rep := h.run(context.Background())
			if rep.Status != tt.want {
				t.Errorf("status %s, want %s", rep.Status, tt.want)
			}
			if len(rep.Checks) != len(tt.each) {
				t.Fatalf("%d results, want %d", len(rep.Checks), len(tt.each))
			}
			for i, r := range rep.Checks {
				if r.Name != tt.checks[i].Name {
					t.Errorf("result %d is %q, want config order", i, r.Name)
				}
				if r.Status != tt.each[i] {
					t.Errorf("%s: status %s, want %s (err %v)", r.Name, r.Status, tt.each[i], r.Err)
				}
				if r.Critical == tt.checks[i].NonCritical {
					t.Errorf("%s: Critical %v", r.Name, r.Critical)
				}
			}
			if (rep.Err() != nil) != (tt.want == StatusFail) {
				t.Errorf("Err() = %v for status %s", rep.Err(), rep.Status)
			}
		})
	}
}

func TestPanicBecomesErrPanic(t *testing.T) {
	h := mustNew(t, Config{Checks: []Check{{Name: "p", Func: func(context.Context) error { panic("kaboom") }}}})
	r := h.run(context.Background()).Checks[0]
	if !errors.Is(r.Err, ErrPanic) || r.Err.Error() != "health: check panicked: kaboom" {
		t.Errorf("err %v", r.Err)
	}
}

func TestWarningNil(t *testing.T) {
	if Warning(nil) != nil {
		t.Fatal("Warning(nil) is not nil")
	}
	base := errors.New("low disk")
	w := Warning(base)
	if !errors.Is(w, ErrWarning) || !errors.Is(w, base) || w.Error() != "low disk" {
		t.Errorf("Warning: %v", w)
	}
}

func TestObserve(t *testing.T) {
	var late func()
	h := mustNew(t, Config{Checks: []Check{
		{Name: "obs", Func: func(ctx context.Context) error {
			Observe(ctx, 42.5, "ms")
			late = func() { Observe(ctx, 99, "late") }
			return nil
		}},
		{Name: "none", Func: pass},
	}})
	rep := h.run(context.Background())
	if v, u := rep.Checks[0].ObservedValue, rep.Checks[0].ObservedUnit; v != 42.5 || u != "ms" {
		t.Errorf("observed %v %q", v, u)
	}
	if rep.Checks[1].ObservedValue != nil {
		t.Errorf("check without observation has %v", rep.Checks[1].ObservedValue)
	}
	late() // after the run: must not change anything nor race
	if v := rep.Checks[0].ObservedValue; v != 42.5 {
		t.Errorf("late Observe changed the result to %v", v)
	}
	Observe(context.Background(), 1, "x") // outside a run: no effect, no panic
}

// A check that ignores its context cannot hang a probe: it is abandoned at its timeout,
// and while it stays stuck it is not started again.
func TestHangingCheckCannotHangProbe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var hangCalls atomic.Int32
		h := mustNew(t, Config{Timeout: time.Second, Checks: []Check{
			{Name: "hang", Func: func(context.Context) error { hangCalls.Add(1); <-release; return nil }},
			{Name: "polite", Timeout: 3 * time.Second, Func: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }},
			{Name: "fast", Func: pass},
		}})
		h.Start(t.Context())

		start := time.Now()
		w := probe(h.ReadyHandler(), "/ready")
		if took := time.Since(start); took != 3*time.Second {
			t.Errorf("probe took %v, want the longest timeout 3s", took)
		}
		if w.Code != http.StatusServiceUnavailable {
			t.Errorf("code %d, want 503", w.Code)
		}
		wantTimedOut(t, h.snap.Load().rep)

		// Still stuck at the next run: reported at once, not started a second time.
		time.Sleep(defaultInterval)
		rep := h.run(context.Background())
		if !errors.Is(rep.Checks[0].Err, ErrStillRunning) || rep.Checks[0].Duration != 0 {
			t.Errorf("second run: %v after %v", rep.Checks[0].Err, rep.Checks[0].Duration)
		}
		if n := hangCalls.Load(); n != 1 {
			t.Errorf("hanging check started %d times", n)
		}

		close(release)
		synctest.Wait()
		rep = h.run(context.Background())
		if rep.Checks[0].Status != StatusPass || hangCalls.Load() != 2 {
			t.Errorf("after release: %s, %d calls", rep.Checks[0].Status, hangCalls.Load())
		}
		if !errors.Is(rep.Checks[0].LastErr, ErrStillRunning) {
			t.Errorf("last error %v, want the previous ErrStillRunning", rep.Checks[0].LastErr)
		}
	})
}

// wantTimedOut checks the first run of TestHangingCheckCannotHangProbe: the hanging
// check abandoned at its timeout, the polite one cancelled at its own, the fast one done.
func wantTimedOut(t *testing.T, rep report) {
	t.Helper()
	hang, polite, fast := rep.Checks[0], rep.Checks[1], rep.Checks[2]
	if !errors.Is(hang.Err, ErrTimeout) || hang.Duration != time.Second {
		t.Errorf("hang: %v after %v", hang.Err, hang.Duration)
	}
	if !errors.Is(polite.Err, ErrTimeout) || !errors.Is(polite.Err, context.DeadlineExceeded) || polite.Duration != 3*time.Second {
		t.Errorf("polite: %v after %v", polite.Err, polite.Duration)
	}
	if fast.Status != StatusPass || fast.Duration != 0 {
		t.Errorf("fast: %s after %v", fast.Status, fast.Duration)
	}
}

// 1000 concurrent probes cause exactly one run; the next run happens only when the
// cached results are Interval old.
func TestCacheOneRunPerInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var runs atomic.Int32
		gate := make(chan struct{})
		h := mustNew(t, Config{Interval: 10 * time.Second, Checks: []Check{{Name: "db", Func: func(ctx context.Context) error {
			runs.Add(1)
			select {
			case <-gate:
			case <-ctx.Done():
			}
			return nil
		}}}})
		h.Start(t.Context())
		ready := h.ReadyHandler()
		var wg sync.WaitGroup
		var bad atomic.Int32
		for range 1000 {
			wg.Go(func() {
				if probe(ready, "/ready").Code != http.StatusOK {
					bad.Add(1)
				}
			})
		}
		synctest.Wait() // every probe is waiting on the one run
		close(gate)
		wg.Wait()
		if n := runs.Load(); n != 1 {
			t.Fatalf("1000 concurrent probes caused %d runs", n)
		}
		if n := bad.Load(); n != 0 {
			t.Errorf("%d probes did not get 200", n)
		}
		time.Sleep(10*time.Second - time.Nanosecond)
		probe(ready, "/ready")
		probe(h.HealthHandler(), "/health")
		if n := runs.Load(); n != 1 {
			t.Errorf("probes within the interval caused %d runs", n)
		}
		time.Sleep(time.Nanosecond)
		for range 10 {
			probe(ready, "/ready")
		}
		if n := runs.Load(); n != 2 {
			t.Errorf("after the interval: %d runs, want 2", n)
		}
	})
}

// A probe whose request is cancelled stops waiting; the shared run goes on and its
// result serves the next probe.
func TestProbeCancelledDoesNotCancelRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gate := make(chan struct{})
		var sawCancel atomic.Bool
		h := mustNew(t, Config{Checks: []Check{{Name: "db", Func: func(ctx context.Context) error {
			select {
			case <-gate:
				return nil
			case <-ctx.Done():
				sawCancel.Store(true)
				return ctx.Err()
			}
		}}}})
		h.Start(t.Context())
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan int)
		go func() {
			done <- probe(h.ReadyHandler(), "/ready", func(r *http.Request) { *r = *r.WithContext(ctx) }).Code
		}()
		synctest.Wait()
		cancel()
		if code := <-done; code != http.StatusServiceUnavailable {
			t.Errorf("cancelled probe got %d, want 503 (no result yet)", code)
		}
		close(gate)
		synctest.Wait()
		if sawCancel.Load() {
			t.Error("the shared run was cancelled with the probe")
		}
		if code := probe(h.ReadyHandler(), "/ready").Code; code != http.StatusOK {
			t.Errorf("next probe got %d", code)
		}
	})
}

func TestBackgroundRefresh(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var runs atomic.Int32
		h := mustNew(t, Config{Interval: 10 * time.Second, BackgroundRefresh: true, Checks: []Check{
			{Name: "db", Func: func(context.Context) error { runs.Add(1); return nil }},
		}})
		ctx, cancel := context.WithCancel(t.Context())
		h.Start(ctx)
		h.Start(ctx) // second call: no second loop
		synctest.Wait()
		if n := runs.Load(); n != 1 {
			t.Fatalf("after Start: %d runs", n)
		}
		for i := range 35 {
			time.Sleep(time.Second)
			if probe(h.ReadyHandler(), "/ready").Code != http.StatusOK {
				t.Fatalf("probe at %ds failed", i+1)
			}
		}
		if n := runs.Load(); n != 4 {
			t.Errorf("after 35s: %d runs, want 4 (0, 10, 20, 30s)", n)
		}
		cancel()
		synctest.Wait()
		time.Sleep(30 * time.Second)
		if n := runs.Load(); n != 4 {
			t.Errorf("loop kept running after its context ended: %d runs", n)
		}
	})
}

func TestRunRespectsContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := mustNew(t, Config{Checks: []Check{{Name: "slow", Func: func(ctx context.Context) error {
			<-ctx.Done()
			return ctx.Err()
		}}}})
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		rep := h.run(ctx)
		if took := time.Since(start); took != 100*time.Millisecond {
			t.Errorf("Run took %v", took)
		}
		if err := rep.Checks[0].Err; !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err %v", err)
		}
	})
}

func TestStatusChangeHookAndHistory(t *testing.T) {
	var mu sync.Mutex
	var changes []Change
	var fail atomic.Bool
	boom := errors.New("connection refused")
	h := mustNew(t, Config{
		Checks: []Check{{Name: "db", Func: func(context.Context) error {
			if fail.Load() {
				return boom
			}
			return nil
		}}},
		OnStatusChange: func(c Change) { mu.Lock(); changes = append(changes, c); mu.Unlock() },
	})
	ctx := context.Background()
	h.run(ctx)
	h.run(ctx)
	fail.Store(true)
	h.run(ctx)
	down := h.run(ctx)
	fail.Store(false)
	up := h.run(ctx)

	want := []struct{ from, to Status }{{"", StatusPass}, {StatusPass, StatusFail}, {StatusFail, StatusPass}}
	if len(changes) != len(want) {
		t.Fatalf("changes %+v", changes)
	}
	for i, w := range want {
		if changes[i].Check != "db" || changes[i].From != w.from || changes[i].To != w.to {
			t.Errorf("change %d: %+v, want %s -> %s", i, changes[i], w.from, w.to)
		}
	}
	if !errors.Is(changes[1].Err, boom) || changes[2].Err != nil {
		t.Errorf("change errors: %v, %v", changes[1].Err, changes[2].Err)
	}
	if !errors.Is(up.Checks[0].LastErr, boom) || !up.Checks[0].LastErrTime.Equal(down.Checks[0].Time) {
		t.Errorf("recovered check forgot its last error: %+v", up.Checks[0])
	}
	if up.Checks[0].Err != nil || up.Checks[0].Status != StatusPass {
		t.Errorf("recovered: %+v", up.Checks[0])
	}
}

func TestStatusChangesLogged(t *testing.T) {
	var buf bytes.Buffer
	var fail atomic.Bool
	h := mustNew(t, Config{
		Logger: slog.New(slog.NewTextHandler(&buf, nil)),
		Checks: []Check{{Name: "db", Func: func(context.Context) error {
			if fail.Load() {
				return errors.New("refused")
			}
			return nil
		}}},
	})
	h.run(context.Background())
	fail.Store(true)
	h.run(context.Background())
	h.run(context.Background()) // no change, no record
	h.Drain()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("log:\n%s", buf.String())
	}
	for i, want := range []string{
		"level=INFO msg=\"health check status changed\" check=db from=\"\" to=pass",
		"level=WARN msg=\"health check status changed\" check=db from=pass to=fail error=refused",
		"level=INFO msg=\"health: draining, /ready now answers 503\"",
	} {
		if !strings.Contains(lines[i], want) {
			t.Errorf("line %d: %s, want %s", i, lines[i], want)
		}
	}
}

// A Run whose caller gives up describes that caller, not the service: its report goes
// to that caller alone. It is not cached, recorded or passed to the hook, and a probe
// that shared the run runs the checks again instead of answering with the cut-short result.
func TestInterruptedRunNotCached(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gate := make(chan struct{})
		var runs atomic.Int32
		var mu sync.Mutex
		var changes []Change
		h := mustNew(t, Config{
			Checks: []Check{{Name: "db", Func: func(ctx context.Context) error {
				runs.Add(1)
				select {
				case <-gate:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			}}},
			OnStatusChange: func(c Change) { mu.Lock(); changes = append(changes, c); mu.Unlock() },
		})
		h.Start(t.Context())

		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		ran := make(chan report)
		go func() { ran <- h.run(ctx) }()
		synctest.Wait() // the run is under way
		probed := make(chan int)
		go func() { probed <- probe(h.ReadyHandler(), "/ready").Code }()
		synctest.Wait() // the probe shares it

		rep := <-ran // the caller's deadline passes
		if rep.Status != StatusFail || !errors.Is(rep.Checks[0].Err, context.DeadlineExceeded) {
			t.Errorf("interrupted Run: %s, %v", rep.Status, rep.Checks[0].Err)
		}
		synctest.Wait()
		if s := h.snap.Load(); s != nil {
			t.Errorf("interrupted run cached: %+v", s.rep)
		}
		close(gate)
		if code := <-probed; code != http.StatusOK {
			t.Errorf("probe that shared the interrupted run got %d, want 200 from a run of its own", code)
		}
		if n := runs.Load(); n != 2 {
			t.Errorf("%d runs, want 2", n)
		}
		mu.Lock()
		got := append([]Change(nil), changes...)
		mu.Unlock()
		if len(got) != 1 || got[0].To != StatusPass {
			t.Errorf("status changes %+v, want only the first pass", got)
		}
		if lastErr := h.run(context.Background()).Checks[0].LastErr; lastErr != nil {
			t.Errorf("the interruption was recorded as the check's last error: %v", lastErr)
		}
	})
}

// pastDeadline is a context whose deadline has passed while its timer has not yet marked
// it done: the instant in which a check that set an I/O deadline from it fails first.
type pastDeadline struct{ context.Context }

func (pastDeadline) Deadline() (time.Time, bool) { return time.Now().Add(-time.Millisecond), true }

// A check failing at the caller's deadline, before the caller's context is marked done,
// is reported as interrupted (not as the check's own failure) and is not cached.
func TestCheckFailingAtCallerDeadlineIsInterrupted(t *testing.T) {
	h := mustNew(t, Config{Checks: []Check{{Name: "mail", Func: func(context.Context) error {
		return errors.New("read tcp: i/o timeout")
	}}}})
	h.Start(t.Context())
	rep := h.run(pastDeadline{context.Background()})
	err := rep.Checks[0].Err
	if rep.Status != StatusFail || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "interrupted") {
		t.Errorf("Run at the caller's deadline: %s, %v", rep.Status, err)
	}
	if s := h.snap.Load(); s != nil {
		t.Errorf("interrupted run cached: %+v", s.rep)
	}
}
