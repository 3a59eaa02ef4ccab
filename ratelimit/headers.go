package ratelimit

import (
	"net/http"
	"strconv"
	"time"
)

// HeaderMode selects the rate limit headers a Limiter sets.
type HeaderMode uint8

const (
	// HeadersAll sets the IETF draft fields and the legacy ones (the default).
	HeadersAll HeaderMode = iota
	// HeadersDraft sets only RateLimit-Policy and RateLimit
	// (draft-ietf-httpapi-ratelimit-headers).
	HeadersDraft
	// HeadersLegacy sets only X-RateLimit-Limit, X-RateLimit-Remaining and
	// X-RateLimit-Reset.
	HeadersLegacy
	// HeadersNone sets no rate limit header except Retry-After on 429.
	HeadersNone
)

// Header names.
const (
	HeaderPolicy     = "RateLimit-Policy"
	HeaderRateLimit  = "RateLimit"
	HeaderLimit      = "X-RateLimit-Limit"
	HeaderRemaining  = "X-RateLimit-Remaining"
	HeaderReset      = "X-RateLimit-Reset"
	HeaderRetryAfter = "Retry-After"
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

// Canonical forms of the header names (http.CanonicalHeaderKey), used as map keys so
// that setting a header does not canonicalize its name on every request.
const (
	canonPolicy    = "Ratelimit-Policy"
	canonRateLimit = "Ratelimit"
	canonLimit     = "X-Ratelimit-Limit"
	canonRemaining = "X-Ratelimit-Remaining"
	canonReset     = "X-Ratelimit-Reset"
)

// writeHeaders sets the headers of mode for d. The draft fields are added, so limiters
// stacked on one route each report their policies; the legacy fields describe the
// tightest limit and are replaced only by a tighter one.
//
// All values formatted here share one string, and the new header slices one backing
// array: two allocations in every mode that sets headers.
func (l *Limiter) writeHeaders(h http.Header, d *Decision) {
	if l.headers == HeadersNone {
		return
	}
	draft := l.headers != HeadersLegacy
	legacy := l.headers != HeadersDraft
	var buf [512]byte
	b := buf[:0]
	if draft {
		for i := 0; i < d.N; i++ {
			if i > 0 {
				b = append(b, ", "...)
			}
			st := &d.Limits[i]
			b = append(b, l.policyNames[i]...)
			b = append(b, ";r="...)
			b = strconv.AppendUint(b, st.Remaining, 10)
			b = append(b, ";t="...)
			b = strconv.AppendInt(b, ceilSeconds(st.Reset), 10)
		}
	}
	rateLimitEnd := len(b)
	var t LimitStatus
	if legacy {
		if i := d.tightest(); i >= 0 {
			t = d.Limits[i]
		}
		if prev := h[canonRemaining]; len(prev) > 0 && prev[0] != "" {
			if n, err := strconv.ParseUint(prev[0], 10, 64); err == nil && n <= t.Remaining {
				legacy = false // a limiter before this one reported a tighter limit
			}
		}
	}
	var limitEnd, remainingEnd int
	if legacy {
		b = strconv.AppendUint(b, t.Limit.Count, 10)
		limitEnd = len(b)
		b = strconv.AppendUint(b, t.Remaining, 10)
		remainingEnd = len(b)
		b = strconv.AppendInt(b, l.now().Add(t.Reset).Add(time.Second-1).Unix(), 10)
	}
	v := string(b)
	n := 0
	if draft {
		n += 2
	}
	if legacy {
		n += 3
	}
	if n == 0 {
		return
	}
	slots := make([]string, n)
	if draft {
		addHeader(h, canonPolicy, l.policy, slots[0:1:1])
		addHeader(h, canonRateLimit, v[:rateLimitEnd], slots[1:2:2])
		slots = slots[2:]
	}
	if legacy {
		slots[0], slots[1], slots[2] = v[rateLimitEnd:limitEnd], v[limitEnd:remainingEnd], v[remainingEnd:]
		h[canonLimit] = slots[0:1:1]
		h[canonRemaining] = slots[1:2:2]
		h[canonReset] = slots[2:3:3]
	}
}

// addHeader is h.Add(k, v) for a canonical k, using slot (of length 1) as the new
// value slice when h has no value for k yet.
func addHeader(h http.Header, k, v string, slot []string) {
	if old := h[k]; len(old) > 0 {
		h[k] = append(old, v)
		return
	}
	slot[0] = v
	h[k] = slot
}
