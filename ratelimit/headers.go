package ratelimit

import (
	"net/http"
	"strconv"
	"time"

	"github.com/nexus-reussite/harden/ratelimit/store"
)

// HeaderMode selects the rate limit headers a Limiter sets.
type HeaderMode uint8

const (
	// HeadersDraft sets RateLimit-Policy and RateLimit
	// (draft-ietf-httpapi-ratelimit-headers), the default: every limit with its quota,
	// window, remaining units and reset, in two fields.
	HeadersDraft HeaderMode = iota
	// HeadersAll sets the draft fields and the legacy ones, for clients written against
	// X-RateLimit-*.
	HeadersAll
	// HeadersLegacy sets only X-RateLimit-Limit, X-RateLimit-Remaining and
	// X-RateLimit-Reset.
	HeadersLegacy
	// HeadersNone sets no rate limit header except Retry-After on 429.
	HeadersNone
)

// Header names, in canonical form (http.CanonicalHeaderKey) so that they can be used as
// map keys directly.
const (
	headerPolicy     = "Ratelimit-Policy"
	headerRateLimit  = "Ratelimit"
	headerLimit      = "X-Ratelimit-Limit"
	headerRemaining  = "X-Ratelimit-Remaining"
	headerReset      = "X-Ratelimit-Reset"
	headerRetryAfter = "Retry-After"
)

// policyNames returns the quoted policy identifiers of each limit, e.g. "default-1h".
func policyNames(name string, rule Rule) []string {
	out := make([]string, len(rule))
	for i, l := range rule {
		out[i] = `"` + name + "-" + compactPeriod(l.Period) + `"`
	}
	return out
}

// policyHeader formats the RateLimit-Policy value: one item per limit with its quota q
// and window w in seconds.
func policyHeader(names []string, rule Rule) string {
	var b []byte
	for i, l := range rule {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, names[i]...)
		b = append(b, ";q="...)
		b = strconv.AppendUint(b, l.Count, 10)
		b = append(b, ";w="...)
		b = strconv.AppendInt(b, ceilSeconds(l.Period), 10)
	}
	return string(b)
}

func compactPeriod(d time.Duration) string {
	for _, u := range [...]struct {
		s string
		d time.Duration
	}{{"d", 24 * time.Hour}, {"h", time.Hour}, {"m", time.Minute}, {"s", time.Second}} {
		if d%u.d == 0 {
			return strconv.FormatInt(int64(d/u.d), 10) + u.s
		}
	}
	return strconv.FormatInt(int64(d/time.Millisecond), 10) + "ms"
}

// ceilSeconds rounds d up to whole seconds, and at least 0.
func ceilSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}

// writeHeaders sets the headers of the limiter's mode for d, decided at the Unix time
// decidedAt (nanoseconds, 0 if unknown). The draft fields are added, so limiters stacked
// on one route each report their policies; the legacy fields describe the tightest limit
// and are replaced only by a tighter one.
//
// The values are formatted into one buffer and become one string, and the new header
// slices are cut from one array, each with its own capacity, so that appending to one
// never writes into another: two allocations per response, whatever the mode.
func (l *Limiter) writeHeaders(h http.Header, d *store.Decision, decidedAt int64) {
	draft := l.headers == HeadersAll || l.headers == HeadersDraft
	legacy := l.headers == HeadersAll || l.headers == HeadersLegacy
	var t store.LimitStatus
	if legacy {
		t = d.Tightest()
		legacy = !tighterBefore(h, t.Remaining)
	}
	if !draft && !legacy {
		return
	}
	var buf [512]byte
	b := buf[:0]
	var ends [4]int // where the RateLimit, X-RateLimit-Limit and -Remaining values end
	if draft {
		b = l.appendRateLimit(b, d)
	}
	ends[0] = len(b)
	if legacy {
		b = strconv.AppendUint(b, t.Limit.Count, 10)
		ends[1] = len(b)
		b = strconv.AppendUint(b, t.Remaining, 10)
		ends[2] = len(b)
		b = strconv.AppendInt(b, l.resetAt(decidedAt, t.Reset), 10)
		ends[3] = len(b)
	}
	v := string(b)
	slots := make([]string, 0, 5)
	if draft {
		slots = addValue(h, headerPolicy, l.policy, slots)
		slots = addValue(h, headerRateLimit, v[:ends[0]], slots)
	}
	if legacy {
		slots = setValue(h, headerLimit, v[ends[0]:ends[1]], slots)
		slots = setValue(h, headerRemaining, v[ends[1]:ends[2]], slots)
		setValue(h, headerReset, v[ends[2]:ends[3]], slots)
	}
}

// appendRateLimit appends the RateLimit value of d: per limit, its policy name, the
// units remaining and the seconds until the quota is whole again.
func (l *Limiter) appendRateLimit(b []byte, d *store.Decision) []byte {
	for i, st := range d.Limits[:d.N] {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, l.policyNames[i]...)
		b = append(b, ";r="...)
		b = strconv.AppendUint(b, st.Remaining, 10)
		b = append(b, ";t="...)
		b = strconv.AppendInt(b, ceilSeconds(st.Reset), 10)
	}
	return b
}

// tighterBefore reports whether a limiter before this one already reported a limit with
// at most remaining units left in h.
func tighterBefore(h http.Header, remaining uint64) bool {
	prev := h[headerRemaining]
	if len(prev) == 0 {
		return false
	}
	n, err := strconv.ParseUint(prev[0], 10, 64)
	return err == nil && n <= remaining
}

// addValue is h.Add(k, v) for a canonical k. A new value slice is cut from slots (which
// must have room for it), with a capacity of one.
func addValue(h http.Header, k, v string, slots []string) []string {
	if old := h[k]; len(old) > 0 {
		h[k] = append(old, v)
		return slots
	}
	return setValue(h, k, v, slots)
}

// setValue is h.Set(k, v) for a canonical k, the value slice cut from slots like
// addValue's.
func setValue(h http.Header, k, v string, slots []string) []string {
	slots = append(slots, v)
	n := len(slots)
	h[k] = slots[n-1 : n : n]
	return slots
}

// resetAt is the X-RateLimit-Reset value of a limit whose window is whole again after
// reset: that instant as a Unix time, rounded up to the second. It is counted from
// decidedAt when the limiter's default memory store decided then on the limiter's own
// clock, and from a reading of the limiter's clock otherwise.
func (l *Limiter) resetAt(decidedAt int64, reset time.Duration) int64 {
	now := time.Unix(0, decidedAt)
	if decidedAt == 0 || !l.ownStore {
		now = l.now()
	}
	return now.Add(reset).Add(time.Second - 1).Unix()
}
