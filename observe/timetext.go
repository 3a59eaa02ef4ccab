package observe

import (
	"sync/atomic"
	"time"
)

// secondCache formats times as time.RFC3339Nano, reusing the text of the current second:
// a server logs many lines per second, and formatting the date, the clock and the zone
// is most of the cost of a line. It is safe for concurrent use.
type secondCache struct {
	last atomic.Pointer[secondText]
}

// secondText is the RFC 3339 text of one second in one location, split around the
// place where the fraction goes. It is immutable once stored.
type secondText struct {
	unix int64
	loc  *time.Location
	date string // "2006-01-02T15:04:05"
	zone string // "Z" or "-07:00"
}

// appendRFC3339Nano appends t.Round(0).AppendFormat(b, time.RFC3339Nano) for a year in
// [0, 9999].
func (c *secondCache) appendRFC3339Nano(b []byte, t time.Time) []byte {
	unix, loc := t.Unix(), t.Location()
	s := c.last.Load()
	if s == nil || s.unix != unix || s.loc != loc {
		text := t.Format(time.RFC3339)
		const dateLen = len("2006-01-02T15:04:05")
		s = &secondText{unix: unix, loc: loc, date: text[:dateLen], zone: text[dateLen:]}
		c.last.Store(s)
	}
	b = append(b, s.date...)
	if ns := t.Nanosecond(); ns != 0 {
		var frac [10]byte
		frac[0] = '.'
		for i := 9; i >= 1; i-- {
			frac[i] = byte('0' + ns%10)
			ns /= 10
		}
		n := len(frac)
		for frac[n-1] == '0' {
			n--
		}
		b = append(b, frac[:n]...)
	}
	return append(b, s.zone...)
}
