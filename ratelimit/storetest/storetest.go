// Package storetest is the conformance suite of store.Store implementations. Every
// store of this module runs it; run it against your own store too:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T, clock *storetest.Clock) store.Store {
//			return newMyStore(t, clock.Now)
//		})
//	}
//
// The store must read time from the given clock, so that the suite can move it.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nexus-reussite/harden/ratelimit/store"
)

// Clock is a manual clock, safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// Epoch returns where the suite's clocks start: a time aligned to every period the
// suite uses, so sliding windows start at known instants.
func Epoch() time.Time { return time.Date(2030, time.January, 1, 0, 0, 0, 0, time.UTC) }

// NewClock returns a clock showing t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Factory returns a new store whose clock is clock.Now.
type Factory func(t *testing.T, clock *Clock) store.Store

// Run runs the conformance suite against stores made by newStore.
func Run(t *testing.T, newStore Factory) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store, c *Clock, key string)
	}{
		{"FixedAdmitsExactlyCount", testFixedAdmitsExactlyCount},
		{"FixedWindowReopens", testFixedWindowReopens},
		{"AllOrNothing", testAllOrNothing},
		{"Cost", testCost},
		{"KeysIndependent", testKeysIndependent},
		{"SlidingNoDoubleBurst", testSlidingNoDoubleBurst},
		{"SlidingRetryAfterIsExact", testSlidingRetryAfterIsExact},
		{"SlidingDecays", testSlidingDecays},
		{"MaxLimits", testMaxLimits},
		{"LargeCounts", testLargeCounts},
		{"ConcurrentExactCount", testConcurrentExactCount},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := NewClock(Epoch())
			s := newStore(t, c)
			tc.fn(t, s, c, "storetest:"+randomHex()+":client")
		})
	}
}

// per is a limit of count units per period.
func per(count uint64, period time.Duration) store.Limit {
	return store.Limit{Count: count, Period: period}
}

func randomHex() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func take(t *testing.T, s store.Store, key string, rule store.Rule, st store.Strategy, cost uint64) store.Decision {
	t.Helper()
	d, err := s.Take(context.Background(), key, rule, st, cost)
	if err != nil {
		t.Fatalf("Take(%q, %v, %v, %d): %v", key, rule, st, cost, err)
	}
	if d.N != len(rule) {
		t.Fatalf("Take: N = %d, want %d", d.N, len(rule))
	}
	for i, l := range rule {
		if d.Limits[i].Limit != l {
			t.Fatalf("Take: Limits[%d].Limit = %v, want %v", i, d.Limits[i].Limit, l)
		}
	}
	return d
}

func expect(t *testing.T, d store.Decision, allowed bool, remaining ...uint64) {
	t.Helper()
	if d.Allowed != allowed {
		t.Fatalf("Allowed = %v, want %v (decision %+v)", d.Allowed, allowed, d.Limits[:d.N])
	}
	for i, r := range remaining {
		if got := d.Limits[i].Remaining; got != r {
			t.Fatalf("Limits[%d] (%v) Remaining = %d, want %d", i, d.Limits[i].Limit, got, r)
		}
	}
}

func testFixedAdmitsExactlyCount(t *testing.T, s store.Store, c *Clock, key string) {
	rule := store.Rule{per(3, time.Minute)}
	for want := uint64(2); ; want-- {
		d := take(t, s, key, rule, store.FixedWindow, 1)
		expect(t, d, true, want)
		if d.Limits[0].Reset != time.Minute {
			t.Fatalf("Reset = %v, want 1m", d.Limits[0].Reset)
		}
		if want == 0 {
			break
		}
	}
	d := take(t, s, key, rule, store.FixedWindow, 1)
	expect(t, d, false, 0)
	if got := d.RetryAfter(); got != time.Minute {
		t.Fatalf("RetryAfter = %v, want 1m", got)
	}
	c.Advance(59 * time.Second)
	d = take(t, s, key, rule, store.FixedWindow, 1)
	expect(t, d, false, 0)
	if got := d.RetryAfter(); got != time.Second {
		t.Fatalf("RetryAfter after 59s = %v, want 1s", got)
	}
}

func testFixedWindowReopens(t *testing.T, s store.Store, c *Clock, key string) {
	rule := store.Rule{per(2, 10*time.Second)}
	c.Advance(3 * time.Second) // windows open at the first charge, not on a grid
	expect(t, take(t, s, key, rule, store.FixedWindow, 1), true, 1)
	c.Advance(9 * time.Second)
	expect(t, take(t, s, key, rule, store.FixedWindow, 1), true, 0)
	expect(t, take(t, s, key, rule, store.FixedWindow, 1), false, 0)
	c.Advance(time.Second)
	d := take(t, s, key, rule, store.FixedWindow, 1)
	expect(t, d, true, 1)
	if d.Limits[0].Reset != 10*time.Second {
		t.Fatalf("Reset of the new window = %v, want 10s", d.Limits[0].Reset)
	}
	c.Advance(time.Hour)
	expect(t, take(t, s, key, rule, store.FixedWindow, 1), true, 1)
}

func testAllOrNothing(t *testing.T, s store.Store, c *Clock, key string) {
	for _, st := range []store.Strategy{store.FixedWindow, store.SlidingWindow} {
		t.Run(st.String(), func(t *testing.T) {
			k := key + ":" + st.String()
			rule := store.Rule{per(2, time.Second), per(3, time.Minute)}
			expect(t, take(t, s, k, rule, st, 1), true, 1, 2)
			expect(t, take(t, s, k, rule, st, 1), true, 0, 1)
			// Rejected by the second window: the minute window is not charged.
			expect(t, take(t, s, k, rule, st, 1), false, 0, 1)
			expect(t, take(t, s, k, rule, st, 1), false, 0, 1)
			c.Advance(2 * time.Second)
			d := take(t, s, k, rule, st, 1)
			expect(t, d, true)
			if d.Limits[1].Remaining != 0 {
				t.Fatalf("minute window remaining %d, want 0", d.Limits[1].Remaining)
			}
			// Rejected by the minute window: the second window is not charged.
			before := d.Limits[0].Remaining
			d = take(t, s, k, rule, st, 1)
			expect(t, d, false)
			if d.Limits[0].Remaining != before {
				t.Fatalf("second window charged by a rejected take: remaining %d, want %d", d.Limits[0].Remaining, before)
			}
			if d.Limits[0].RetryAfter != 0 || d.Limits[1].RetryAfter == 0 {
				t.Fatalf("RetryAfter per limit = %v, %v: only the minute window blocks", d.Limits[0].RetryAfter, d.Limits[1].RetryAfter)
			}
			c.Advance(2 * time.Minute)
		})
	}
}

func testCost(t *testing.T, s store.Store, _ *Clock, key string) {
	rule := store.Rule{per(10, time.Minute)}
	expect(t, take(t, s, key, rule, store.FixedWindow, 4), true, 6)
	expect(t, take(t, s, key, rule, store.FixedWindow, 7), false, 6)
	expect(t, take(t, s, key, rule, store.FixedWindow, 6), true, 0)
	expect(t, take(t, s, key, rule, store.FixedWindow, 1), false, 0)
	k2 := key + ":big"
	d := take(t, s, k2, rule, store.FixedWindow, 11)
	expect(t, d, false, 10)
	if d.RetryAfter() <= 0 {
		t.Fatalf("a cost above the limit never fits, RetryAfter = %v", d.RetryAfter())
	}
}

func testKeysIndependent(t *testing.T, s store.Store, _ *Clock, key string) {
	rule := store.Rule{per(1, time.Hour)}
	for _, st := range []store.Strategy{store.FixedWindow, store.SlidingWindow} {
		a, b := key+":a:"+st.String(), key+":b:"+st.String()
		expect(t, take(t, s, a, rule, st, 1), true, 0)
		expect(t, take(t, s, a, rule, st, 1), false, 0)
		expect(t, take(t, s, b, rule, st, 1), true, 0)
	}
}

func testSlidingNoDoubleBurst(t *testing.T, s store.Store, c *Clock, key string) {
	rule := store.Rule{per(10, time.Minute)}
	fixed, sliding := key+":fixed", key+":sliding"
	// One request opens both windows, nine more come 50 s later.
	expect(t, take(t, s, fixed, rule, store.FixedWindow, 1), true)
	expect(t, take(t, s, sliding, rule, store.SlidingWindow, 1), true)
	c.Advance(50 * time.Second)
	for i := 0; i < 9; i++ {
		expect(t, take(t, s, fixed, rule, store.FixedWindow, 1), true)
		expect(t, take(t, s, sliding, rule, store.SlidingWindow, 1), true)
	}
	expect(t, take(t, s, fixed, rule, store.FixedWindow, 1), false, 0)
	expect(t, take(t, s, sliding, rule, store.SlidingWindow, 1), false, 0)
	// 20 s later the sliding minute still holds 10*(50/60) of the previous window.
	c.Advance(20 * time.Second)
	admitted, burst := 0, 0
	for i := 0; i < 10; i++ {
		if take(t, s, sliding, rule, store.SlidingWindow, 1).Allowed {
			admitted++
		}
		if take(t, s, fixed, rule, store.FixedWindow, 1).Allowed {
			burst++
		}
	}
	if admitted != 1 {
		t.Fatalf("sliding window admitted %d at the edge, want 1", admitted)
	}
	// The fixed window has ended and admits a second full burst: 19 requests in 20 s,
	// exactly what the sliding window exists to prevent.
	if burst != 10 {
		t.Fatalf("fixed window admitted %d after its end, want 10", burst)
	}
}

func testSlidingRetryAfterIsExact(t *testing.T, s store.Store, c *Clock, key string) {
	rule := store.Rule{per(10, time.Minute)}
	c.Advance(50 * time.Second)
	for i := 0; i < 10; i++ {
		expect(t, take(t, s, key, rule, store.SlidingWindow, 1), true)
	}
	c.Advance(20 * time.Second) // estimate 10*50/60 = 8.33
	expect(t, take(t, s, key, rule, store.SlidingWindow, 1), true, 0)
	d := take(t, s, key, rule, store.SlidingWindow, 1) // 9.33 + 1 > 10
	expect(t, d, false, 0)
	// It fits once the previous window weighs 8: at 12 s into the window, 2 s from now.
	if got := d.RetryAfter(); got != 2*time.Second {
		t.Fatalf("RetryAfter = %v, want 2s", got)
	}
	c.Advance(2*time.Second - time.Millisecond)
	expect(t, take(t, s, key, rule, store.SlidingWindow, 1), false)
	c.Advance(time.Millisecond)
	expect(t, take(t, s, key, rule, store.SlidingWindow, 1), true, 0)
	// When the current window alone is over the limit the wait runs into the next one.
	k := key + ":next"
	for i := 0; i < 10; i++ {
		expect(t, take(t, s, k, rule, store.SlidingWindow, 1), true)
	}
	d = take(t, s, k, rule, store.SlidingWindow, 1)
	expect(t, d, false)
	// Now 72 s: the window ends in 48 s, then 10*(60-t)/60 <= 9 needs t = 6 s.
	if got := d.RetryAfter(); got != 54*time.Second {
		t.Fatalf("RetryAfter = %v, want 54s", got)
	}
	if got := d.Limits[0].Reset; got != 108*time.Second {
		t.Fatalf("Reset = %v, want 108s (end of the next window)", got)
	}
}

func testSlidingDecays(t *testing.T, s store.Store, c *Clock, key string) {
	rule := store.Rule{per(4, time.Second), per(100, time.Minute)}
	for i := 0; i < 4; i++ {
		expect(t, take(t, s, key, rule, store.SlidingWindow, 1), true)
	}
	expect(t, take(t, s, key, rule, store.SlidingWindow, 1), false, 0, 96)
	c.Advance(1500 * time.Millisecond) // previous second weighs half: 2 left
	expect(t, take(t, s, key, rule, store.SlidingWindow, 1), true, 1)
	expect(t, take(t, s, key, rule, store.SlidingWindow, 1), true, 0)
	expect(t, take(t, s, key, rule, store.SlidingWindow, 1), false)
	c.Advance(2 * time.Second)
	d := take(t, s, key, rule, store.SlidingWindow, 1)
	expect(t, d, true, 3, 93)
}

func testMaxLimits(t *testing.T, s store.Store, c *Clock, key string) {
	rule := store.Rule{
		per(8, time.Second), per(9, 2*time.Second), per(10, 5*time.Second), per(11, 10*time.Second),
		per(12, time.Minute), per(13, time.Hour), per(14, 24*time.Hour), per(15, 365*24*time.Hour),
	}
	if len(rule) != store.MaxLimits {
		t.Fatalf("rule has %d limits, want %d", len(rule), store.MaxLimits)
	}
	for _, st := range []store.Strategy{store.FixedWindow, store.SlidingWindow} {
		k := key + ":" + st.String()
		for i := 0; i < 8; i++ {
			expect(t, take(t, s, k, rule, st, 1), true)
		}
		d := take(t, s, k, rule, st, 1)
		expect(t, d, false, 0, 1, 2, 3, 4, 5, 6, 7)
	}
}

func testLargeCounts(t *testing.T, s store.Store, c *Clock, key string) {
	rule := store.Rule{per(store.MaxCount, 365*24*time.Hour)}
	for _, st := range []store.Strategy{store.FixedWindow, store.SlidingWindow} {
		k := key + ":" + st.String()
		expect(t, take(t, s, k, rule, st, store.MaxCount-1), true, 1)
		expect(t, take(t, s, k, rule, st, 2), false, 1)
		expect(t, take(t, s, k, rule, st, 1), true, 0)
	}
}

func testConcurrentExactCount(t *testing.T, s store.Store, _ *Clock, key string) {
	rule := store.Rule{per(1000, 24*time.Hour), per(100, time.Hour)}
	for _, st := range []store.Strategy{store.FixedWindow, store.SlidingWindow} {
		k := key + ":" + st.String()
		var admitted atomic.Int64
		var wg sync.WaitGroup
		for g := 0; g < 8; g++ {
			wg.Go(func() {
				for i := 0; i < 40; i++ {
					d, err := s.Take(context.Background(), k, rule, st, 1)
					if err != nil {
						t.Errorf("Take: %v", err)
						return
					}
					if d.Allowed {
						admitted.Add(1)
					}
				}
			})
		}
		wg.Wait()
		if got := admitted.Load(); got != 100 {
			t.Fatalf("%v: %d of 320 concurrent takes admitted, want exactly 100", st, got)
		}
	}
}
