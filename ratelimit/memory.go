package ratelimit

import (
	"context"
	"fmt"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nexus-reussite/harden/ratelimit/store"
)

// memoryConfig configures a memoryStore.
type memoryConfig struct {
	// MaxKeys bounds the number of keys held. Default 262144.
	MaxKeys int
	// SweepInterval is how often a shard drops the keys whose windows have all ended.
	// Default 1 minute.
	SweepInterval time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// memShards is the number of independently locked parts of a memoryStore.
const memShards = 64

// memoryStore keeps counters in process memory: the windows of all limits of a key under
// one lock, in a sharded map of bounded size. When a new key arrives and its shard is
// full, keys whose windows have all ended are swept first; if none has, an arbitrary key
// of that shard is evicted. Shards also drop ended keys every sweep interval as keys are
// added; sweeping runs inline, so the store has no goroutine and needs no Close. It is
// safe for concurrent use and allocates nothing when the key is known.
type memoryStore struct {
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
}

type memEntry struct {
	mu       sync.Mutex
	dead     bool // removed from the map; a taker holding it must look again
	strategy store.Strategy
	n        int
	expires  int64 // Unix ns after which every window has ended
	periods  [store.MaxLimits]time.Duration
	states   [store.MaxLimits]store.WindowState
}

var _ store.Store = (*memoryStore)(nil)

func newMemoryStore(cfg memoryConfig) (*memoryStore, error) {
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
	s := &memoryStore{
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

// Take implements store.Store.
func (s *memoryStore) Take(_ context.Context, key string, rule store.Rule, strategy store.Strategy, cost uint64) (store.Decision, error) {
	var d store.Decision
	_, err := s.take(&d, key, nil, rule, strategy, cost)
	return d, err
}

// takeBytes is Take into *d for the key held in kb, which it does not retain: a key
// already present costs no allocation, a new one is copied into a string. It returns
// the instant of the store's clock, in Unix nanoseconds, at which it decided.
func (s *memoryStore) takeBytes(d *store.Decision, kb []byte, rule store.Rule, strategy store.Strategy, cost uint64) (int64, error) {
	return s.take(d, "", kb, rule, strategy, cost)
}

// take is takeBytes for the key in kb when kb is not nil, else for key.
func (s *memoryStore) take(d *store.Decision, key string, kb []byte, rule store.Rule, strategy store.Strategy, cost uint64) (int64, error) {
	if len(rule) == 0 || len(rule) > store.MaxLimits || strategy > store.SlidingWindow {
		return 0, fmt.Errorf("%w: %d limits, strategy %v", ErrInvalidRule, len(rule), strategy)
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
		if e.dead { // removed from the map meanwhile: look again
			e.mu.Unlock()
			continue
		}
		if !e.matches(rule, strategy) {
			e.reset(rule, strategy)
		}
		if expires := store.Evaluate(d, rule, strategy, e.states[:e.n], now, cost); d.Allowed {
			e.expires = expires
		}
		e.mu.Unlock()
		return now, nil
	}
}

// len returns the number of keys held.
func (s *memoryStore) len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		n += len(sh.m)
		sh.mu.RUnlock()
	}
	return n
}

// sweepAll drops every key whose windows have all ended, and returns how many it dropped.
func (s *memoryStore) sweepAll() int {
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

func (s *memoryStore) insert(sh *memShard, key string, now int64) *memEntry {
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

func (e *memEntry) matches(rule store.Rule, strategy store.Strategy) bool {
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

func (e *memEntry) reset(rule store.Rule, strategy store.Strategy) {
	e.n, e.strategy = len(rule), strategy
	for i, l := range rule {
		e.periods[i] = l.Period
		e.states[i] = store.WindowState{}
	}
}
