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
	// (draft-ietf-httpapi-ratelimit-headers), the default: one item each, for the
	// tightest window of the rule, the one the legacy fields describe too (see
	// store.Decision.Tightest). RateLimit-Policy gives its quota q and window w in
	// seconds, RateLimit the units remaining r and the seconds t until its quota is
	// whole again; both name it alike, e.g. "default-1s". On 429 it is the window that
	// blocks longest: t is then Retry-After with fixed windows.
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

// draftWindow is what the draft fields say of one limit of a rule, formatted once when
// the limiter is made.
type draftWindow struct {
	policy string // the RateLimit-Policy item: "default-1h";q=100;w=3600
	item   string // the start of the RateLimit item: "default-1h";r=
}

// draftWindows formats the policy item of each limit of rule, named after the limiter
// and the limit's period ("default-1h"), and the start of its RateLimit item.
func draftWindows(name string, rule Rule) []draftWindow {
	out := make([]draftWindow, len(rule))
	for i, l := range rule {
		id := `"` + name + "-" + compactPeriod(l.Period) + `"`
		out[i] = draftWindow{
			policy: id + ";q=" + strconv.FormatUint(l.Count, 10) + ";w=" + strconv.FormatInt(ceilSeconds(l.Period), 10),
			item:   id + ";r=",
		}
	}
	return out
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
// decidedAt (nanoseconds, 0 if unknown). Both families describe one limit of the rule,
// the one d.Tightest picks. The draft fields are added, so limiters stacked on one route
// each report their tightest limit; the legacy fields are replaced only by a tighter
// limit than the one they describe.
//
// The policy item is a string formatted when the limiter was made. The other values are
// formatted into one buffer and become one string, and the new header slices are cut
// from one array, each with its own capacity, so that appending to one never writes into
// another: two allocations per response, whatever the mode.
func (l *Limiter) writeHeaders(h http.Header, d *store.Decision, decidedAt int64) {
	if l.headers == HeadersNone {
		return
	}
	i, t := tightest(d)
	draft := (l.headers == HeadersAll || l.headers == HeadersDraft) && i >= 0 && i < len(l.windows)
	legacy := (l.headers == HeadersAll || l.headers == HeadersLegacy) && !tighterBefore(h, t.Remaining)
	if !draft && !legacy {
		return
	}
	var buf [256]byte
	b := buf[:0]
	var ends [4]int // where the RateLimit, X-RateLimit-Limit and -Remaining values end
	if draft {
		b = append(b, l.windows[i].item...)
		b = strconv.AppendUint(b, t.Remaining, 10)
		b = append(b, ";t="...)
		b = strconv.AppendInt(b, ceilSeconds(t.Reset), 10)
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
		slots = addValue(h, headerPolicy, l.windows[i].policy, slots)
		slots = addValue(h, headerRateLimit, v[:ends[0]], slots)
	}
	if legacy {
		slots = setValue(h, headerLimit, v[ends[0]:ends[1]], slots)
		slots = setValue(h, headerRemaining, v[ends[1]:ends[2]], slots)
		setValue(h, headerReset, v[ends[2]:ends[3]], slots)
	}
}

// tightest returns d.Tightest() and its index in d.Limits, which is that of its limit in
// the rule, or -1 for a decision without limits. A status equal to it earlier in
// d.Limits has the same limit, hence the same draft items.
func tightest(d *store.Decision) (int, store.LimitStatus) {
	t := d.Tightest()
	for i := range d.Limits[:d.N] {
		if d.Limits[i] == t {
			return i, t
		}
	}
	return -1, t
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
