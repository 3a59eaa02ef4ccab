package ratelimit_test

import (
	"net/http"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-reussite/harden/ratelimit"
	"github.com/nexus-reussite/harden/ratelimit/store"
)

// TestDefaultRuleOverTime walks the default rule through a day of fake time: the
// middleware and the memory store read the bubble's clock.
func TestDefaultRuleOverTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLimiter(t, ratelimit.Config{})
		h := l.Handler(okHandler)
		const ip = "192.0.2.1:1"
		assert.Equal(t, []int{200, 200, 429}, codes(h, 3, "GET", "/", ip))
		time.Sleep(time.Second)
		assert.Equal(t, []int{200, 200, 429}, codes(h, 3, "GET", "/", ip))
		// 96 more within the hour, two per second.
		for range 48 {
			time.Sleep(time.Second)
			require.Equal(t, []int{200, 200}, codes(h, 2, "GET", "/", ip))
		}
		time.Sleep(time.Second)
		w := do(h, "GET", "/", ip)
		require.Equal(t, 429, w.Code, "100 per hour reached")
		// The hour opened 50 s ago. The draft fields describe the exhausted hour, not the
		// second, which has 2 units left, nor the day.
		assert.Equal(t, strconv.Itoa(3600-50), w.Header().Get("Retry-After"))
		assert.Equal(t, []string{`"default-1h";r=0;t=3550`}, w.Header().Values("RateLimit"))
		assert.Equal(t, []string{`"default-1h";q=100;w=3600`}, w.Header().Values("RateLimit-Policy"))
		time.Sleep(3550*time.Second - time.Nanosecond)
		assert.Equal(t, 429, do(h, "GET", "/", ip).Code)
		time.Sleep(time.Nanosecond)
		assert.Equal(t, 200, do(h, "GET", "/", ip).Code)
		w = do(h, "GET", "/", ip)
		// Fewest units left: the second's window.
		assert.Equal(t, `"default-1s";r=0;t=1`, w.Header().Get("RateLimit"))
	})
}

// TestSlidingWindowOverTime checks the sliding counter through the middleware: no
// second burst right after a window edge, and a smooth refill.
func TestSlidingWindowOverTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLimiter(t, ratelimit.Config{Rule: ratelimit.MustParseRule("60 per minute"), SlidingWindow: true})
		h := l.Handler(okHandler)
		const ip = "192.0.2.1:1"
		// Align to a minute boundary of the bubble's clock, then burst late in it.
		time.Sleep(time.Until(time.Now().Truncate(time.Minute).Add(time.Minute + 45*time.Second)))
		admitted := 0
		for range 70 {
			if do(h, "GET", "/", ip).Code == 200 {
				admitted++
			}
		}
		require.Equal(t, 60, admitted)
		// 30 s later the previous minute still weighs 45/60: 15 requests fit, not 60.
		time.Sleep(30 * time.Second)
		admitted = 0
		for range 70 {
			if do(h, "GET", "/", ip).Code == 200 {
				admitted++
			}
		}
		assert.Equal(t, 15, admitted)
		// Every further second frees one request.
		for range 5 {
			time.Sleep(time.Second)
			assert.Equal(t, []int{200, 429}, codes(h, 2, "GET", "/", ip))
		}
	})
}

func TestGoLimiterStoreAdapter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newLimiter(t, ratelimit.Config{
			Rule:    ratelimit.MustParseRule("3 per minute"),
			Store:   store.NewGoLimiter(mustGoLimiterMemory(t)),
			Headers: ratelimit.HeadersLegacy,
		})
		h := l.Handler(okHandler)
		assert.Equal(t, []int{200, 200, 200, 429}, codes(h, 4, "GET", "/", "192.0.2.1:1"))
		w := do(h, "GET", "/", "192.0.2.2:1")
		assert.Equal(t, http.StatusOK, w.Code)
		assert.Equal(t, "2", w.Header().Get("X-RateLimit-Remaining"))
	})
}
