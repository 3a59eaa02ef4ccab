package ratelimit_test

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-reussite/harden/ratelimit"
)

// holdHandler records the X-Id of each request it serves and keeps it until told to
// let one go.
type holdHandler struct {
	mu      sync.Mutex
	entered []string
	next    chan struct{}
}

func newHoldHandler() *holdHandler { return &holdHandler{next: make(chan struct{})} }

func (h *holdHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.entered = append(h.entered, r.Header.Get("X-Id"))
	h.mu.Unlock()
	<-h.next
	_, _ = io.WriteString(w, "ok")
}

// letGo lets one held request finish and waits until the bubble is still again.
func (h *holdHandler) letGo() {
	h.next <- struct{}{}
	synctest.Wait()
}

func (h *holdHandler) served() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.entered)
}

// gateCall is a request served in its own goroutine.
type gateCall struct {
	w        *httptest.ResponseRecorder
	done     chan struct{}
	panicked bool
}

func (c *gateCall) finished() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// gateReq is a request for path with the X-Id header id and extra header pairs.
func gateReq(path, id string, hdr ...string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	r.RemoteAddr = "192.0.2.1:1234"
	r.Header.Set("X-Id", id)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	return r
}

// serveAsync serves r through h in a new goroutine and waits until the bubble is still.
func serveAsync(h http.Handler, r *http.Request) *gateCall {
	c := &gateCall{w: httptest.NewRecorder(), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		defer func() { c.panicked = recover() != nil }()
		h.ServeHTTP(c.w, r)
	}()
	synctest.Wait()
	return c
}

func newGate(t *testing.T, cfg ratelimit.ConcurrencyConfig) *ratelimit.Concurrency {
	t.Helper()
	g, err := ratelimit.NewConcurrency(cfg)
	require.NoError(t, err)
	return g
}

// requireShed checks the default answer to a shed request.
func requireShed(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	require.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Equal(t, "1", w.Header().Get("Retry-After"))
	assert.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
	var p map[string]any
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &p))
	assert.Equal(t, 503.0, p["status"])
}

// gateMetric returns the value of the gauge, counter (with the label pair, if any) or
// histogram sample count called name.
func gateMetric(t *testing.T, reg *prometheus.Registry, name string, label ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(label); i += 2 {
				if !hasLabel(m, label[i], label[i+1]) {
					continue metrics
				}
			}
			switch {
			case m.Gauge != nil:
				return m.GetGauge().GetValue()
			case m.Counter != nil:
				return m.GetCounter().GetValue()
			case m.Histogram != nil:
				return float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return 0
}

func hasLabel(m *dto.Metric, name, value string) bool {
	for _, lp := range m.GetLabel() {
		if lp.GetName() == name && lp.GetValue() == value {
			return true
		}
	}
	return false
}

func TestConcurrencyQueueThenShed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := prometheus.NewRegistry()
		hold := newHoldHandler()
		h := newGate(t, ratelimit.ConcurrencyConfig{Name: "work", Limit: 2, QueueSize: 2, Registerer: reg}).Handler(hold)

		calls := map[string]*gateCall{}
		for _, id := range []string{"a", "b", "c", "d"} {
			calls[id] = serveAsync(h, gateReq("/work", id))
		}
		assert.Equal(t, []string{"a", "b"}, hold.served(), "two in flight, two queued")
		assert.Equal(t, 2.0, gateMetric(t, reg, "harden_concurrency_in_flight"))
		assert.Equal(t, 2.0, gateMetric(t, reg, "harden_concurrency_queued"))
		assert.Equal(t, 2.0, gateMetric(t, reg, "harden_concurrency_limit"))

		// The queue is full: the fifth is shed at once.
		e := serveAsync(h, gateReq("/work", "e"))
		require.True(t, e.finished())
		requireShed(t, e.w)
		assert.Equal(t, 1.0, gateMetric(t, reg, "harden_concurrency_shed_total", "reason", "queue_full"))

		// Each finished request hands its slot to the oldest waiter.
		hold.letGo()
		assert.Equal(t, []string{"a", "b", "c"}, hold.served())
		hold.letGo()
		assert.Equal(t, []string{"a", "b", "c", "d"}, hold.served())
		hold.letGo()
		hold.letGo()
		for id, c := range calls {
			require.True(t, c.finished(), id)
			assert.Equal(t, http.StatusOK, c.w.Code, id)
		}
		assert.Equal(t, 0.0, gateMetric(t, reg, "harden_concurrency_in_flight"))
		assert.Equal(t, 0.0, gateMetric(t, reg, "harden_concurrency_queued"))
		assert.Equal(t, 2.0, gateMetric(t, reg, "harden_concurrency_queue_wait_seconds"), "two requests queued")
	})
}

func TestConcurrencyQueueTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := prometheus.NewRegistry()
		hold := newHoldHandler()
		h := newGate(t, ratelimit.ConcurrencyConfig{Limit: 1, QueueTimeout: 300 * time.Millisecond, Registerer: reg}).Handler(hold)
		a := serveAsync(h, gateReq("/", "a"))
		t0 := time.Now()
		b := serveAsync(h, gateReq("/", "b"))
		time.Sleep(300*time.Millisecond - time.Nanosecond)
		synctest.Wait()
		require.False(t, b.finished(), "still queued just before the timeout")
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		require.True(t, b.finished())
		requireShed(t, b.w)
		assert.Equal(t, 300*time.Millisecond, time.Since(t0))
		assert.Equal(t, 1.0, gateMetric(t, reg, "harden_concurrency_shed_total", "reason", "queue_timeout"))
		assert.Equal(t, 0.0, gateMetric(t, reg, "harden_concurrency_queued"))
		hold.letGo()
		require.True(t, a.finished())
		assert.Equal(t, []string{"a"}, hold.served(), "the timed-out request never ran")
	})
}

func TestConcurrencyDefaultQueueIsTheLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hold := newHoldHandler()
		h := newGate(t, ratelimit.ConcurrencyConfig{Limit: 3}).Handler(hold)
		var calls []*gateCall
		for range 6 {
			calls = append(calls, serveAsync(h, gateReq("/", "")))
		}
		shed := serveAsync(h, gateReq("/", ""))
		requireShed(t, shed.w)
		for range 6 {
			hold.letGo()
		}
		for _, c := range calls {
			assert.Equal(t, http.StatusOK, c.w.Code)
		}
	})
}

func TestConcurrencyNoQueue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hold := newHoldHandler()
		h := newGate(t, ratelimit.ConcurrencyConfig{Limit: 1, QueueSize: -1}).Handler(hold)
		a := serveAsync(h, gateReq("/", "a"))
		b := serveAsync(h, gateReq("/", "b"))
		require.True(t, b.finished(), "shed at once")
		requireShed(t, b.w)
		hold.letGo()
		require.True(t, a.finished())
	})
}

// TestConcurrencyClientLeavesQueue: a queued request whose client goes away leaves the
// queue at once, without running, and takes no slot; synctest.Test fails on the
// goroutine that would be left behind.
func TestConcurrencyClientLeavesQueue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := prometheus.NewRegistry()
		hold := newHoldHandler()
		h := newGate(t, ratelimit.ConcurrencyConfig{Limit: 1, Registerer: reg}).Handler(hold)
		a := serveAsync(h, gateReq("/", "a"))
		ctx, cancel := context.WithCancel(context.Background())
		b := serveAsync(h, gateReq("/", "b").WithContext(ctx))
		require.Equal(t, 1.0, gateMetric(t, reg, "harden_concurrency_queued"))
		t0 := time.Now()
		cancel()
		synctest.Wait()
		require.True(t, b.finished())
		assert.Equal(t, time.Duration(0), time.Since(t0), "left at once")
		assert.Empty(t, b.w.Body.String(), "nobody to answer")
		assert.Equal(t, 0.0, gateMetric(t, reg, "harden_concurrency_queued"))
		assert.Equal(t, 0.0, gateMetric(t, reg, "harden_concurrency_shed_total", "reason", "queue_full"))

		hold.letGo()
		require.True(t, a.finished())
		// b took no slot: c runs at once.
		c := serveAsync(h, gateReq("/", "c"))
		assert.Equal(t, []string{"a", "c"}, hold.served())
		hold.letGo()
		require.True(t, c.finished())
		assert.Equal(t, 0.0, gateMetric(t, reg, "harden_concurrency_in_flight"))
	})
}

// TestConcurrencyCancelledWhileGranted: a client that goes away at the moment its slot is
// granted gives the slot back.
func TestConcurrencyCancelledWhileGranted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := prometheus.NewRegistry()
		block := make(chan struct{})
		var ran []string
		var mu sync.Mutex
		h := newGate(t, ratelimit.ConcurrencyConfig{Limit: 1, Registerer: reg}).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			ran = append(ran, r.Header.Get("X-Id"))
			mu.Unlock()
			if r.Header.Get("X-Id") == "a" {
				<-block
			}
		}))
		a := serveAsync(h, gateReq("/", "a"))
		ctx, cancel := context.WithCancel(context.Background())
		b := serveAsync(h, gateReq("/", "b").WithContext(ctx))
		// a finishes and b's client leaves in the same instant.
		close(block)
		cancel()
		synctest.Wait()
		require.True(t, a.finished())
		require.True(t, b.finished())
		assert.Equal(t, 0.0, gateMetric(t, reg, "harden_concurrency_in_flight"))
		c := serveAsync(h, gateReq("/", "c"))
		require.True(t, c.finished())
		assert.Equal(t, http.StatusOK, c.w.Code)
	})
}

func TestConcurrencyPanicReleasesSlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := prometheus.NewRegistry()
		for _, cfg := range []ratelimit.ConcurrencyConfig{
			{Name: "fixed", Limit: 1, QueueSize: -1, Registerer: reg},
			{Name: "adaptive", MinLimit: 1, MaxLimit: 1, QueueSize: -1, Registerer: reg},
		} {
			h := newGate(t, cfg).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/boom" {
					panic("boom")
				}
			}))
			p := serveAsync(h, gateReq("/boom", ""))
			require.True(t, p.panicked, cfg.Name)
			ok := serveAsync(h, gateReq("/", ""))
			assert.Equal(t, http.StatusOK, ok.w.Code, cfg.Name)
			assert.Equal(t, 0.0, gateMetric(t, reg, "harden_concurrency_in_flight", "limiter", cfg.Name))
		}
	})
}

// TestConcurrencySheddableFirst: sheddable requests queue only while the queue is less
// than half full, wait behind the others, and give their place when it is full.
func TestConcurrencySheddableFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := prometheus.NewRegistry()
		hold := newHoldHandler()
		h := newGate(t, ratelimit.ConcurrencyConfig{
			Limit: 1, QueueSize: 4, Registerer: reg,
			Sheddable: func(r *http.Request) bool { return r.Header.Get("X-Priority") == "low" },
		}).Handler(hold)
		low := func(id string) *http.Request { return gateReq("/", id, "X-Priority", "low") }

		running := serveAsync(h, gateReq("/", "run"))
		l1 := serveAsync(h, low("l1"))
		l2 := serveAsync(h, low("l2"))
		l3 := serveAsync(h, low("l3"))
		require.True(t, l3.finished(), "the queue is half full: a sheddable request is shed at once")
		requireShed(t, l3.w)
		n1 := serveAsync(h, gateReq("/", "n1"))
		n2 := serveAsync(h, gateReq("/", "n2"))
		require.Equal(t, 4.0, gateMetric(t, reg, "harden_concurrency_queued"))
		n3 := serveAsync(h, gateReq("/", "n3"))
		require.True(t, l2.finished(), "the newest sheddable request gave its place")
		requireShed(t, l2.w)
		assert.False(t, n3.finished())
		assert.Equal(t, 2.0, gateMetric(t, reg, "harden_concurrency_shed_total", "reason", "low_priority"))
		n4 := serveAsync(h, gateReq("/", "n4"))
		require.True(t, l1.finished(), "and the next one")
		requireShed(t, l1.w)
		n5 := serveAsync(h, gateReq("/", "n5"))
		require.True(t, n5.finished(), "full of normal requests: shed")
		requireShed(t, n5.w)
		assert.Equal(t, 1.0, gateMetric(t, reg, "harden_concurrency_shed_total", "reason", "queue_full"))

		for range 5 {
			hold.letGo()
		}
		assert.Equal(t, []string{"run", "n1", "n2", "n3", "n4"}, hold.served())
		for _, c := range []*gateCall{running, n1, n2, n3, n4} {
			require.True(t, c.finished())
			assert.Equal(t, http.StatusOK, c.w.Code)
		}
	})
}

func TestConcurrencySheddableWaitsBehind(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hold := newHoldHandler()
		h := newGate(t, ratelimit.ConcurrencyConfig{
			Limit: 1, QueueSize: 6,
			Sheddable: func(r *http.Request) bool { return r.Header.Get("X-Priority") == "low" },
		}).Handler(hold)
		calls := []*gateCall{
			serveAsync(h, gateReq("/", "run")),
			serveAsync(h, gateReq("/", "l1", "X-Priority", "low")),
			serveAsync(h, gateReq("/", "n1")),
			serveAsync(h, gateReq("/", "l2", "X-Priority", "low")),
			serveAsync(h, gateReq("/", "n2")),
		}
		for range calls {
			hold.letGo()
		}
		assert.Equal(t, []string{"run", "n1", "n2", "l1", "l2"}, hold.served())
		for _, c := range calls {
			assert.Equal(t, http.StatusOK, c.w.Code)
		}
	})
}

func TestConcurrencySheddableTakesFreeSlots(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hold := newHoldHandler()
		h := newGate(t, ratelimit.ConcurrencyConfig{
			Limit: 2, QueueSize: -1, Sheddable: func(*http.Request) bool { return true },
		}).Handler(hold)
		a := serveAsync(h, gateReq("/", "a"))
		b := serveAsync(h, gateReq("/", "b"))
		c := serveAsync(h, gateReq("/", "c"))
		requireShed(t, c.w)
		hold.letGo()
		hold.letGo()
		assert.True(t, a.finished() && b.finished())
	})
}

func TestConcurrencyExempt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := prometheus.NewRegistry()
		hold := newHoldHandler()
		mux := http.NewServeMux()
		mux.Handle("/work", hold)
		mux.HandleFunc("/live", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "live") })
		mux.HandleFunc("/internal/", func(w http.ResponseWriter, _ *http.Request) {})
		h := newGate(t, ratelimit.ConcurrencyConfig{
			Limit: 1, QueueSize: -1, Registerer: reg,
			ExemptPaths: []string{"/live"},
			Exempt:      func(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/internal/") },
		}).Handler(mux)
		a := serveAsync(h, gateReq("/work", "a"))
		for range 3 {
			assert.Equal(t, http.StatusOK, serveAsync(h, gateReq("/live", "")).w.Code)
			assert.Equal(t, http.StatusOK, serveAsync(h, gateReq("/internal/x", "")).w.Code)
		}
		requireShed(t, serveAsync(h, gateReq("/live/", "")).w)
		assert.Equal(t, 1.0, gateMetric(t, reg, "harden_concurrency_in_flight"), "exempt requests are not counted")
		hold.letGo()
		require.True(t, a.finished())
	})
}

func TestConcurrencyPerKey(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := prometheus.NewRegistry()
		hold := newHoldHandler()
		h := newGate(t, ratelimit.ConcurrencyConfig{
			Limit: 1, QueueSize: -1, Registerer: reg,
			Key: func(r *http.Request) string { return r.Header.Get("X-User") },
		}).Handler(hold)
		a := serveAsync(h, gateReq("/", "a", "X-User", "alice"))
		requireShed(t, serveAsync(h, gateReq("/", "a2", "X-User", "alice")).w)
		b := serveAsync(h, gateReq("/", "b", "X-User", "bob"))
		anon := serveAsync(h, gateReq("/", "anon"))
		requireShed(t, serveAsync(h, gateReq("/", "anon2")).w) // requests without a key share one limit
		assert.Equal(t, []string{"a", "b", "anon"}, hold.served())
		assert.Equal(t, 3.0, gateMetric(t, reg, "harden_concurrency_keys"))
		assert.Equal(t, 3.0, gateMetric(t, reg, "harden_concurrency_in_flight"))
		for range 3 {
			hold.letGo()
		}
		require.True(t, a.finished() && b.finished() && anon.finished())
		assert.Equal(t, 3.0, gateMetric(t, reg, "harden_concurrency_keys"), "idle keys are kept while there is room")
	})
}

// TestConcurrencyKeysBounded: at most MaxKeys keys are tracked. A new key finding
// MaxKeys busy ones is shed; idle keys make room, least recently used first.
func TestConcurrencyKeysBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := prometheus.NewRegistry()
		hold := newHoldHandler()
		byUser := func(r *http.Request) string { return r.Header.Get("X-User") }
		h := newGate(t, ratelimit.ConcurrencyConfig{Name: "fixed", Limit: 1, Key: byUser, MaxKeys: 2, Registerer: reg}).Handler(hold)
		a := serveAsync(h, gateReq("/", "a", "X-User", "a"))
		b := serveAsync(h, gateReq("/", "b", "X-User", "b"))
		requireShed(t, serveAsync(h, gateReq("/", "c", "X-User", "c")).w)
		assert.Equal(t, 1.0, gateMetric(t, reg, "harden_concurrency_shed_total", "limiter", "fixed", "reason", "too_many_keys"))
		hold.letGo()
		hold.letGo()
		require.True(t, a.finished() && b.finished())
		c := serveAsync(h, gateReq("/", "c", "X-User", "c"))
		hold.letGo()
		require.True(t, c.finished())
		assert.Equal(t, http.StatusOK, c.w.Code)

		quick := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
		ad := newGate(t, ratelimit.ConcurrencyConfig{Name: "adaptive", MinLimit: 1, Key: byUser, MaxKeys: 2, Registerer: reg}).Handler(quick)
		for _, u := range []string{"a", "b", "a", "c", "d", "e"} {
			assert.Equal(t, http.StatusOK, serveAsync(ad, gateReq("/", "", "X-User", u)).w.Code)
		}
		assert.Equal(t, 2.0, gateMetric(t, reg, "harden_concurrency_keys", "limiter", "adaptive"))
	})
}

// TestConcurrencyAdaptiveKeysKeepState: an idle key keeps its adaptive limit while room
// allows, and loses it when evicted.
func TestConcurrencyAdaptiveKeysKeepState(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := prometheus.NewRegistry()
		byUser := func(r *http.Request) string { return r.Header.Get("X-User") }
		g := newGate(t, ratelimit.ConcurrencyConfig{MinLimit: 1, MaxLimit: 50, Key: byUser, MaxKeys: 2, QueueSize: -1, Registerer: reg})
		h := g.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { time.Sleep(10 * time.Millisecond) }))
		gateLoad(h, 30, 3*time.Second, "X-User", "a")
		grown := gateMetric(t, reg, "harden_concurrency_limit")
		require.Greater(t, grown, 20.0)
		// b comes and goes: a is idle but kept.
		serveAsync(h, gateReq("/", "", "X-User", "b"))
		time.Sleep(time.Second)
		synctest.Wait()
		assert.Equal(t, grown, gateMetric(t, reg, "harden_concurrency_limit"))
		// c needs room: a, the least recently used, goes.
		serveAsync(h, gateReq("/", "", "X-User", "c"))
		time.Sleep(time.Second)
		synctest.Wait()
		assert.Equal(t, 1.0, gateMetric(t, reg, "harden_concurrency_limit"))
	})
}

// gateLoad runs clients closed-loop clients against h for d; a shed client waits 5 ms
// before its next request.
func gateLoad(h http.Handler, clients int, d time.Duration, hdr ...string) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for ctx.Err() == nil {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, gateReq("/", "", hdr...))
				if w.Code != http.StatusOK {
					time.Sleep(5 * time.Millisecond)
				}
			}
		})
	}
	wg.Wait()
}

// TestConcurrencyAdaptiveLatencyStep: the adaptive limit grows while latency holds,
// falls when latency doubles, and grows back when it recovers.
func TestConcurrencyAdaptiveLatencyStep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := prometheus.NewRegistry()
		var mu sync.Mutex
		latency := 10 * time.Millisecond
		setLatency := func(d time.Duration) { mu.Lock(); latency = d; mu.Unlock() }
		g := newGate(t, ratelimit.ConcurrencyConfig{MinLimit: 2, MaxLimit: 100, QueueSize: -1, ProbeInterval: time.Hour, Registerer: reg})
		h := g.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
			mu.Lock()
			d := latency
			mu.Unlock()
			time.Sleep(d)
		}))
		limit := func() float64 { return gateMetric(t, reg, "harden_concurrency_limit") }
		require.Equal(t, 2.0, limit(), "starts at MinLimit")

		gateLoad(h, 80, 5*time.Second)
		steady := limit()
		assert.Equal(t, 100.0, steady, "latency holds under 80 clients: the limit grows to MaxLimit")

		setLatency(20 * time.Millisecond)
		gateLoad(h, 80, 5*time.Second)
		slow := limit()
		assert.Less(t, slow, 30.0, "latency doubled: the limit falls")
		assert.Greater(t, slow, 2.0, "but settles where the headroom balances the latency")

		setLatency(10 * time.Millisecond)
		gateLoad(h, 80, 5*time.Second)
		assert.Equal(t, 100.0, limit(), "latency recovered: the limit grows back")
	})
}

// TestConcurrencyAdaptiveFindsCPUCapacity models a CPU-bound handler on two cores: a
// request takes 10 ms alone and proportionally longer when more than two run. The
// limit settles a little above two, where latency stays within tolerance.
func TestConcurrencyAdaptiveFindsCPUCapacity(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := prometheus.NewRegistry()
		var mu sync.Mutex
		running := 0
		g := newGate(t, ratelimit.ConcurrencyConfig{MinLimit: 1, MaxLimit: 200, QueueSize: -1, ProbeInterval: 10 * time.Second, Registerer: reg})
		h := g.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
			mu.Lock()
			running++
			n := running
			mu.Unlock()
			time.Sleep(10 * time.Millisecond * time.Duration(max(2, n)) / 2)
			mu.Lock()
			running--
			mu.Unlock()
		}))
		done := make(chan struct{})
		go func() {
			gateLoad(h, 20, 40*time.Second)
			close(done)
		}()
		var limits []float64
		for range 40 {
			time.Sleep(time.Second)
			limits = append(limits, gateMetric(t, reg, "harden_concurrency_limit"))
		}
		<-done
		// Past the first seconds, the limit stays near the capacity, across probes (which
		// hold it at MinLimit for a moment) too.
		for i, l := range limits[5:] {
			assert.LessOrEqual(t, l, 8.0, "second %d", i+5)
		}
		t.Log("limit each second:", limits)
		slices.Sort(limits)
		assert.GreaterOrEqual(t, limits[len(limits)/2], 3.0, "median")
	})
}

// TestConcurrencyComposesWithLimiter: with the gate outside the rate limiter, shed
// requests never reach it and spend no quota; the other way round they do.
func TestConcurrencyComposesWithLimiter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for _, gateOutside := range []bool{true, false} {
			lim := newLimiter(t, ratelimit.Config{Rule: ratelimit.MustParseRule("5 per minute"), Headers: ratelimit.HeadersLegacy})
			gate := newGate(t, ratelimit.ConcurrencyConfig{Limit: 1, QueueSize: -1})
			hold := newHoldHandler()
			h := gate.Handler(lim.Handler(hold))
			if !gateOutside {
				h = lim.Handler(gate.Handler(hold))
			}
			first := serveAsync(h, gateReq("/login", "first"))
			for range 10 {
				w := serveAsync(h, gateReq("/login", "flood")).w
				if gateOutside {
					requireShed(t, w)
					assert.Empty(t, w.Header().Get("X-RateLimit-Remaining"), "the limiter never saw it")
				} else {
					assert.Contains(t, []int{503, 429}, w.Code)
				}
			}
			hold.letGo()
			require.True(t, first.finished())
			assert.Equal(t, "4", first.w.Header().Get("X-RateLimit-Remaining"))

			next := serveAsync(h, gateReq("/login", "next"))
			if gateOutside {
				hold.letGo()
				require.True(t, next.finished())
				assert.Equal(t, http.StatusOK, next.w.Code)
				assert.Equal(t, "3", next.w.Header().Get("X-RateLimit-Remaining"), "only the admitted requests spent quota")
			} else {
				require.True(t, next.finished())
				assert.Equal(t, http.StatusTooManyRequests, next.w.Code, "shed requests spent the quota")
			}
		}
	})
}

func TestConcurrencyShedHandler(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hold := newHoldHandler()
		h := newGate(t, ratelimit.ConcurrencyConfig{
			Limit: 1, QueueSize: -1,
			ShedHandler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Retry-After", "5")
				w.WriteHeader(http.StatusTooManyRequests)
			}),
		}).Handler(hold)
		a := serveAsync(h, gateReq("/", "a"))
		w := serveAsync(h, gateReq("/", "b")).w
		assert.Equal(t, http.StatusTooManyRequests, w.Code)
		assert.Equal(t, "5", w.Header().Get("Retry-After"))
		hold.letGo()
		require.True(t, a.finished())
	})
}

// TestConcurrencyShedHeadersNotShared: the Retry-After of one shed answer is not the
// slice of the next, even if something downstream mutates it in place.
func TestConcurrencyShedHeadersNotShared(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hold := newHoldHandler()
		gate := newGate(t, ratelimit.ConcurrencyConfig{Limit: 1, QueueSize: -1})
		mutate := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			gate.Handler(hold).ServeHTTP(w, r)
			if v := w.Header()["Retry-After"]; len(v) > 0 {
				v[0] = "x"
			}
		})
		busy := serveAsync(gate.Handler(hold), gateReq("/", "busy"))
		first := serveAsync(mutate, gateReq("/", "1")).w
		second := serveAsync(gate.Handler(hold), gateReq("/", "2")).w
		assert.Equal(t, "x", first.Header().Get("Retry-After"))
		assert.Equal(t, "1", second.Header().Get("Retry-After"))
		hold.letGo()
		require.True(t, busy.finished())
	})
}

// TestConcurrencyKeepsResponseWriter: the gate passes the server's ResponseWriter
// through, so Flush and Hijack keep working.
func TestConcurrencyKeepsResponseWriter(t *testing.T) {
	gate := newGate(t, ratelimit.ConcurrencyConfig{Limit: 1})
	srv := httptest.NewServer(gate.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hijack" {
			conn, buf, err := http.NewResponseController(w).Hijack()
			if err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n\r\nhijacked")
			_ = buf.Flush()
			_ = conn.Close()
			return
		}
		_, _ = io.WriteString(w, "part")
		if err := http.NewResponseController(w).Flush(); err != nil {
			http.Error(w, err.Error(), 500)
		}
	})))
	defer srv.Close()
	for path, want := range map[string]string{"/flush": "part", "/hijack": "hijacked"} {
		res, err := http.Get(srv.URL + path)
		require.NoError(t, err)
		body, _ := io.ReadAll(res.Body)
		_ = res.Body.Close()
		assert.Equal(t, want, string(body), path)
	}
}

func TestConcurrencyZeroConfig(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := prometheus.NewRegistry()
		g := newGate(t, ratelimit.ConcurrencyConfig{Registerer: reg})
		h := g.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
		assert.Equal(t, http.StatusOK, serveAsync(h, gateReq("/", "")).w.Code)
		assert.Equal(t, float64(min(runtime.GOMAXPROCS(0), 1000)), gateMetric(t, reg, "harden_concurrency_limit", "limiter", "default"))
		_, err := ratelimit.NewConcurrency(ratelimit.ConcurrencyConfig{Registerer: reg})
		require.ErrorIs(t, err, ratelimit.ErrInvalidConfig, "a second gate named default in the same registry")
		_, err = ratelimit.NewConcurrency(ratelimit.ConcurrencyConfig{Name: "other", Registerer: reg})
		require.NoError(t, err)
	})
}

func TestConcurrencyInvalidConfig(t *testing.T) {
	for name, cfg := range map[string]ratelimit.ConcurrencyConfig{
		"negative limit":         {Limit: -1},
		"fixed with min":         {Limit: 2, MinLimit: 1},
		"fixed with tolerance":   {Limit: 2, Tolerance: 2},
		"fixed with probe":       {Limit: 2, ProbeInterval: time.Second},
		"negative min":           {MinLimit: -1},
		"negative max":           {MaxLimit: -1},
		"min above max":          {MinLimit: 10, MaxLimit: 5},
		"min above default max":  {MinLimit: 1001},
		"tolerance below 1":      {Tolerance: 0.9},
		"tolerance NaN":          {Tolerance: math.NaN()},
		"negative probe":         {ProbeInterval: -time.Second},
		"negative timeout":       {QueueTimeout: -time.Second},
		"max keys without a key": {MaxKeys: 10},
		"negative max keys":      {MaxKeys: -1, Key: func(*http.Request) string { return "" }},
		"bad name":               {Name: "a b"},
	} {
		_, err := ratelimit.NewConcurrency(cfg)
		assert.ErrorIs(t, err, ratelimit.ErrInvalidConfig, name)
	}
}
