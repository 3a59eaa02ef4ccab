package ratelimit

import (
	"context"
	"fmt"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"
)

// MemoryConfig configures a MemoryStore.
type MemoryConfig struct {
	// MaxKeys bounds the number of keys held. When a new key arrives and its shard is
	// full, keys whose windows have all ended are swept first; if none has, an arbitrary
	// key of that shard is evicted (and counted by Evictions). Default 262144 (about
	// 64 MiB with three-limit rules).
	MaxKeys int
	// SweepInterval is how often a shard, when a new key is added to it, drops the keys
	// whose windows have all ended. Sweeping runs inline, so the store has no goroutine
	// and needs no Close. Default 1 minute.
	SweepInterval time.Duration
	// Now is the clock. Default time.Now. A Limiter whose Config.Now is the same func
	// value (time.Now for both by default) counts X-RateLimit-Reset from the instant
	// the store decided at, and reads the clock once per request.
	Now func() time.Time
}

const memShards = 64

// MemoryStore is a Store held in process memory: counters of all limits of a key under
// one lock, in a sharded map of bounded size. It is safe for concurrent use, allocates
// nothing when the key is known, and implements both strategies.
type MemoryStore struct {
	seed      maphash.Seed
	now       func() time.Time
	perShard  int
	sweep     int64
	evictions atomic.Uint64
	shards    [memShards]memShard
}

type memShard struct {
	mu        sync.RWMutex
	m         map[string]*memEntry
	lastSweep int64
	_         [32]byte // keep neighbouring shard locks off one cache line
}

type memEntry struct {
	mu       sync.Mutex
	dead     bool // removed from the map; a taker holding it must look again
	strategy Strategy
	n        int
	expires  int64 // Unix ns after which every window has ended
	periods  [MaxLimits]time.Duration
	states   [MaxLimits]WindowState
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns a MemoryStore.
func NewMemoryStore(cfg MemoryConfig) (*MemoryStore, error) {
	if cfg.MaxKeys < 0 || cfg.SweepInterval < 0 {
		return nil, fmt.Errorf("%w: MaxKeys and SweepInterval must not be negative", ErrInvalidConfig)
	}
	if cfg.MaxKeys == 0 {
		cfg.MaxKeys = 1 << 18
	}
	if cfg.SweepInterval == 0 {
		cfg.SweepInterval = time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &MemoryStore{
		seed:     maphash.MakeSeed(),
		now:      cfg.Now,
		perShard: max(1, cfg.MaxKeys/memShards),
		sweep:    int64(cfg.SweepInterval),
	}
	now := cfg.Now().UnixNano()
	for i := range s.shards {
		s.shards[i].m = make(map[string]*memEntry)
		s.shards[i].lastSweep = now
	}
	return s, nil
}

// Take implements Store.
func (s *MemoryStore) Take(_ context.Context, key string, rule Rule, strategy Strategy, cost uint64) (Decision, error) {
	return s.take(key, nil, rule, strategy, cost)
}

// takeBytes is Take for the key held in kb, which it does not retain: a key already
// present costs no allocation, a new one is copied into a string.
func (s *MemoryStore) takeBytes(kb []byte, rule Rule, strategy Strategy, cost uint64) (Decision, error) {
	return s.take("", kb, rule, strategy, cost)
}

// take is Take for the key in kb when kb is not nil, else for key.
func (s *MemoryStore) take(key string, kb []byte, rule Rule, strategy Strategy, cost uint64) (d Decision, err error) {
	if len(rule) == 0 || len(rule) > MaxLimits || !strategy.valid() {
		return d, fmt.Errorf("%w: %d limits, strategy %v", ErrInvalidRule, len(rule), strategy)
	}
	var hash uint64
	if kb != nil {
		hash = maphash.Bytes(s.seed, kb) // equal to maphash.String of the same bytes
	} else {
		hash = maphash.String(s.seed, key)
	}
	sh := &s.shards[hash%memShards]
	for {
		now := s.now().UnixNano()
		var e *memEntry
		sh.mu.RLock()
		if kb != nil {
			e = sh.m[string(kb)] // a lookup by converted bytes does not allocate
		} else {
			e = sh.m[key]
		}
		sh.mu.RUnlock()
		if e == nil {
			if kb != nil {
				key, kb = string(kb), nil
			}
			e = s.insert(sh, key, now)
		}
		e.mu.Lock()
		if e.dead {
			e.mu.Unlock()
			continue
		}
		if !e.matches(rule, strategy) {
			e.reset(rule, strategy)
		}
		if exp := evaluate(&d, rule, strategy, e.states[:e.n], now, cost); d.Allowed {
			e.expires = exp
		}
		d.at = now
		e.mu.Unlock()
		return d, nil
	}
}

// Len returns the number of keys held.
func (s *MemoryStore) Len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		n += len(sh.m)
		sh.mu.RUnlock()
	}
	return n
}

// Evictions returns the number of live keys evicted because the store was full.
func (s *MemoryStore) Evictions() uint64 { return s.evictions.Load() }

// Sweep drops every key whose windows have all ended, and returns how many it dropped.
// Shards also sweep themselves every SweepInterval as keys are added.
func (s *MemoryStore) Sweep() int {
	now := s.now().UnixNano()
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += sh.sweepLocked(now)
		sh.mu.Unlock()
	}
	return n
}

func (s *MemoryStore) insert(sh *memShard, key string, now int64) *memEntry {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e := sh.m[key]; e != nil {
		return e
	}
	if now-sh.lastSweep >= s.sweep || len(sh.m) >= s.perShard {
		sh.sweepLocked(now)
	}
	if len(sh.m) >= s.perShard {
		for k, old := range sh.m {
			old.mu.Lock()
			old.dead = true
			old.mu.Unlock()
			delete(sh.m, k)
			s.evictions.Add(1)
			break
		}
	}
	e := &memEntry{}
	sh.m[key] = e
	return e
}

func (sh *memShard) sweepLocked(now int64) int {
	sh.lastSweep = now
	n := 0
	for k, e := range sh.m {
		e.mu.Lock()
		if e.expires <= now {
			e.dead = true
			delete(sh.m, k)
			n++
		}
		e.mu.Unlock()
	}
	return n
}

func (e *memEntry) matches(rule Rule, strategy Strategy) bool {
	if e.n != len(rule) || e.strategy != strategy {
		return false
	}
	for i, l := range rule {
		if e.periods[i] != l.Period {
			return false
		}
	}
	return true
}

func (e *memEntry) reset(rule Rule, strategy Strategy) {
	e.n, e.strategy = len(rule), strategy
	for i, l := range rule {
		e.periods[i] = l.Period
		e.states[i] = WindowState{}
	}
}
