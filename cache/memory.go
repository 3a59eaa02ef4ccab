package cache

import (
	"context"
	"fmt"
	"math"
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"
)

// entryOverhead is the bookkeeping cost counted for each entry on top of its key and value.
const entryOverhead = 64

// MemoryConfig configures a [Memory] store.
type MemoryConfig struct {
	// MaxBytes bounds the sum of key, value and a fixed 64-byte overhead per entry; default
	// 64 MiB (when MaxEntries is zero as well). A single entry larger than MaxBytes/8 is
	// refused with ErrTooLarge so one value cannot flush the whole store.
	MaxBytes int64
	// MaxEntries bounds the number of entries instead of their size; default 0 (bound by
	// bytes). Setting both MaxBytes and MaxEntries is an error.
	MaxEntries int
}

// Memory is an in-process [Store] bounded by bytes or entries. Eviction is otter's
// adaptive W-TinyLFU/S3-FIFO policy, which keeps frequently used entries over merely recent
// ones; expiry is exact to the nanosecond of the process clock (time.Now, so
// testing/synctest drives it). Get does not allocate.
//
// A Memory runs a background clean-up goroutine; Close stops it.
type Memory struct {
	c        *otter.Cache[string, memEntry]
	maxEntry int64
	onEvict  atomic.Pointer[func(key string, value []byte)]
	closed   atomic.Bool
}

type memEntry struct {
	b   []byte
	ttl time.Duration
}

var (
	_ Store            = (*Memory)(nil)
	_ evictionNotifier = (*Memory)(nil)
)

// NewMemory returns a bounded in-memory store.
func NewMemory(cfg MemoryConfig) (*Memory, error) {
	switch {
	case cfg.MaxBytes < 0:
		return nil, fmt.Errorf("%w: MaxBytes is negative", ErrInvalidConfig)
	case cfg.MaxEntries < 0:
		return nil, fmt.Errorf("%w: MaxEntries is negative", ErrInvalidConfig)
	case cfg.MaxBytes > 0 && cfg.MaxEntries > 0:
		return nil, fmt.Errorf("%w: set MaxBytes or MaxEntries, not both", ErrInvalidConfig)
	}
	m := &Memory{maxEntry: math.MaxUint32}
	o := &otter.Options[string, memEntry]{
		ExpiryCalculator: otter.ExpiryWritingFunc(func(e otter.Entry[string, memEntry]) time.Duration {
			if e.Value.ttl <= 0 {
				return maxTTLBound
			}
			return e.Value.ttl
		}),
		OnDeletion: func(e otter.DeletionEvent[string, memEntry]) {
			if !e.WasEvicted() {
				return
			}
			if fn := m.onEvict.Load(); fn != nil {
				(*fn)(e.Key, e.Value.b)
			}
		},
	}
	if cfg.MaxEntries > 0 {
		o.MaximumSize = cfg.MaxEntries
	} else {
		if cfg.MaxBytes == 0 {
			cfg.MaxBytes = DefaultMaxBytes
		}
		o.MaximumWeight = uint64(cfg.MaxBytes)
		o.Weigher = func(key string, v memEntry) uint32 { return uint32(weight(key, v.b)) }
		m.maxEntry = min(cfg.MaxBytes/8, math.MaxUint32)
	}
	c, err := otter.New(o)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidConfig, err)
	}
	m.c = c
	return m, nil
}

func weight(key string, value []byte) int64 {
	return int64(len(key)) + int64(len(value)) + entryOverhead
}

// Get returns the value stored under key. The slice is shared with the store: do not
// modify it.
func (m *Memory) Get(_ context.Context, key string) ([]byte, bool, error) {
	e, ok := m.c.GetIfPresent(key)
	if !ok {
		return nil, false, nil
	}
	return e.b, true, nil
}

// Set stores a copy of value under key for ttl (ttl <= 0: no expiry).
func (m *Memory) Set(_ context.Context, key string, value []byte, ttl time.Duration) error {
	if m.closed.Load() {
		return ErrClosed
	}
	if weight(key, value) > m.maxEntry {
		m.c.Invalidate(key)
		return fmt.Errorf("%w: %d bytes under %q", ErrTooLarge, len(value), key)
	}
	if ttl > maxTTLBound {
		ttl = maxTTLBound
	}
	b := make([]byte, len(value))
	copy(b, value)
	m.c.Set(key, memEntry{b: b, ttl: ttl})
	return nil
}

// Delete removes keys.
func (m *Memory) Delete(_ context.Context, keys ...string) error {
	for _, k := range keys {
		m.c.Invalidate(k)
	}
	return nil
}

// Clear removes every entry.
func (m *Memory) Clear() { m.c.InvalidateAll() }

// Len returns the approximate number of entries.
func (m *Memory) Len() int { return m.c.EstimatedSize() }

// NotifyEvictions makes the store call fn for each entry it evicts for room or expiry
// (nil: none); it replaces any earlier hook. fn must be fast and must not call the store.
func (m *Memory) NotifyEvictions(fn func(key string, value []byte)) {
	if fn == nil {
		m.onEvict.Store(nil)
		return
	}
	m.onEvict.Store(&fn)
}

// Close stops the background clean-up goroutine and empties the store. Set after Close
// returns ErrClosed; Get finds nothing.
func (m *Memory) Close() error {
	if m.closed.Swap(true) {
		return nil
	}
	m.c.InvalidateAll()
	m.c.StopAllGoroutines()
	return nil
}
