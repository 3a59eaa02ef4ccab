package observe

import (
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
)

// validRequestID reports whether an incoming request ID may be reused: 1 to max bytes of
// letters, digits and "-_.:/+=@". Anything else (spaces, quotes, control characters,
// non-ASCII) could forge or break log lines and is replaced by a generated ID.
func validRequestID(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isIDChar(s[i]) {
			return false
		}
	}
	return true
}

func isIDChar(c byte) bool {
	switch {
	case c >= '0' && c <= '9', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		return true
	}
	switch c {
	case '-', '_', '.', ':', '/', '+', '=', '@':
		return true
	}
	return false
}

// newRequestID returns 32 lowercase hex characters from a 128-bit value drawn from the
// runtime's ChaCha8 generator (math/rand/v2), which is safe for concurrent use.
func newRequestID() string {
	var raw [16]byte
	binary.LittleEndian.PutUint64(raw[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(raw[8:], rand.Uint64())
	return hex.EncodeToString(raw[:])
}

// traceParent is the parsed W3C trace context header.
type traceParent struct {
	traceID string // 32 lowercase hex characters
	spanID  string // 16 lowercase hex characters
	sampled bool
}

// parseTraceparent parses a W3C traceparent header ("00-<trace-id>-<parent-id>-<flags>").
// Identifiers are lowercase hex and must not be all zeros.
func parseTraceparent(s string) (traceParent, bool) {
	if !traceparentLayout(s) {
		return traceParent{}, false
	}
	tid, sid, flags := s[3:35], s[36:52], s[53:55]
	if !isLowerHex(tid) || !isLowerHex(sid) || !isLowerHex(flags) || allZero(tid) || allZero(sid) {
		return traceParent{}, false
	}
	// The sampled flag is bit 0 of the flags byte, that is of its second hex digit.
	low := flags[1] - '0'
	if flags[1] >= 'a' {
		low = flags[1] - 'a' + 10
	}
	return traceParent{traceID: tid, spanID: sid, sampled: low&1 == 1}, true
}

// traceparentLayout checks the version and the dashes of a traceparent header, following
// the Trace Context rules: version ff is invalid, version 00 is exactly 55 characters,
// later versions may append fields after a dash.
func traceparentLayout(s string) bool {
	if len(s) < 55 || s[2] != '-' || s[35] != '-' || s[52] != '-' {
		return false
	}
	switch version := s[0:2]; {
	case !isLowerHex(version) || version == "ff":
		return false
	case version == "00":
		return len(s) == 55
	}
	return len(s) == 55 || s[55] == '-'
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func allZero(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '0' {
			return false
		}
	}
	return true
}
