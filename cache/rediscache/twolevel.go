package rediscache

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nexus-reussite/harden/cache"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// Config configures a [TwoLevel] cache store.
type Config struct {
	// Local is the in-process first level. Default: a cache.Memory of LocalMaxBytes, owned
	// (and closed) by the TwoLevel.
	Local *cache.Memory
	// LocalMaxBytes bounds the default Local store; default 16 MiB. Ignored when Local is
	// set.
	LocalMaxBytes int64
	// LocalTTL caps how long an entry lives in Local. It bounds staleness on instances
	// that miss an invalidation message; default 1 minute.
	LocalTTL time.Duration
	// Prefix is prepended to every Redis key, for example "billing:". It is required and
	// should name the service: two services on one Redis must not use the same prefix, or
	// they read, overwrite and invalidate each other's entries.
	Prefix string
	// Channel is the pub/sub channel carrying invalidations; default Prefix followed by
	// "cache:invalidate". Pub/sub channels are shared by every DB number of a Redis
	// server, so a channel set here should carry the prefix too. Instances sharing a
	// dataset must share the channel.
	Channel string
	// OperationTimeout bounds each Redis round trip; default 500 ms.
	OperationTimeout time.Duration
	// RetryInterval is how long Redis is left alone after a failure (reads then come from
	// Local or miss, writes go to Local and are remembered); default 1 second.
	RetryInterval time.Duration
	// MaxPending bounds the keys written or deleted while Redis was unreachable, deleted
	// from Redis and announced to other instances on recovery; default 10000. Beyond it,
	// recovery tells every instance to clear its Local store instead.
	MaxPending int
	// Logger receives Redis failures and recoveries; default discard.
	Logger *slog.Logger
	// Registerer receives harden_cache_redis_errors_total and
	// harden_cache_invalidations_received_total; default none.
	Registerer prometheus.Registerer
}

// Defaults of [Config].
const (
	DefaultLocalMaxBytes    = 16 << 20
	DefaultLocalTTL         = time.Minute
	DefaultOperationTimeout = 500 * time.Millisecond
	DefaultRetryInterval    = time.Second
	DefaultMaxPending       = 10000
)

// TwoLevel is a [cache.Store] with an in-process first level in front of Redis:
//
//   - Reads are served from Local when present, else from Redis (and kept in Local for
//     at most LocalTTL and never beyond the Redis TTL).
//   - Writes and deletes go to Redis together with an invalidation message on Channel
//     (one round trip); every other instance drops those keys from its Local store on
//     receipt. A read racing with an invalidation is not kept locally.
//   - When Redis fails, nothing fails for the caller: reads fall back to Local or miss,
//     writes land in Local only and their keys are remembered. When the subscription comes
//     back, every instance clears its Local store (it may have missed messages) and the
//     remembered keys are deleted from Redis and announced, so no instance serves a value
//     older than the outage's writes.
//
// Methods never return an error once constructed; failures are logged and counted.
type TwoLevel struct {
	redis    *Store
	client   redis.UniversalClient
	local    *cache.Memory
	ownLocal bool
	localTTL time.Duration
	channel  string
	opTO     time.Duration
	retry    time.Duration
	maxPend  int
	log      *slog.Logger
	id       [16]byte

	errors   *prometheus.CounterVec
	received prometheus.Counter

	downUntil atomic.Int64  // Unix nanoseconds before which Redis is skipped
	gen       atomic.Uint64 // bumped by every invalidation received

	pmu      sync.Mutex
	pending  map[string]struct{}
	overflow bool
	replay   atomic.Bool

	subscribed   chan struct{}
	subscribeOne sync.Once
	ctx          context.Context
	cancel       context.CancelFunc
	pubsub       *redis.PubSub
	wg           sync.WaitGroup
	closeOnce    sync.Once
}

var _ cache.Store = (*TwoLevel)(nil)

// NewTwoLevel returns a two-level store over client (which the caller keeps owning) and
// starts listening for invalidations. Redis need not be reachable yet. Close releases it.
func NewTwoLevel(client redis.UniversalClient, cfg Config) (*TwoLevel, error) {
	if client == nil {
		return nil, fmt.Errorf("%w: nil redis client", cache.ErrInvalidConfig)
	}
	for name, d := range map[string]time.Duration{"LocalTTL": cfg.LocalTTL, "OperationTimeout": cfg.OperationTimeout, "RetryInterval": cfg.RetryInterval} {
		if d < 0 {
			return nil, fmt.Errorf("%w: %s is negative", cache.ErrInvalidConfig, name)
		}
	}
	if cfg.MaxPending < 0 || cfg.LocalMaxBytes < 0 {
		return nil, fmt.Errorf("%w: MaxPending and LocalMaxBytes must not be negative", cache.ErrInvalidConfig)
	}
	if err := checkPrefix("Config.Prefix", cfg.Prefix); err != nil {
		return nil, err
	}
	t := &TwoLevel{
		client:     client,
		local:      cfg.Local,
		localTTL:   or(cfg.LocalTTL, DefaultLocalTTL),
		channel:    cfg.Channel,
		opTO:       or(cfg.OperationTimeout, DefaultOperationTimeout),
		retry:      or(cfg.RetryInterval, DefaultRetryInterval),
		maxPend:    cfg.MaxPending,
		log:        cfg.Logger,
		pending:    map[string]struct{}{},
		subscribed: make(chan struct{}),
	}
	t.redis = &Store{client: client, prefix: cfg.Prefix}
	if t.channel == "" {
		t.channel = cfg.Prefix + "cache:invalidate"
	}
	if t.maxPend == 0 {
		t.maxPend = DefaultMaxPending
	}
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	t.errors = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "harden", Subsystem: "cache",
		Name: "redis_errors_total", Help: "Redis operations of the two-level cache that failed (absorbed)."}, []string{"op"})
	t.received = prometheus.NewCounter(prometheus.CounterOpts{Namespace: "harden", Subsystem: "cache",
		Name: "invalidations_received_total", Help: "Invalidation messages received from other instances."})
	if cfg.Registerer != nil {
		for _, c := range []prometheus.Collector{t.errors, t.received} {
			if err := cfg.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("%w: %w", cache.ErrInvalidConfig, err)
			}
		}
	}
	if t.local == nil {
		m, err := cache.NewMemory(cache.MemoryConfig{MaxBytes: or(cfg.LocalMaxBytes, DefaultLocalMaxBytes)})
		if err != nil {
			return nil, err
		}
		t.local, t.ownLocal = m, true
	}
	_, _ = rand.Read(t.id[:])
	t.ctx, t.cancel = context.WithCancel(context.Background())
	t.pubsub = client.Subscribe(t.ctx)
	t.wg.Add(1)
	go t.listen()
	return t, nil
}

func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Local returns the first-level store.
func (t *TwoLevel) Local() *cache.Memory { return t.local }

// WaitSubscribed blocks until the invalidation subscription is active (or ctx ends).
func (t *TwoLevel) WaitSubscribed(ctx context.Context) error {
	select {
	case <-t.subscribed:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// NotifyEvictions makes the Local store call fn for each entry it evicts; [cache.New]
// uses it to count evictions by tier.
func (t *TwoLevel) NotifyEvictions(fn func(key string, value []byte)) { t.local.NotifyEvictions(fn) }

func (t *TwoLevel) available() bool { return time.Now().UnixNano() >= t.downUntil.Load() }

// failed records a Redis failure and leaves Redis alone for RetryInterval.
func (t *TwoLevel) failed(op string, err error) {
	t.errors.WithLabelValues(op).Inc()
	if t.downUntil.Swap(time.Now().Add(t.retry).UnixNano()) < time.Now().UnixNano() {
		t.log.Warn("redis unavailable, cache serving from local memory", "op", op, "err", err)
	}
}

func (t *TwoLevel) opCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), t.opTO)
}

func (t *TwoLevel) localTTLFor(ttl time.Duration) time.Duration {
	if ttl <= 0 || ttl > t.localTTL {
		return t.localTTL
	}
	return ttl
}

// Get implements [cache.Store]; it never returns an error.
func (t *TwoLevel) Get(ctx context.Context, key string) ([]byte, bool, error) {
	if b, ok, _ := t.local.Get(ctx, key); ok {
		return b, true, nil
	}
	if !t.available() || t.isPending(key) {
		return nil, false, nil
	}
	gen := t.gen.Load()
	octx, cancel := t.opCtx(ctx)
	b, ttl, ok, err := t.redis.GetWithTTL(octx, key)
	cancel()
	if err != nil {
		t.failed("get", err)
		return nil, false, nil
	}
	if !ok {
		return nil, false, nil
	}
	if t.gen.Load() == gen {
		_ = t.local.Set(ctx, key, b, t.localTTLFor(ttl))
	}
	t.kick()
	return b, true, nil
}

// Set implements [cache.Store]; it never returns an error.
func (t *TwoLevel) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	t.gen.Add(1) // a read of the old value in flight must not land in Local
	if err := t.local.Set(ctx, key, value, t.localTTLFor(ttl)); err != nil {
		t.log.Debug("value not kept locally", "key", key, "err", err)
	}
	t.remote(ctx, "set", []string{key}, func(p redis.Pipeliner, octx context.Context) {
		p.Set(octx, t.redis.prefix+key, value, redisTTL(ttl))
	})
	return nil
}

// Delete implements [cache.Store]; it never returns an error.
func (t *TwoLevel) Delete(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	t.gen.Add(1)
	_ = t.local.Delete(ctx, keys...)
	t.remote(ctx, "del", keys, func(p redis.Pipeliner, octx context.Context) {
		for _, k := range keys {
			p.Del(octx, t.redis.prefix+k)
		}
	})
	return nil
}

// remote runs cmds and publishes the invalidation of keys in one pipeline. When Redis is
// skipped or fails, the keys are remembered for recovery.
func (t *TwoLevel) remote(ctx context.Context, op string, keys []string, cmds func(redis.Pipeliner, context.Context)) {
	if !t.available() {
		t.remember(keys)
		return
	}
	octx, cancel := t.opCtx(ctx)
	defer cancel()
	msg := message{origin: t.id, keys: keys}
	_, err := t.client.Pipelined(octx, func(p redis.Pipeliner) error {
		cmds(p, octx)
		p.Publish(octx, t.channel, msg.marshal())
		return nil
	})
	if err != nil {
		t.failed(op, err)
		t.remember(keys)
		return
	}
	t.kick()
}

func (t *TwoLevel) remember(keys []string) {
	t.pmu.Lock()
	defer t.pmu.Unlock()
	for _, k := range keys {
		if len(t.pending) >= t.maxPend {
			t.overflow = true
			return
		}
		t.pending[k] = struct{}{}
	}
}

func (t *TwoLevel) isPending(key string) bool {
	t.pmu.Lock()
	defer t.pmu.Unlock()
	if t.overflow {
		return true
	}
	_, ok := t.pending[key]
	return ok
}

// kick starts replaying remembered keys if there are any and no replay runs.
func (t *TwoLevel) kick() {
	t.pmu.Lock()
	empty := len(t.pending) == 0 && !t.overflow
	t.pmu.Unlock()
	if empty || !t.replay.CompareAndSwap(false, true) {
		return
	}
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		defer t.replay.Store(false)
		t.flushPending()
	}()
}

// flushPending deletes the remembered keys from Redis and announces them (or, after an
// overflow, tells every instance to clear its Local store).
func (t *TwoLevel) flushPending() {
	t.pmu.Lock()
	keys := make([]string, 0, len(t.pending))
	for k := range t.pending {
		keys = append(keys, k)
	}
	overflow := t.overflow
	t.pmu.Unlock()
	if len(keys) == 0 && !overflow {
		return
	}
	ctx, cancel := context.WithTimeout(t.ctx, 4*t.opTO)
	defer cancel()
	msg := message{origin: t.id, keys: keys, all: overflow}
	_, err := t.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range keys {
			p.Del(ctx, t.redis.prefix+k)
		}
		p.Publish(ctx, t.channel, msg.marshal())
		return nil
	})
	if err != nil {
		t.failed("replay", err)
		return
	}
	t.pmu.Lock()
	for _, k := range keys {
		delete(t.pending, k)
	}
	if overflow {
		t.overflow = false
	}
	t.pmu.Unlock()
	t.log.Info("redis back, writes made during the outage announced", "keys", len(keys), "cleared_all", overflow)
}

// listen receives invalidations until Close. Every subscription that follows a failure
// clears Local, since messages may have been missed while disconnected: a resubscription,
// and the first subscription when Redis was down at construction.
func (t *TwoLevel) listen() {
	defer t.wg.Done()
	first, missed := true, false
	if err := t.pubsub.Subscribe(t.ctx, t.channel); err != nil && t.ctx.Err() == nil {
		t.failed("subscribe", err)
		missed = true
	}
	for {
		msg, err := t.pubsub.Receive(t.ctx)
		if t.ctx.Err() != nil {
			return
		}
		if err != nil {
			t.failed("subscribe", err)
			missed = true
			select {
			case <-t.ctx.Done():
				return
			case <-time.After(t.retry):
			}
			continue
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind != "subscribe" || m.Channel != t.channel {
				continue
			}
			if !first || missed {
				t.gen.Add(1)
				t.local.Clear()
				t.log.Info("invalidation subscription restored, local cache cleared")
			}
			first, missed = false, false
			t.downUntil.Store(0)
			t.subscribeOne.Do(func() { close(t.subscribed) })
			t.kick()
		case *redis.Message:
			t.apply(m.Payload)
		}
	}
}

// apply handles one invalidation message from another instance.
func (t *TwoLevel) apply(payload string) {
	m, err := parseMessage([]byte(payload))
	if err != nil {
		t.log.Warn("ignoring malformed invalidation message", "err", err)
		return
	}
	if m.origin == t.id {
		return
	}
	t.received.Inc()
	t.gen.Add(1)
	if m.all {
		t.local.Clear()
		return
	}
	_ = t.local.Delete(context.Background(), m.keys...)
}

// Close stops listening, waits for a running replay, and closes Local if it owns it. The
// Redis client is left open.
func (t *TwoLevel) Close() error {
	var err error
	t.closeOnce.Do(func() {
		t.cancel()
		err = t.pubsub.Close()
		t.wg.Wait()
		if t.ownLocal {
			_ = t.local.Close()
		}
		if errors.Is(err, redis.ErrClosed) {
			err = nil
		}
	})
	return err
}
