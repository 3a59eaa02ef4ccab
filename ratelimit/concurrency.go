package ratelimit

import (
	"cmp"
	"container/list"
	"context"
	"fmt"
	"math"
	"net/http"
	"runtime"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nexus-reussite/harden/internal/problem"
)

// ConcurrencyConfig configures a Concurrency gate. The zero value gives every request
// the gate wraps one adaptive limit, a queue as long as the limit with a 1 s timeout,
// and a 503 application/problem+json answer for the requests shed.
type ConcurrencyConfig struct {
	// Name identifies the gate in metrics: 1 to 64 characters among letters, digits,
	// '_', '.' and '-'. Gates sharing a Registerer need distinct names. Default
	// "default".
	Name string
	// Limit is a fixed number of requests in flight, per key. Default 0: an adaptive
	// limit found from latency, between MinLimit and MaxLimit. The adaptive limit lets
	// latency rise by Tolerance, so around CPU-bound work (password hashing) it keeps
	// every core busy; a Limit below GOMAXPROCS keeps a core for the other routes.
	Limit int
	// MinLimit is the lowest adaptive limit, the one it starts from, and the
	// concurrency at which the no-load latency is measured. The limit grows only while
	// at least half of it is in use, so a burst far above the recent peak queues or is
	// shed while the limit catches up (by its square root every 100 ms or so): set
	// MinLimit to the concurrency the service must always absorb. Default GOMAXPROCS,
	// or MaxLimit if lower. Only with Limit 0.
	MinLimit int
	// MaxLimit is the highest adaptive limit. Default 1000. Only with Limit 0.
	MaxLimit int
	// Tolerance is how many times the no-load latency the mean latency may reach before
	// the adaptive limit shrinks: 1 or more. Default 1.5. Only with Limit 0.
	Tolerance float64
	// ProbeInterval is how often the adaptive limit measures the no-load latency again,
	// by holding the limit at MinLimit for one window (up to 15 % later at random).
	// Default 1 minute. Only with Limit 0.
	ProbeInterval time.Duration
	// Key splits the gate: requests with different keys have their own limit and queue.
	// Use r.Pattern for one limit per route, a client or user key for a cap per client.
	// Requests it returns "" for share one limit. Default nil: one limit for every
	// request.
	Key KeyFunc
	// MaxKeys bounds the keys tracked at once. A key whose requests have all finished
	// keeps its state (its adaptive limit) until room is needed, the least recently
	// used first. A request for a new key when MaxKeys keys all have requests in flight
	// or queued is shed. Default 10000. Only with a Key.
	MaxKeys int
	// QueueSize is how many requests may wait for a slot, per key, first come first
	// served. A request finding the queue full is shed at once. Default 0: as many as
	// the current limit, so that a queued request waits about one request's time.
	// Negative: no queue, a request finding no free slot is shed at once.
	QueueSize int
	// QueueTimeout is the longest a request waits in the queue; it is then shed. A
	// request whose context ends (its client went away) leaves the queue at once, but
	// net/http notices an HTTP/1.x client leaving only after the request body has been
	// read: a request with an unread body waits out the timeout. Default 1 second.
	QueueTimeout time.Duration
	// Sheddable, when set, marks the requests to shed first under pressure (it returns
	// true for them): they take a free slot like any other, but may join the queue only
	// while it is less than half full, wait behind every other request, and give their
	// place to another request that finds the queue full. Default nil: every request
	// has the same priority.
	Sheddable func(r *http.Request) bool
	// ExemptPaths are URL paths never limited nor counted, matched exactly: health
	// probes and metrics ("/live", "/ready", "/health", "/metrics"). Default none.
	ExemptPaths []string
	// Exempt, when set, lets through uncounted every request it returns true for.
	Exempt func(r *http.Request) bool
	// ShedHandler answers a shed request; Retry-After: 1 is already set. Default: 503
	// with an application/problem+json body. A request whose client went away while
	// queued gets no answer.
	ShedHandler http.Handler
	// Registerer receives the gate's metrics, labelled limiter=Name:
	// harden_concurrency_in_flight, harden_concurrency_queued, harden_concurrency_limit
	// (with a Key, the highest limit among the tracked keys), harden_concurrency_keys
	// (with a Key), harden_concurrency_shed_total{reason} (queue_full, queue_timeout,
	// low_priority, too_many_keys) and the histogram
	// harden_concurrency_queue_wait_seconds of the requests that queued. Default: no
	// metrics.
	Registerer prometheus.Registerer
}

// Concurrency is middleware bounding the requests in flight, with a wait queue, load
// shedding, an optional adaptive limit and priorities. It is safe for concurrent use.
//
// Place it outside the rate limiters of the routes it guards, so that a shed request
// never reaches them and spends no rate limit quota.
type Concurrency struct {
	name         string
	fixed        int // the Limit, or 0 for an adaptive one
	minLimit     int
	maxLimit     int
	tolerance    float64
	probeEvery   time.Duration
	key          KeyFunc
	maxKeys      int
	queueSize    int // > 0 fixed, 0 the current limit, < 0 none
	queueTimeout time.Duration
	sheddable    func(*http.Request) bool
	exemptPaths  map[string]struct{}
	exempt       func(*http.Request) bool
	shed         http.Handler
	m            *concurrencyMetrics
	epoch        time.Time // instants are durations since epoch on the monotonic clock

	mu     sync.Mutex
	global *gate            // without a Key
	keys   map[string]*gate // with a Key
	idle   gate             // sentinel of the ring of idle gates, least recently used first
}

// gate is the limit, the requests in flight and the queue of one key.
type gate struct {
	key      string
	inFlight int
	fixed    int       // the fixed limit, when lim is nil
	lim      *adaptive // the adaptive limit, or nil
	normal   list.List // of *waiter
	low      list.List // of *waiter, the Sheddable ones
	// prev and next link the gate in the ring of idle gates while it has nothing in
	// flight or queued.
	prev, next *gate
}

// A waiter is a queued request. Its state is written under Concurrency.mu before ready
// is signalled.
type waiter struct {
	ready chan struct{}
	state waiterState
	elem  *list.Element
	low   bool
}

type waiterState uint8

const (
	waiterWaiting waiterState = iota
	waiterGranted             // a slot was given to the waiter
	waiterEvicted             // the waiter gave its place to a request of higher priority
)

// NewConcurrency returns a Concurrency gate, or an error wrapping ErrInvalidConfig.
func NewConcurrency(cfg ConcurrencyConfig) (*Concurrency, error) {
	if cfg.Name == "" {
		cfg.Name = "default"
	}
	if err := validName(cfg.Name); err != nil {
		return nil, err
	}
	if err := cfg.checkLimits(); err != nil {
		return nil, err
	}
	if cfg.MaxKeys < 0 || cfg.MaxKeys > 0 && cfg.Key == nil {
		return nil, fmt.Errorf("%w: MaxKeys %d must be positive and go with a Key", ErrInvalidConfig, cfg.MaxKeys)
	}
	if cfg.QueueTimeout < 0 {
		return nil, fmt.Errorf("%w: QueueTimeout %v is negative", ErrInvalidConfig, cfg.QueueTimeout)
	}
	c := &Concurrency{
		name:         cfg.Name,
		fixed:        cfg.Limit,
		minLimit:     cfg.MinLimit,
		maxLimit:     cfg.MaxLimit,
		tolerance:    cmp.Or(cfg.Tolerance, 1.5),
		probeEvery:   cmp.Or(cfg.ProbeInterval, time.Minute),
		key:          cfg.Key,
		maxKeys:      cmp.Or(cfg.MaxKeys, 10000),
		queueSize:    cfg.QueueSize,
		queueTimeout: cmp.Or(cfg.QueueTimeout, time.Second),
		sheddable:    cfg.Sheddable,
		exemptPaths:  make(map[string]struct{}, len(cfg.ExemptPaths)),
		exempt:       cfg.Exempt,
		shed:         cfg.ShedHandler,
		epoch:        time.Now(),
	}
	c.idle.prev, c.idle.next = &c.idle, &c.idle
	if c.fixed == 0 {
		c.maxLimit = cmp.Or(c.maxLimit, 1000)
		c.minLimit = cmp.Or(c.minLimit, min(runtime.GOMAXPROCS(0), c.maxLimit))
	}
	for _, p := range cfg.ExemptPaths {
		c.exemptPaths[p] = struct{}{}
	}
	if c.shed == nil {
		c.shed = http.HandlerFunc(defaultShed)
	}
	if c.key == nil {
		c.global = c.newGate("")
	} else {
		c.keys = make(map[string]*gate)
	}
	var err error
	if c.m, err = newConcurrencyMetrics(c, cfg.Registerer); err != nil {
		return nil, fmt.Errorf("%w: Registerer: %w", ErrInvalidConfig, err)
	}
	return c, nil
}

// checkLimits validates the limit settings: a fixed Limit, or the bounds and tuning of
// an adaptive one, not both.
func (cfg *ConcurrencyConfig) checkLimits() error {
	switch {
	case cfg.Limit < 0:
		return fmt.Errorf("%w: Limit %d is negative", ErrInvalidConfig, cfg.Limit)
	case cfg.Limit == 0:
		return cfg.checkAdaptive()
	case cfg.MinLimit != 0 || cfg.MaxLimit != 0 || cfg.Tolerance != 0 || cfg.ProbeInterval != 0:
		return fmt.Errorf("%w: MinLimit, MaxLimit, Tolerance and ProbeInterval tune the adaptive limit and need Limit 0", ErrInvalidConfig)
	}
	return nil
}

func (cfg *ConcurrencyConfig) checkAdaptive() error {
	switch {
	case cfg.MinLimit < 0 || cfg.MaxLimit < 0:
		return fmt.Errorf("%w: MinLimit %d and MaxLimit %d must not be negative", ErrInvalidConfig, cfg.MinLimit, cfg.MaxLimit)
	case cfg.MinLimit > cmp.Or(cfg.MaxLimit, 1000):
		return fmt.Errorf("%w: MinLimit %d above MaxLimit %d (default 1000)", ErrInvalidConfig, cfg.MinLimit, cfg.MaxLimit)
	case cfg.Tolerance != 0 && !(cfg.Tolerance >= 1 && cfg.Tolerance <= math.MaxFloat64):
		return fmt.Errorf("%w: Tolerance %v must be 1 or more", ErrInvalidConfig, cfg.Tolerance)
	case cfg.ProbeInterval < 0:
		return fmt.Errorf("%w: ProbeInterval %v is negative", ErrInvalidConfig, cfg.ProbeInterval)
	}
	return nil
}

func (c *Concurrency) newGate(key string) *gate {
	g := &gate{key: key, fixed: c.fixed}
	if c.fixed == 0 {
		g.lim = newAdaptive(c.minLimit, c.maxLimit, c.tolerance, c.probeEvery, c.clock())
	}
	return g
}

// Handler returns middleware bounding the requests in flight through next.
func (c *Concurrency) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.serve(w, r, next)
	})
}

func (c *Concurrency) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	if c.isExempt(r) {
		next.ServeHTTP(w, r)
		return
	}
	var key string
	if c.key != nil {
		key = c.key(r)
	}
	low := c.sheddable != nil && c.sheddable(r)
	g, reason := c.acquire(r.Context(), key, low)
	if reason != gateAdmitted {
		c.refuse(w, r, reason)
		return
	}
	var start time.Duration
	if g.lim != nil {
		start = c.clock()
	}
	completed := false
	defer func() { c.release(g, start, completed) }()
	next.ServeHTTP(w, r)
	completed = true
}

func (c *Concurrency) isExempt(r *http.Request) bool {
	if _, ok := c.exemptPaths[r.URL.Path]; ok {
		return true
	}
	return c.exempt != nil && c.exempt(r)
}

// refuse answers a request that was not admitted.
func (c *Concurrency) refuse(w http.ResponseWriter, r *http.Request, reason gateOutcome) {
	if reason == gateCanceled {
		return // the client went away: nobody to answer
	}
	c.m.shed[reason].Inc()
	w.Header().Set("Retry-After", "1")
	c.shed.ServeHTTP(w, r)
}

func defaultShed(w http.ResponseWriter, _ *http.Request) {
	problem.Error(w, http.StatusServiceUnavailable, "The server is at capacity; retry later.")
}

// acquire takes a slot of the gate of key, waiting in its queue if need be. It returns
// the gate and gateAdmitted, or the reason the request was not admitted.
func (c *Concurrency) acquire(ctx context.Context, key string, low bool) (*gate, gateOutcome) {
	c.mu.Lock()
	g := c.gateFor(key)
	if g == nil {
		c.mu.Unlock()
		return nil, shedTooManyKeys
	}
	limit := g.limit()
	if g.inFlight < limit && g.queued() == 0 {
		g.admit()
		c.mu.Unlock()
		return g, gateAdmitted
	}
	w, reason := c.enqueue(g, limit, low)
	c.mu.Unlock()
	if w == nil {
		return nil, reason
	}
	return g, c.wait(ctx, g, w)
}

// gateFor returns the gate of key, creating it if need be, or nil when MaxKeys keys
// are all busy.
func (c *Concurrency) gateFor(key string) *gate {
	if c.keys == nil {
		return c.global
	}
	if g, ok := c.keys[key]; ok {
		if g.next != nil {
			g.unlinkIdle()
		}
		return g
	}
	if len(c.keys) >= c.maxKeys {
		old := c.idle.next
		if old == &c.idle {
			return nil
		}
		old.unlinkIdle()
		delete(c.keys, old.key)
	}
	g := c.newGate(key)
	c.keys[key] = g
	return g
}

// enqueue queues a request that found no free slot, or returns why it is shed at once.
func (c *Concurrency) enqueue(g *gate, limit int, low bool) (*waiter, gateOutcome) {
	capacity := c.queueSize
	if capacity == 0 {
		capacity = limit
	}
	queued := g.queued()
	if low && queued >= capacity/2 {
		return nil, shedLowPriority
	}
	if !low && queued >= capacity {
		e := g.low.Back()
		if e == nil {
			return nil, shedQueueFull
		}
		// The newest sheddable waiter gives its place.
		v := g.low.Remove(e).(*waiter)
		v.state = waiterEvicted
		v.ready <- struct{}{}
	}
	w := &waiter{ready: make(chan struct{}, 1), low: low}
	if low {
		w.elem = g.low.PushBack(w)
	} else {
		w.elem = g.normal.PushBack(w)
	}
	return w, gateAdmitted
}

// wait waits for a queued request's slot until the queue timeout or the request's
// context ends. It returns gateAdmitted when the slot was granted.
func (c *Concurrency) wait(ctx context.Context, g *gate, w *waiter) gateOutcome {
	start := time.Now()
	t := time.NewTimer(c.queueTimeout)
	reason := gateAdmitted
	select {
	case <-w.ready:
	case <-t.C:
		reason = shedQueueTimeout
	case <-ctx.Done():
		reason = gateCanceled
	}
	t.Stop()
	c.mu.Lock()
	switch w.state {
	case waiterGranted:
		// The slot may have come at the same time as the timeout: serve the request,
		// unless its client has gone.
		if reason == gateCanceled {
			c.releaseLocked(g)
		} else {
			reason = gateAdmitted
		}
	case waiterEvicted:
		reason = shedLowPriority
	default:
		if w.low {
			g.low.Remove(w.elem)
		} else {
			g.normal.Remove(w.elem)
		}
		c.markIfIdle(g)
	}
	c.mu.Unlock()
	c.m.wait.Observe(time.Since(start).Seconds())
	return reason
}

// release returns the slot of a request admitted at start. Only a request that
// completed (did not panic) counts as a latency sample.
func (c *Concurrency) release(g *gate, start time.Duration, completed bool) {
	sample := g.lim != nil && completed
	var now time.Duration
	if sample {
		now = c.clock()
	}
	c.mu.Lock()
	if sample {
		g.lim.sample(start, now, g.inFlight-1)
	}
	c.releaseLocked(g)
	c.mu.Unlock()
}

// releaseLocked frees a slot of g and hands the free slots to the queue, normal
// requests first.
func (c *Concurrency) releaseLocked(g *gate) {
	g.inFlight--
	limit := g.limit()
	for g.inFlight < limit {
		e := g.normal.Front()
		q := &g.normal
		if e == nil {
			e = g.low.Front()
			q = &g.low
		}
		if e == nil {
			break
		}
		w := q.Remove(e).(*waiter)
		w.state = waiterGranted
		g.admit()
		w.ready <- struct{}{}
	}
	c.markIfIdle(g)
}

// markIfIdle puts the gate of a key with nothing in flight or queued at the end of the
// ring of idle gates, from which gateFor takes the least recently used when it needs
// room.
func (c *Concurrency) markIfIdle(g *gate) {
	if c.keys == nil || g.inFlight > 0 || g.queued() > 0 || g.next != nil {
		return
	}
	g.prev, g.next = c.idle.prev, &c.idle
	c.idle.prev.next = g
	c.idle.prev = g
}

func (g *gate) unlinkIdle() {
	g.prev.next = g.next
	g.next.prev = g.prev
	g.prev, g.next = nil, nil
}

// clock returns the time elapsed since the gate was made, on the monotonic clock.
func (c *Concurrency) clock() time.Duration { return time.Since(c.epoch) }

func (g *gate) queued() int { return g.normal.Len() + g.low.Len() }

func (g *gate) admit() {
	g.inFlight++
	if g.lim != nil {
		g.lim.admitted(g.inFlight)
	}
}

// limit returns the number of requests g admits in flight.
func (g *gate) limit() int {
	if g.lim == nil {
		return g.fixed
	}
	return g.lim.current()
}
