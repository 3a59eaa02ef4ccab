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

// writeHeaders sets the headers of mode for d. The draft fields are added, so limiters
// stacked on one route each report their policies; the legacy fields describe the
// tightest limit and are replaced only by a tighter one.
func (l *Limiter) writeHeaders(h http.Header, d *Decision) {
	if l.headers == HeadersNone {
		return
	}
	if l.headers != HeadersLegacy {
		h.Add(HeaderPolicy, l.policy)
		var b []byte
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
		h.Add(HeaderRateLimit, string(b))
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
