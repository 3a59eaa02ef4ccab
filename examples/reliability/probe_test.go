package reliability

import (
	"context"
	"sync"
	"time"
)

// prober polls /live and /ready at a fixed interval, as an orchestrator does, and keeps
// every /ready answer with its time.
type prober struct {
	interval time.Duration
	live     Counts
	done     chan struct{}
	wg       sync.WaitGroup

	mu    sync.Mutex
	ready []probeResult
	lives []probeResult
}

type probeResult struct {
	at     time.Time // when the answer arrived
	status int       // 0: no answer (connection refused, reset…)
}

func startProber(ctx context.Context, a *api, interval time.Duration) *prober {
	p := &prober{interval: interval, done: make(chan struct{})}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			r := a.call(ctx, "GET", "/live", "", "", nil)
			p.live.Add(r.status, r.took)
			p.mu.Lock()
			p.lives = append(p.lives, probeResult{at: time.Now(), status: r.status})
			p.mu.Unlock()
			r = a.call(ctx, "GET", "/ready", "", "", nil)
			p.mu.Lock()
			p.ready = append(p.ready, probeResult{at: time.Now(), status: r.status})
			p.mu.Unlock()
			select {
			case <-p.done:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return p
}

// waitReady waits up to d for a /ready answer with status after since and returns how
// long after since it came.
func (p *prober) waitReady(since time.Time, status int, d time.Duration) (time.Duration, bool) {
	deadline := since.Add(d)
	for {
		p.mu.Lock()
		for _, r := range p.ready {
			if r.at.After(since) && r.status == status {
				p.mu.Unlock()
				return r.at.Sub(since), true
			}
		}
		p.mu.Unlock()
		if time.Now().After(deadline) {
			return time.Since(since), false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// firstLive is when /live first answered status after since (zero if never).
func (p *prober) firstLive(since time.Time, status int) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range p.lives {
		if r.at.After(since) && r.status == status {
			return r.at
		}
	}
	return time.Time{}
}

// lastLive is when /live last answered status (zero if never).
func (p *prober) lastLive(status int) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := len(p.lives) - 1; i >= 0; i-- {
		if p.lives[i].status == status {
			return p.lives[i].at
		}
	}
	return time.Time{}
}

// stop ends the probing and returns the /live tally.
func (p *prober) stop() *Counts {
	close(p.done)
	p.wg.Wait()
	return &p.live
}
