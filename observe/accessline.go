package observe

// This file holds the one hand-written encoder of the package: the access line as
// slog.JSONHandler writes it, appended directly to a buffer.
//
// Why: the access line is written for every request. Through slog, the Observer builds
// a record of a dozen attributes and the JSON handler walks them; encoding the known
// fields directly takes a fraction of that time and no allocation. Formatting the time
// is the largest part of what remains, so the text of the current second is kept and
// only the fraction is written per line. Measured with the whole-stack benchmark
// (benchmarks/stack, StackRatios), the harden stack is faster with this encoder than
// through slog.JSONHandler by more than the 5 % such code must earn, and the time cache
// is part of that (benchmarks/README.md has the figures).
//
// Reference: slog.JSONHandler itself. FuzzAccessLine and TestAccessLineMatchesSlog
// check that appendJSON writes the bytes it writes for the same line, and
// TestJSONHandlerAccessLinesEqualSlog compares whole Observers logging both ways.

import (
	"log/slog"
	"math"
	"net/netip"
	"strconv"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// accessMessage is the message of every access log line.
const accessMessage = "http request"

// accessLine holds the fields of one access log line. The slog path turns it into
// attributes; NewJSONLogger's path encodes it with appendJSON.
type accessLine struct {
	time       time.Time
	level      slog.Level
	method     string
	route      string
	path       string
	status     int
	bytes      int64
	durationMS float64
	requestID  string
	traceID    string // omitted when empty
	clientIP   netip.Addr
	userAgent  string
	aborted    bool // the handler panicked with http.ErrAbortHandler
}

// attrs appends the line's attributes to dst in log order.
func (a *accessLine) attrs(dst []slog.Attr) []slog.Attr {
	dst = append(dst,
		slog.String("method", a.method),
		slog.String("route", a.route),
		slog.String("path", a.path),
		slog.Int("status", a.status),
		slog.Int64("bytes", a.bytes),
		slog.Float64("duration_ms", a.durationMS),
		slog.String("request_id", a.requestID),
	)
	if a.traceID != "" {
		dst = append(dst, slog.String("trace_id", a.traceID))
	}
	dst = append(dst,
		slog.String("client_ip", a.clientIP.String()),
		slog.String("user_agent", a.userAgent),
	)
	if a.aborted {
		dst = append(dst, slog.Bool("aborted", true))
	}
	return dst
}

// encodable reports whether appendJSON writes what slog.JSONHandler would: slog leaves
// out a zero time and writes an error instead of a time outside the years [0, 9999].
func (a *accessLine) encodable() bool {
	y := a.time.Year()
	return !a.time.IsZero() && y >= 0 && y < 10000
}

// appendJSON appends the line as slog.JSONHandler (no ReplaceAttr, no AddSource, no
// groups) writes it, newline included, with the time formatted by clock.
func (a *accessLine) appendJSON(b []byte, clock *secondCache) []byte {
	b = append(b, `{"time":"`...)
	b = clock.appendRFC3339Nano(b, a.time)
	b = append(b, `","level":`...)
	b = appendJSONString(b, a.level.String())
	b = append(b, `,"msg":"`+accessMessage+`","method":`...)
	b = appendJSONString(b, a.method)
	b = append(b, `,"route":`...)
	b = appendJSONString(b, a.route)
	b = append(b, `,"path":`...)
	b = appendJSONString(b, a.path)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(a.status), 10)
	b = append(b, `,"bytes":`...)
	b = strconv.AppendInt(b, a.bytes, 10)
	b = append(b, `,"duration_ms":`...)
	b = appendJSONFloat(b, a.durationMS)
	b = append(b, `,"request_id":`...)
	b = appendJSONString(b, a.requestID)
	if a.traceID != "" {
		b = append(b, `,"trace_id":`...)
		b = appendJSONString(b, a.traceID)
	}
	// An address's text is digits, hex letters, dots and colons (the resolver drops
	// zones): nothing to escape.
	b = append(b, `,"client_ip":"`...)
	if a.clientIP.IsValid() {
		b = a.clientIP.AppendTo(b)
	} else {
		b = append(b, a.clientIP.String()...)
	}
	b = append(b, `","user_agent":`...)
	b = appendJSONString(b, a.userAgent)
	if a.aborted {
		b = append(b, `,"aborted":true`...)
	}
	return append(b, "}\n"...)
}

// appendJSONFloat appends f as encoding/json writes a float64 (slog's JSON handler defers
// to it): the shortest representation, in exponent form below 1e-6 and from 1e21, with
// a one-digit negative exponent written without its leading zero. NaN and infinities,
// which JSON cannot hold, never occur in a duration.
func appendJSONFloat(b []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// appendJSONString appends s quoted and escaped as slog's JSON handler does: like
// encoding/json without HTML escaping, invalid UTF-8 as U+FFFD, and U+2028 and U+2029
// escaped.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

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
