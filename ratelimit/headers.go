package ratelimit

import (
	"net/http"
	"strconv"
	"time"
	"unsafe"
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
// All values formatted here share one allocation with the backing array of the new
// header slices: one allocation in every mode that sets headers, unless many limits
// with long names make the values outgrow the largest block (see holdValues).
// X-RateLimit-Reset is counted from the instant the memory store decided at when the
// limiter's clock is the store's, and from a reading of the limiter's clock otherwise.
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
	var t *LimitStatus
	if legacy {
		t = &LimitStatus{}
		if i := d.tightest(); i >= 0 {
			t = &d.Limits[i]
		}
		if len(h) > 0 {
			if prev := h[canonRemaining]; len(prev) > 0 && prev[0] != "" {
				if n, err := strconv.ParseUint(prev[0], 10, 64); err == nil && n <= t.Remaining {
					legacy = false // a limiter before this one reported a tighter limit
				}
			}
		}
	}
	var limitEnd, remainingEnd int
	if legacy {
		b = strconv.AppendUint(b, t.Limit.Count, 10)
		limitEnd = len(b)
		b = strconv.AppendUint(b, t.Remaining, 10)
		remainingEnd = len(b)
		b = strconv.AppendInt(b, l.resetAt(d, t.Reset), 10)
	}
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
	v, slots := holdValues(b, n)
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

// resetAt is the X-RateLimit-Reset value of a limit whose window is whole again after
// reset: that instant as a Unix time, rounded up to the second. It reads the limiter's
// clock unless d carries the instant the limiter's memory store decided at and that
// store's clock is the limiter's, in which case reset is counted from the same instant
// the store counted it from.
func (l *Limiter) resetAt(d *Decision, reset time.Duration) int64 {
	var now time.Time
	if d.at != 0 && l.memClock {
		now = time.Unix(0, d.at)
	} else {
		now = l.now()
	}
	return now.Add(reset).Add(time.Second - 1).Unix()
}

// sameFunc reports whether a and b are one func value: the same function, and for a
// closure the same captured variables. Two references to a top-level function such as
// time.Now are one value. Equal funcs built apart (two identical closures) are reported
// as different, which only costs a clock reading.
func sameFunc(a, b func() time.Time) bool {
	return *(*unsafe.Pointer)(unsafe.Pointer(&a)) == *(*unsafe.Pointer)(unsafe.Pointer(&b))
}

// addHeader is h.Add(k, v) for a canonical k, using slot (of length 1) as the new
// value slice when h has no value for k yet.
func addHeader(h http.Header, k, v string, slot []string) {
	if len(h) > 0 {
		if old := h[k]; len(old) > 0 {
			h[k] = append(old, v)
			return
		}
	}
	slot[0] = v
	h[k] = slot
}

// headerBlock is the single allocation behind the headers writeHeaders sets: S is an
// array of strings, the backing array of the new header slices, and B an array of
// bytes holding the formatted values that those strings point into.
type headerBlock[S, B any] struct {
	slots S
	bytes B
}

// holdValues copies b into a new allocation that also holds n (2, 3 or 5) string
// slots, and returns the copy as a string with the n slots. The bytes are never
// written again, so the string is immutable as strings must be. Each block fills a
// malloc size class (the size noted); values too long for the largest take two
// allocations.
func holdValues(b []byte, n int) (string, []string) {
	l := len(b)
	switch n {
	case 2:
		switch {
		case l <= 48:
			return fillBlock(new(headerBlock[[2]string, [48]byte]), b, n) // 80
		case l <= 80:
			return fillBlock(new(headerBlock[[2]string, [80]byte]), b, n) // 112
		case l <= 112:
			return fillBlock(new(headerBlock[[2]string, [112]byte]), b, n) // 144
		case l <= 160:
			return fillBlock(new(headerBlock[[2]string, [160]byte]), b, n) // 192
		case l <= 224:
			return fillBlock(new(headerBlock[[2]string, [224]byte]), b, n) // 256
		case l <= 352:
			return fillBlock(new(headerBlock[[2]string, [352]byte]), b, n) // 384
		case l <= 480:
			return fillBlock(new(headerBlock[[2]string, [480]byte]), b, n) // 512
		}
	case 3:
		switch {
		case l <= 32:
			return fillBlock(new(headerBlock[[3]string, [32]byte]), b, n) // 80
		case l <= 64:
			return fillBlock(new(headerBlock[[3]string, [64]byte]), b, n) // 112
		}
	case 5:
		switch {
		case l <= 48:
			return fillBlock(new(headerBlock[[5]string, [48]byte]), b, n) // 128
		case l <= 96:
			return fillBlock(new(headerBlock[[5]string, [96]byte]), b, n) // 176
		case l <= 144:
			return fillBlock(new(headerBlock[[5]string, [144]byte]), b, n) // 224
		case l <= 176:
			return fillBlock(new(headerBlock[[5]string, [176]byte]), b, n) // 256
		case l <= 240:
			return fillBlock(new(headerBlock[[5]string, [240]byte]), b, n) // 320
		case l <= 304:
			return fillBlock(new(headerBlock[[5]string, [304]byte]), b, n) // 384
		case l <= 432:
			return fillBlock(new(headerBlock[[5]string, [432]byte]), b, n) // 512
		}
	}
	return string(b), make([]string, n)
}

// fillBlock is holdValues in p, whose S is an array of n strings and B an array of at
// least len(b) bytes.
func fillBlock[S, B any](p *headerBlock[S, B], b []byte, n int) (string, []string) {
	bytes := unsafe.Slice((*byte)(unsafe.Pointer(&p.bytes)), unsafe.Sizeof(p.bytes))
	copy(bytes, b)
	slots := unsafe.Slice((*string)(unsafe.Pointer(&p.slots)), unsafe.Sizeof(p.slots)/unsafe.Sizeof(""))
	return unsafe.String(&bytes[0], len(b)), slots[:n:n]
}
