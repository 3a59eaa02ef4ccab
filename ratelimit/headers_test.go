package ratelimit

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-reussite/harden/ratelimit/store"
)

func TestCanonicalHeaderNames(t *testing.T) {
	for _, name := range []string{headerPolicy, headerRateLimit, headerLimit, headerRemaining, headerReset, headerRetryAfter} {
		assert.Equal(t, http.CanonicalHeaderKey(name), name)
	}
}

// referenceHeaders is writeHeaders written with Header.Add and Header.Set, fmt, and the
// choice of the tightest limit spelled out.
func referenceHeaders(l *Limiter, h http.Header, d *store.Decision, decidedAt int64) {
	if l.headers == HeadersNone {
		return
	}
	// The tightest limit: on a rejection the first that blocks longest; otherwise the
	// first with the fewest units remaining and, among those, the shortest reset.
	ti := 0
	for i := 1; i < d.N; i++ {
		c, b := d.Limits[i], d.Limits[ti]
		if !d.Allowed && c.RetryAfter > b.RetryAfter ||
			d.Allowed && (c.Remaining < b.Remaining || c.Remaining == b.Remaining && c.Reset < b.Reset) {
			ti = i
		}
	}
	var t store.LimitStatus
	if d.N > 0 {
		t = d.Limits[ti]
	}
	if l.headers != HeadersLegacy && d.N > 0 {
		lim := l.rule[ti]
		id := fmt.Sprintf("%q", l.name+"-"+compactPeriod(lim.Period))
		h.Add("RateLimit-Policy", fmt.Sprintf("%s;q=%d;w=%d", id, lim.Count, ceilSeconds(lim.Period)))
		h.Add("RateLimit", fmt.Sprintf("%s;r=%d;t=%d", id, t.Remaining, ceilSeconds(t.Reset)))
	}
	if l.headers == HeadersDraft {
		return
	}
	if prev := h.Get("X-RateLimit-Remaining"); prev != "" {
		if n, err := strconv.ParseUint(prev, 10, 64); err == nil && n <= t.Remaining {
			return
		}
	}
	now := l.now()
	if l.ownStore && decidedAt != 0 {
		now = time.Unix(0, decidedAt)
	}
	h.Set("X-RateLimit-Limit", strconv.FormatUint(t.Limit.Count, 10))
	h.Set("X-RateLimit-Remaining", strconv.FormatUint(t.Remaining, 10))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(now.Add(t.Reset).Add(time.Second-1).Unix(), 10))
}

// FuzzWriteHeaders checks writeHeaders against referenceHeaders for random rules,
// decisions, header modes and headers left by an earlier limiter, with limiters on their
// own memory store and on another store.
func FuzzWriteHeaders(f *testing.F) {
	f.Add(uint64(1), uint8(0), "", "")
	f.Add(uint64(2), uint8(1), "5", `"x-1s";q=1;w=1`)
	f.Add(uint64(3), uint8(2), "0", "")
	f.Add(uint64(4), uint8(0), "18446744073709551615", "a")
	f.Add(uint64(5), uint8(3), "junk", "")
	f.Fuzz(func(t *testing.T, seed uint64, mode uint8, prevRemaining, prevPolicy string) {
		rng := rand.New(rand.NewPCG(seed, 7))
		now := time.Unix(1_900_000_000, int64(rng.IntN(1e9)))
		decidedAt := now.Add(-time.Duration(rng.IntN(2e9))).UnixNano()
		// Small values half the time, so that ties between limits, and limits repeated
		// in a rule, are frequent.
		small := rng.IntN(2) == 0
		rule := make(Rule, 1+rng.IntN(store.MaxLimits))
		for i := range rule {
			rule[i] = store.Limit{Count: 1 + rng.Uint64N(store.MaxCount), Period: time.Duration(1+rng.IntN(400_000_000)) * time.Millisecond}
			if small {
				rule[i] = store.Limit{Count: 1 + rng.Uint64N(3), Period: time.Duration(1+rng.IntN(3)) * time.Second}
			}
		}
		name := strings.Repeat("n", 1+rng.IntN(64))
		cfg := Config{Name: name, Rule: rule, Headers: HeaderMode(mode % 4), Now: func() time.Time { return now }}
		if rng.IntN(2) == 0 {
			cfg.Store = otherStore{}
		}
		l, err := New(cfg)
		require.NoError(t, err)
		d := store.Decision{Allowed: rng.IntN(2) == 0, N: len(rule)}
		for i, lim := range rule {
			d.Limits[i] = store.LimitStatus{
				Limit:      lim,
				Remaining:  rng.Uint64N(lim.Count + 1),
				Reset:      time.Duration(rng.Int64N(int64(lim.Period) + 1)),
				RetryAfter: time.Duration(rng.Int64N(int64(lim.Period) + 1)),
			}
			if small {
				d.Limits[i].Reset = time.Duration(rng.IntN(3)) * time.Second
				d.Limits[i].RetryAfter = time.Duration(rng.IntN(3)) * time.Second
			}
		}
		if rng.IntN(16) == 0 {
			d.N = 0 // a store reporting no limit: no draft fields
		}
		got, want := http.Header{}, http.Header{}
		for _, h := range []http.Header{got, want} {
			if prevRemaining != "" {
				h.Set("X-RateLimit-Remaining", prevRemaining)
				h.Set("X-RateLimit-Limit", "7")
			}
			if prevPolicy != "" {
				h.Add("RateLimit-Policy", prevPolicy)
			}
		}
		l.writeHeaders(got, &d, decidedAt)
		referenceHeaders(l, want, &d, decidedAt)
		require.Equal(t, want, got)
		// Each header's value slice is its own: appending to one changes no other.
		for k := range got {
			got.Add(k, "extra")
		}
		for k, v := range want {
			require.Equal(t, append(v, "extra"), got[k], k)
		}
	})
}

// countingClock returns a clock standing at now that counts its readings in *n.
func countingClock(now time.Time, n *int) func() time.Time {
	return func() time.Time {
		*n++
		return now
	}
}

// TestResetClockReadings shows an admitted request reads the clock once with the
// default memory store, which runs on the limiter's clock, X-RateLimit-Reset being
// counted from the instant the store decided at; and that a limiter given a store reads
// its own clock for the reset.
func TestResetClockReadings(t *testing.T) {
	now := time.Date(2030, 1, 1, 12, 0, 0, 500_000_000, time.UTC)
	rule := MustParseRule("10 per minute;100 per hour")
	serve := func(l *Limiter) http.Header {
		w := &headerRecorder{h: http.Header{}}
		r, err := http.NewRequest(http.MethodGet, "/", nil)
		require.NoError(t, err)
		r.RemoteAddr = "192.0.2.1:1234"
		l.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})).ServeHTTP(w, r)
		return w.h
	}
	want := strconv.FormatInt(now.Add(time.Minute).Add(time.Second-1).Unix(), 10)

	var reads int
	l, err := New(Config{Rule: rule, Headers: HeadersLegacy, Now: countingClock(now, &reads)})
	require.NoError(t, err)
	reads = 0
	h := serve(l)
	assert.Equal(t, 1, reads, "one reading, by the store")
	assert.Equal(t, want, h.Get("X-RateLimit-Reset"))
	assert.Equal(t, "9", h.Get("X-RateLimit-Remaining"))

	var storeReads, limiterReads int
	mem, err := newMemoryStore(memoryConfig{Now: countingClock(now, &storeReads)})
	require.NoError(t, err)
	later := now.Add(time.Hour)
	l, err = New(Config{Rule: rule, Store: mem, Headers: HeadersLegacy, Now: countingClock(later, &limiterReads)})
	require.NoError(t, err)
	storeReads = 0
	h = serve(l)
	assert.Equal(t, 1, storeReads)
	assert.Equal(t, 1, limiterReads, "a store given to the limiter may have another clock")
	assert.Equal(t, strconv.FormatInt(later.Add(time.Minute).Add(time.Second-1).Unix(), 10), h.Get("X-RateLimit-Reset"))
}

// otherStore stands for a store the limiter did not make; it admits everything.
type otherStore struct{}

func (otherStore) Take(_ context.Context, _ string, rule Rule, _ store.Strategy, _ uint64) (store.Decision, error) {
	return store.Decision{Allowed: true, N: len(rule)}, nil
}

// headerRecorder is a ResponseWriter that keeps headers only.
type headerRecorder struct{ h http.Header }

func (w *headerRecorder) Header() http.Header         { return w.h }
func (w *headerRecorder) Write(p []byte) (int, error) { return len(p), nil }
func (w *headerRecorder) WriteHeader(int)             {}
