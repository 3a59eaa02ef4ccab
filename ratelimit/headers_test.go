package ratelimit

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCanonicalHeaderNames(t *testing.T) {
	for canon, name := range map[string]string{
		canonPolicy:    HeaderPolicy,
		canonRateLimit: HeaderRateLimit,
		canonLimit:     HeaderLimit,
		canonRemaining: HeaderRemaining,
		canonReset:     HeaderReset,
	} {
		assert.Equal(t, http.CanonicalHeaderKey(name), canon)
	}
}

// referenceHeaders is writeHeaders written plainly with Header.Add and Header.Set.
func referenceHeaders(l *Limiter, h http.Header, d *Decision) {
	if l.headers == HeadersNone {
		return
	}
	if l.headers != HeadersLegacy {
		h.Add(HeaderPolicy, l.policy)
		var items []string
		for i := 0; i < d.N; i++ {
			st := d.Limits[i]
			items = append(items, l.policyNames[i]+";r="+strconv.FormatUint(st.Remaining, 10)+";t="+strconv.FormatInt(ceilSeconds(st.Reset), 10))
		}
		h.Add(HeaderRateLimit, strings.Join(items, ", "))
	}
	if l.headers == HeadersDraft {
		return
	}
	t := d.Tightest()
	if prev := h.Get(HeaderRemaining); prev != "" {
		if n, err := strconv.ParseUint(prev, 10, 64); err == nil && n <= t.Remaining {
			return
		}
	}
	h.Set(HeaderLimit, strconv.FormatUint(t.Limit.Count, 10))
	h.Set(HeaderRemaining, strconv.FormatUint(t.Remaining, 10))
	h.Set(HeaderReset, strconv.FormatInt(l.now().Add(t.Reset).Add(time.Second-1).Unix(), 10))
}

// FuzzWriteHeaders checks writeHeaders against referenceHeaders for random rules,
// decisions, header modes and headers left by an earlier limiter, with decisions that
// carry the instant of a memory store sharing the limiter's clock and decisions that
// do not.
func FuzzWriteHeaders(f *testing.F) {
	f.Add(uint64(1), uint8(0), "", "")
	f.Add(uint64(2), uint8(1), "5", `"x-1s";q=1;w=1`)
	f.Add(uint64(3), uint8(2), "0", "")
	f.Add(uint64(4), uint8(0), "18446744073709551615", "a")
	f.Add(uint64(5), uint8(3), "junk", "")
	f.Fuzz(func(t *testing.T, seed uint64, mode uint8, prevRemaining, prevPolicy string) {
		var err error
		rng := rand.New(rand.NewPCG(seed, 7))
		now := time.Unix(1_900_000_000, int64(rng.IntN(1e9)))
		rule := make(Rule, 1+rng.IntN(MaxLimits))
		for i := range rule {
			rule[i] = Limit{Count: 1 + rng.Uint64N(MaxCount), Period: time.Duration(1+rng.IntN(400_000_000)) * time.Millisecond}
		}
		name := strings.Repeat("n", 1+rng.IntN(64))
		clock := func() time.Time { return now }
		cfg := Config{Name: name, Rule: rule, Headers: HeaderMode(mode % 4), Now: clock}
		shared := rng.IntN(2) == 0 // a memory store on the limiter's clock decided at now
		if shared {
			cfg.Store, err = NewMemoryStore(MemoryConfig{Now: clock})
			require.NoError(t, err)
		}
		l, err := New(cfg)
		require.NoError(t, err)
		d := Decision{Allowed: rng.IntN(2) == 0, N: len(rule)}
		if shared {
			d.at = now.UnixNano()
		}
		for i, lim := range rule {
			d.Limits[i] = LimitStatus{
				Limit:      lim,
				Remaining:  rng.Uint64N(lim.Count + 1),
				Reset:      time.Duration(rng.Int64N(int64(lim.Period) + 1)),
				RetryAfter: time.Duration(rng.Int64N(int64(lim.Period) + 1)),
			}
		}
		got, want := http.Header{}, http.Header{}
		for _, h := range []http.Header{got, want} {
			if prevRemaining != "" {
				h.Set(HeaderRemaining, prevRemaining)
				h.Set(HeaderLimit, "7")
			}
			if prevPolicy != "" {
				h.Add(HeaderPolicy, prevPolicy)
			}
		}
		l.writeHeaders(got, &d)
		referenceHeaders(l, want, &d)
		require.Equal(t, want, got)
		// The values share storage, but each header's slice is its own.
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

// TestResetClockReadings shows an admitted request reads the clock once when the
// limiter and its memory store share it, X-RateLimit-Reset being counted from the
// instant the store decided at, and that a limiter with a clock of its own reads it.
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
	clock := countingClock(now, &reads)
	store, err := NewMemoryStore(MemoryConfig{Now: clock})
	require.NoError(t, err)
	l, err := New(Config{Rule: rule, Store: store, Headers: HeadersLegacy, Now: clock})
	require.NoError(t, err)
	reads = 0
	h := serve(l)
	assert.Equal(t, 1, reads, "one reading, by the store")
	assert.Equal(t, want, h.Get(HeaderReset))
	assert.Equal(t, "9", h.Get(HeaderRemaining))

	var storeReads, limiterReads int
	store, err = NewMemoryStore(MemoryConfig{Now: countingClock(now, &storeReads)})
	require.NoError(t, err)
	later := now.Add(time.Hour)
	l, err = New(Config{Rule: rule, Store: store, Headers: HeadersLegacy, Now: countingClock(later, &limiterReads)})
	require.NoError(t, err)
	storeReads = 0
	h = serve(l)
	assert.Equal(t, 1, storeReads)
	assert.Equal(t, 1, limiterReads, "a clock of the limiter's own is read for the reset")
	assert.Equal(t, strconv.FormatInt(later.Add(time.Minute).Add(time.Second-1).Unix(), 10), h.Get(HeaderReset))
}

// TestDefaultClocksShared shows a limiter and its default memory store both use
// time.Now as one func value, so the limiter takes its reset from the store's instant.
func TestDefaultClocksShared(t *testing.T) {
	l, err := New(Config{})
	require.NoError(t, err)
	require.NotNil(t, l.mem)
	assert.True(t, sameFunc(l.now, l.mem.now))
	store, err := NewMemoryStore(MemoryConfig{})
	require.NoError(t, err)
	l, err = New(Config{Store: store})
	require.NoError(t, err)
	assert.True(t, sameFunc(l.now, l.mem.now))
	a := func() time.Time { return time.Time{} }
	b := func() time.Time { return time.Time{} }
	assert.True(t, sameFunc(a, a))
	assert.False(t, sameFunc(a, b))
}

// TestHoldValues checks every block: the string holds the bytes, the slots are n
// strings of their own capacity, and all of it is one allocation of the block's size
// up to the largest block.
func TestHoldValues(t *testing.T) {
	src := make([]byte, 600)
	for i := range src {
		src[i] = byte('a' + i%26)
	}
	for size := 0; size <= len(src); size++ {
		for _, n := range []int{2, 3, 5} {
			v, slots := holdValues(src[:size], n)
			require.Equal(t, string(src[:size]), v)
			require.Len(t, slots, n)
			require.Equal(t, n, cap(slots))
			for _, s := range slots {
				require.Empty(t, s)
			}
		}
	}
	for _, tc := range []struct {
		n, size int
		allocs  float64
	}{
		{2, 0, 1}, {2, 48, 1}, {2, 49, 1}, {2, 112, 1}, {2, 480, 1}, {2, 481, 2},
		{3, 0, 1}, {3, 32, 1}, {3, 64, 1}, {3, 65, 2},
		{5, 0, 1}, {5, 48, 1}, {5, 144, 1}, {5, 176, 1}, {5, 432, 1}, {5, 433, 2},
	} {
		b := src[:tc.size]
		assert.Equal(t, tc.allocs, testing.AllocsPerRun(20, func() { _, _ = holdValues(b, tc.n) }), "n=%d size=%d", tc.n, tc.size)
	}
}

// headerRecorder is a ResponseWriter that keeps headers only.
type headerRecorder struct{ h http.Header }

func (w *headerRecorder) Header() http.Header         { return w.h }
func (w *headerRecorder) Write(p []byte) (int, error) { return len(p), nil }
func (w *headerRecorder) WriteHeader(int)             {}
