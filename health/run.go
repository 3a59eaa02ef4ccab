package health

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// snapshot is one cached run of the checks.
type snapshot struct {
	rep     report
	expires time.Time
	// interrupted marks a run cut short by the context of Diagnose's caller: its results
	// describe that caller's cancellation, not the service, so it is neither cached nor
	// recorded, and probes that shared it run the checks again.
	interrupted bool
}

// run runs every check now, bypassing the cache, and returns the report. When a probe's
// run is already under way it shares it rather than starting the checks a second time.
// The cache is refreshed with the result, unless ctx ended before the checks did: a
// report cut short by the caller is returned to it alone, and leaves the cache, history,
// metrics and OnStatusChange untouched.
func (h *Health) run(ctx context.Context) report {
	r := <-h.group.DoChan("", func() (any, error) { return h.refresh(ctx), nil })
	return r.Val.(*snapshot).rep
}

// current returns fresh cached results, running the checks when they expired. Concurrent
// callers share one run. It returns the previous results (nil if none) when ctx ends
// first.
func (h *Health) current(ctx context.Context) *snapshot {
	s := h.snap.Load()
	if s != nil && h.now().Before(s.expires) {
		return s
	}
	for {
		ch := h.group.DoChan("", func() (any, error) {
			if s := h.snap.Load(); s != nil && h.now().Before(s.expires) {
				return s, nil
			}
			// The run is shared by every waiting probe: it must not end with the
			// request that happened to start it.
			return h.refresh(context.Background()), nil
		})
		select {
		case r := <-ch:
			if s := r.Val.(*snapshot); !s.interrupted {
				return s
			}
			// This probe joined a Diagnose whose caller gave up: run the checks again.
		case <-ctx.Done():
			return h.snap.Load()
		}
	}
}

// refresh runs the checks and, unless ctx ended first, records and caches the result.
// Callers hold the singleflight.
func (h *Health) refresh(ctx context.Context) *snapshot {
	rep := h.runChecks(ctx)
	if ended(ctx) {
		return &snapshot{rep: rep, interrupted: true}
	}
	h.record(rep)
	s := &snapshot{rep: rep, expires: rep.Time.Add(h.interval)}
	h.snap.Store(s)
	return s
}

// runChecks runs all checks in parallel.
func (h *Health) runChecks(ctx context.Context) report {
	results := make([]result, len(h.checks))
	var wg sync.WaitGroup
	for i := range h.checks {
		wg.Go(func() { results[i] = h.runOne(ctx, i) })
	}
	wg.Wait()
	rep := report{Status: StatusPass, Time: h.now(), Checks: results}
	for _, r := range results {
		rep.Status = worst(rep.Status, r.Status)
	}
	return rep
}

// runOne runs check i with its timeout. A check that ignores its context is abandoned
// at the timeout; until it returns, later runs report ErrStillRunning instead of piling
// up goroutines.
func (h *Health) runOne(ctx context.Context, i int) result {
	c := &h.checks[i]
	timeout := orDuration(c.Timeout, h.timeout)
	res := result{
		Name:          c.Name,
		ComponentType: c.ComponentType,
		ComponentID:   c.ComponentID,
		Critical:      !c.NonCritical,
	}
	begin := h.now()
	var err error
	if !h.running[i].CompareAndSwap(false, true) {
		err = ErrStillRunning
	} else {
		obs := &observation{}
		cctx, cancel := context.WithTimeout(context.WithValue(ctx, observationKey{}, obs), timeout)
		done := make(chan error, 1)
		go func() {
			err := call(cctx, c.Func)
			// Cleared before the result is delivered, so the next run never sees a
			// check that already returned as still running.
			h.running[i].Store(false)
			done <- err
		}()
		abandoned := false
		select {
		case err = <-done:
		case <-cctx.Done():
			// The check may have returned at the same instant: prefer its own error.
			select {
			case err = <-done:
			default:
				if ctx.Err() != nil {
					// The caller gave up, which cancelled the check too. A check that
					// honours its context returns at once; wait for it (within its own
					// timeout) so the next run does not find it still running.
					abandoned, err = await(done, timeout-h.now().Sub(begin))
				} else {
					abandoned = true
				}
			}
		}
		switch {
		case ended(ctx) && (abandoned || err != nil):
			// The caller gave up (Diagnose's context ended): that is the reason.
			err = fmt.Errorf("health: check interrupted: %w", callerCause(ctx))
		case abandoned:
			err = fmt.Errorf("%w after %s: %w", ErrTimeout, timeout, context.Cause(cctx))
		case err != nil && ended(cctx):
			err = fmt.Errorf("%w after %s: %w", ErrTimeout, timeout, err)
		}
		cancel()
		res.ObservedValue, res.ObservedUnit, _ = obs.close()
	}
	res.Time = h.now()
	res.Duration = res.Time.Sub(begin)
	res.Err = err
	res.Status = statusOf(err, !c.NonCritical)
	return res
}

// ended reports whether ctx is done or past its deadline. A check that derives an
// I/O deadline from its context can fail with a timeout an instant before the context's
// own timer marks it done; that failure is still the context's deadline.
func ended(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	d, ok := ctx.Deadline()
	return ok && !time.Now().Before(d)
}

// callerCause is context.Cause(ctx), or context.DeadlineExceeded when ctx is past its
// deadline but not yet marked done.
func callerCause(ctx context.Context) error {
	if err := context.Cause(ctx); err != nil {
		return err
	}
	return context.DeadlineExceeded
}

// await waits up to d for a check's result; it reports abandoned when d runs out first.
func await(done <-chan error, d time.Duration) (abandoned bool, err error) {
	if d <= 0 {
		return true, nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case err = <-done:
		return false, err
	case <-t.C:
		return true, nil
	}
}

// call runs f, turning a panic into an error.
func call(ctx context.Context, f func(context.Context) error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%w: %v", ErrPanic, v)
		}
	}()
	return f(ctx)
}

func statusOf(err error, critical bool) Status {
	switch {
	case err == nil:
		return StatusPass
	case !critical || errors.Is(err, ErrWarning):
		return StatusWarn
	default:
		return StatusFail
	}
}

func worst(a, b Status) Status {
	if rank(b) > rank(a) {
		return b
	}
	return a
}

func rank(s Status) int {
	switch s {
	case StatusPass:
		return 0
	case StatusWarn:
		return 1
	default:
		return 2
	}
}

// record updates each check's history (last error) in rep, then reports status changes
// to the log, the hook and the metrics.
func (h *Health) record(rep report) {
	var changes []Change
	h.mu.Lock()
	for i := range rep.Checks {
		r := &rep.Checks[i]
		hist := &h.history[i]
		if r.Err != nil {
			hist.lastErr, hist.lastErrTime = r.Err, r.Time
		}
		r.LastErr, r.LastErrTime = hist.lastErr, hist.lastErrTime
		if hist.status != r.Status {
			changes = append(changes, Change{Check: r.Name, From: hist.status, To: r.Status, Err: r.Err, Time: r.Time})
			hist.status = r.Status
		}
	}
	h.mu.Unlock()
	if h.metrics != nil {
		h.metrics.observe(rep)
	}
	for _, c := range changes {
		h.logChange(c)
		if h.metrics != nil {
			h.metrics.changes.WithLabelValues(c.Check).Inc()
		}
		if h.onChange != nil {
			h.onChange(c)
		}
	}
}

func (h *Health) logChange(c Change) {
	attrs := []any{"check", c.Check, "from", string(c.From), "to", string(c.To)}
	if c.Err != nil {
		attrs = append(attrs, "error", c.Err.Error())
	}
	if c.To == StatusPass {
		h.log.Info("health check status changed", attrs...)
	} else {
		h.log.Warn("health check status changed", attrs...)
	}
}
