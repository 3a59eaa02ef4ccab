package auth

import (
	"context"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestThrottleDelays: the delay doubles from Base after the free attempts, up to Max.
func TestThrottleDelays(t *testing.T) {
	c := ThrottleConfig{Free: 3, Base: time.Second, Max: 10 * time.Second}.withDefaults()
	want := []time.Duration{0, 0, 0, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}
	for i, w := range want {
		if got := c.delay(i + 1); got != w {
			t.Errorf("delay after attempt %d = %v, want %v", i+1, got, w)
		}
	}
	if got := c.delay(1 << 20); got != c.Max {
		t.Errorf("delay after a million attempts = %v", got)
	}
}

// TestThrottleFallsBackToMemoryWhenRedisFails: with Redis unreachable the attempts are
// still counted, in this process, and a wait is still imposed.
func TestThrottleFallsBackToMemoryWhenRedisFails(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 100 * time.Millisecond, MaxRetries: -1})
	defer rdb.Close()
	th := newThrottle(ThrottleConfig{Free: 2, Base: time.Second, Max: time.Minute}, rdb, "t:", slog.New(slog.DiscardHandler))
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)
	for i := range 3 {
		if w := th.attempt(ctx, "a@example.tn", now); w != 0 {
			t.Fatalf("attempt %d waits %v", i+1, w)
		}
	}
	if w := th.attempt(ctx, "a@example.tn", now); w != time.Second {
		t.Fatalf("4th attempt waits %v, want 1s", w)
	}
	if w := th.attempt(ctx, "b@example.tn", now); w != 0 {
		t.Fatalf("another account waits %v", w)
	}
	th.reset(ctx, "a@example.tn")
	if w := th.attempt(ctx, "a@example.tn", now); w != 0 {
		t.Fatalf("after a reset: waits %v", w)
	}
	// A day without attempts forgets them.
	for range 5 {
		th.attempt(ctx, "c@example.tn", now)
	}
	if w := th.attempt(ctx, "c@example.tn", now.Add(throttleForget)); w != 0 {
		t.Fatalf("a day later: waits %v", w)
	}
}

// TestThrottleMemoryIsBounded: the in-process table never grows past its bound.
func TestThrottleMemoryIsBounded(t *testing.T) {
	th := newThrottle(ThrottleConfig{}, nil, "", slog.New(slog.DiscardHandler))
	now := time.Unix(1_800_000_000, 0)
	for i := range maxThrottleMemory + 50 {
		th.attemptMemory(throttleKey(strconv.Itoa(i)+"@x.tn"), now)
	}
	if n := len(th.mem); n > maxThrottleMemory {
		t.Fatalf("%d entries, bound %d", n, maxThrottleMemory)
	}
}
