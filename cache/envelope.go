package cache

import (
	"encoding/binary"
	"math"
	"time"
)

// An envelope wraps every value a Cache stores:
//
//	byte    format version (1)
//	byte    tier
//	int64   stored-at, Unix nanoseconds (big endian)
//	int64   fresh-until, Unix nanoseconds
//	uvarint number of tags, then per tag: uvarint length, name, uint64 version
//	rest    payload
type envelope struct {
	tier       Tier
	storedAt   int64
	freshUntil int64
	tags       []tagVersion
	payload    []byte
}

type tagVersion struct {
	name    string
	version uint64
}

const (
	envelopeVersion = 1
	envelopeHeader  = 2 + 8 + 8
	maxTags         = 64
	maxTagLen       = 256
)

func (e *envelope) appendTo(b []byte) []byte {
	b = append(b, envelopeVersion, byte(e.tier))
	b = binary.BigEndian.AppendUint64(b, uint64(e.storedAt))
	b = binary.BigEndian.AppendUint64(b, uint64(e.freshUntil))
	b = binary.AppendUvarint(b, uint64(len(e.tags)))
	for _, t := range e.tags {
		b = binary.AppendUvarint(b, uint64(len(t.name)))
		b = append(b, t.name...)
		b = binary.BigEndian.AppendUint64(b, t.version)
	}
	return append(b, e.payload...)
}

func (e *envelope) size() int {
	n := envelopeHeader + binary.MaxVarintLen64 + len(e.payload)
	for _, t := range e.tags {
		n += binary.MaxVarintLen64 + len(t.name) + 8
	}
	return n
}

// decodeEnvelope parses b; the payload aliases b.
func decodeEnvelope(b []byte) (envelope, error) {
	var e envelope
	if len(b) < envelopeHeader+1 || b[0] != envelopeVersion {
		return e, ErrCorrupt
	}
	e.tier = Tier(b[1])
	e.storedAt = int64(binary.BigEndian.Uint64(b[2:]))
	e.freshUntil = int64(binary.BigEndian.Uint64(b[10:]))
	b = b[envelopeHeader:]
	n, k := binary.Uvarint(b)
	if k <= 0 || n > maxTags {
		return e, ErrCorrupt
	}
	b = b[k:]
	if n > 0 {
		e.tags = make([]tagVersion, 0, n)
	}
	for range n {
		l, k := binary.Uvarint(b)
		if k <= 0 || l > maxTagLen || uint64(len(b)-k) < l+8 {
			return e, ErrCorrupt
		}
		b = b[k:]
		name := string(b[:l])
		b = b[l:]
		e.tags = append(e.tags, tagVersion{name: name, version: binary.BigEndian.Uint64(b)})
		b = b[8:]
	}
	e.payload = b
	return e, nil
}

// tierOf reads the tier of an encoded envelope without decoding the rest (0 when b is
// not an envelope).
func tierOf(b []byte) Tier {
	if len(b) < envelopeHeader || b[0] != envelopeVersion {
		return 0
	}
	return Tier(b[1])
}

// age is the time since the entry was stored, at now (Unix nanoseconds).
func (e *envelope) age(now int64) time.Duration { return subNanos(now, e.storedAt) }

// subNanos returns a-b (Unix nanoseconds) as time.Time.Sub does: saturated at the
// smallest and largest Duration instead of overflowing.
func subNanos(a, b int64) time.Duration {
	d := a - b
	if (a^b) < 0 && (a^d) < 0 { // operands of opposite signs and a result of b's sign
		if a < 0 {
			return math.MinInt64
		}
		return math.MaxInt64
	}
	return time.Duration(d)
}
