package cache

import (
	"context"
	"errors"
	"time"
)

// Store is the byte-level backend of a [Cache]: values are opaque byte slices kept under
// string keys for a time-to-live. Implementations are safe for concurrent use.
//
// Contract (checked by the cache/storetest conformance suite):
//   - Get after a successful Set of the same key returns the value just written (read your
//     own writes), until the TTL elapses, the key is deleted or the store evicts it.
//   - ttl > 0 is honoured without rounding beyond the backend's resolution; ttl <= 0 means
//     the entry does not expire (it may still be evicted).
//   - Get returns (nil, false, nil) for a missing or expired key; an error only when the
//     backend could not answer. The returned slice must not be modified by the caller, nor
//     by the store afterwards (a later Set stores a new slice).
//   - Set copies value (the caller may reuse its slice afterwards).
//   - Delete of a missing key is not an error.
//
// A store that evicts entries (for room or expiry) may also have a method
// NotifyEvictions(fn func(key string, value []byte)): [New] then registers fn to count
// evictions by tier. fn must be fast and must not call the store; a later call replaces
// the hook.
type Store interface {
	Get(ctx context.Context, key string) (value []byte, ok bool, err error)
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	Delete(ctx context.Context, keys ...string) error
}

// evictionNotifier is the optional method of a Store that reports evictions.
type evictionNotifier interface {
	NotifyEvictions(fn func(key string, value []byte))
}

// Sentinel errors.
var (
	// ErrInvalidConfig wraps every configuration error returned by a constructor.
	ErrInvalidConfig = errors.New("cache: invalid config")
	// ErrTooLarge is returned by a store asked to keep a value larger than it can hold.
	ErrTooLarge = errors.New("cache: value too large")
	// ErrCodec wraps encoding and decoding failures of a [Codec].
	ErrCodec = errors.New("cache: codec")
	// ErrCorrupt is returned when a stored entry cannot be decoded.
	ErrCorrupt = errors.New("cache: corrupt entry")
	// ErrClosed is returned by operations on a closed store or cache.
	ErrClosed = errors.New("cache: closed")
)
