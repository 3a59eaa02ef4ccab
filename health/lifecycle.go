package health

import (
	"context"
	"time"
)

// Start marks startup as complete: from now on /ready reflects the critical checks
// (before, it answers 503). With Config.BackgroundRefresh it also runs the checks every
// Interval until ctx ends. Calls after the first do nothing.
func (h *Health) Start(ctx context.Context) {
	h.startOnce.Do(func() {
		h.started.Store(true)
		h.log.Info("health: startup complete")
		if h.background {
			go h.refreshLoop(ctx)
		}
	})
}

// refreshLoop runs the checks whenever the cached results expire.
func (h *Health) refreshLoop(ctx context.Context) {
	for {
		s := h.current(ctx)
		if ctx.Err() != nil {
			return
		}
		wait := time.Duration(0)
		if s != nil {
			wait = s.expires.Sub(h.now())
		}
		if wait <= 0 {
			// The clock did not move during the run (or went backwards): wait a full
			// interval rather than spin.
			wait = h.interval
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// Drain marks the start of shutdown: /ready answers 503 from now on, so load balancers
// stop sending traffic, while the server keeps serving. Call it on SIGTERM, then wait
// long enough for the load balancers to notice before stopping the listener; Shutdown
// does both. Drain is idempotent and cannot be undone.
func (h *Health) Drain() {
	h.drainOnce.Do(func() {
		h.draining.Store(true)
		h.log.Info("health: draining, /ready now answers 503")
	})
}

// Draining reports whether Drain was called.
func (h *Health) Draining() bool { return h.draining.Load() }

// Started reports whether Start was called.
func (h *Health) Started() bool { return h.started.Load() }

// Shutdown drains, keeps serving for delay (or until ctx ends), then calls stop with
// ctx, typically (*http.Server).Shutdown, which closes the listeners and waits for
// in-flight requests. It returns stop's error.
func (h *Health) Shutdown(ctx context.Context, delay time.Duration, stop func(context.Context) error) error {
	h.Drain()
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
	}
	return stop(ctx)
}
