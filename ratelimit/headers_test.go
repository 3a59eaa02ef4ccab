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
// decisions, header modes and headers left by an earlier limiter.
func FuzzWriteHeaders(f *testing.F) {
	f.Add(uint64(1), uint8(0), "", "")
	f.Add(uint64(2), uint8(1), "5", `"x-1s";q=1;w=1`)
	f.Add(uint64(3), uint8(2), "0", "")
	f.Add(uint64(4), uint8(0), "18446744073709551615", "a")
	f.Add(uint64(5), uint8(3), "junk", "")
	f.Fuzz(func(t *testing.T, seed uint64, mode uint8, prevRemaining, prevPolicy string) {
		rng := rand.New(rand.NewPCG(seed, 7))
		now := time.Unix(1_900_000_000, int64(rng.IntN(1e9)))
		rule := make(Rule, 1+rng.IntN(MaxLimits))
		for i := range rule {
			rule[i] = Limit{Count: 1 + rng.Uint64N(MaxCount), Period: time.Duration(1+rng.IntN(400_000_000)) * time.Millisecond}
		}
		name := strings.Repeat("n", 1+rng.IntN(64))
		l, err := New(Config{Name: name, Rule: rule, Headers: HeaderMode(mode % 4), Now: func() time.Time { return now }})
		require.NoError(t, err)
		d := Decision{Allowed: rng.IntN(2) == 0, N: len(rule)}
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
