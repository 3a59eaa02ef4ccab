package rediscache

import (
	"encoding/binary"
	"errors"
)

// An invalidation message, published on the channel after each write or delete:
//
//	byte     format version (1)
//	16 bytes origin instance id
//	byte     flags (1: clear the whole local cache)
//	uvarint  number of keys, then per key: uvarint length, bytes
type message struct {
	origin [16]byte
	all    bool
	keys   []string
}

const (
	messageVersion = 1
	maxMessageKeys = 1 << 16
)

var errBadMessage = errors.New("rediscache: malformed invalidation message")

func (m *message) marshal() []byte {
	n := 1 + 16 + 1 + binary.MaxVarintLen64
	for _, k := range m.keys {
		n += binary.MaxVarintLen64 + len(k)
	}
	b := make([]byte, 0, n)
	b = append(b, messageVersion)
	b = append(b, m.origin[:]...)
	flags := byte(0)
	if m.all {
		flags = 1
	}
	b = append(b, flags)
	b = binary.AppendUvarint(b, uint64(len(m.keys)))
	for _, k := range m.keys {
		b = binary.AppendUvarint(b, uint64(len(k)))
		b = append(b, k...)
	}
	return b
}

func parseMessage(b []byte) (message, error) {
	var m message
	if len(b) < 1+16+1+1 || b[0] != messageVersion || b[17] > 1 {
		return m, errBadMessage
	}
	copy(m.origin[:], b[1:17])
	m.all = b[17] == 1
	b = b[18:]
	n, k := binary.Uvarint(b)
	if k <= 0 || n > maxMessageKeys || n > uint64(len(b)) {
		return m, errBadMessage
	}
	b = b[k:]
	m.keys = make([]string, 0, n)
	for range n {
		l, k := binary.Uvarint(b)
		if k <= 0 || l > uint64(len(b)-k) {
			return m, errBadMessage
		}
		m.keys = append(m.keys, string(b[k:k+int(l)]))
		b = b[k+int(l):]
	}
	if len(b) != 0 {
		return m, errBadMessage
	}
	return m, nil
}
