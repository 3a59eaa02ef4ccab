package cache

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/singleflight"
)

// Config configures a [Cache]. The zero value is ready to use.
type Config struct {
	// Namespace prefixes every key the cache writes to its store; default "cache:". Two
	// caches sharing a store with different namespaces never see each other's entries.
	Namespace string
	// Tiers holds the TTL of each tier; zero fields mean 10 min / 2 h / 24 h / 7 days.
	Tiers Tiers
	// Codec encodes values other than []byte and string; default encoding/json.
	Codec Codec
	// Jitter shortens each TTL by a random fraction in [0, Jitter) so entries written
	// together do not expire together; default 0.1 (up to 10%). Negative disables jitter;
	// 1 or more is an error.
	Jitter float64
	// StaleWhileRevalidate is how long after its TTL an entry is still served by
	// [GetOrLoad] while one background load refreshes it; default 1 minute. Negative
	// disables.
	StaleWhileRevalidate time.Duration
	// StaleIfError is how long after its TTL an entry is still served by [GetOrLoad] when
	// the loader fails; default 10 minutes. Negative disables.
	StaleIfError time.Duration
	// LoadTimeout bounds each load started by [GetOrLoad]; the load runs detached from the
	// cancellation of the caller that started it, so one impatient caller does not fail the
	// others waiting for the same key. Default 30 seconds.
	LoadTimeout time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Logger receives store errors (which the cache otherwise absorbs) and loader panics;
	// default discard.
	Logger *slog.Logger
	// Registerer receives the cache's metrics (harden_cache_*); default none.
	Registerer prometheus.Registerer
}

// Defaults of [Config], [Tiers], [HTTPConfig] and [MemoryConfig].
const (
	DefaultNamespace            = "cache:"
	DefaultJitter               = 0.1
	DefaultStaleWhileRevalidate = time.Minute
	DefaultStaleIfError         = 10 * time.Minute
	DefaultLoadTimeout          = 30 * time.Second

	DefaultShortTTL     = 10 * time.Minute
	DefaultMediumTTL    = 2 * time.Hour
	DefaultLongTTL      = 24 * time.Hour
	DefaultPermanentTTL = 7 * 24 * time.Hour

	DefaultMaxBodyBytes = 1 << 20
	DefaultMaxBytes     = 64 << 20
)

// Cache stores typed values in a [Store] under tiered TTLs, with tags, stampede-proof
// loading ([GetOrLoad]) and stale windows. It is safe for concurrent use.
type Cache struct {
	store     Store
	ns        string
	tiers     Tiers
	codec     Codec
	jitter    float64
	swr, sie  time.Duration
	loadTO    time.Duration
	tagTTL    time.Duration
	now       func() time.Time
	log       *slog.Logger
	m         *metrics
	group     singleflight.Group
	refreshes sync.Map // full key -> struct{}
	wg        sync.WaitGroup
	closed    atomic.Bool
}

// New returns a Cache over store.
func New(store Store, cfg Config) (*Cache, error) {
	if store == nil {
		return nil, fmt.Errorf("%w: nil store", ErrInvalidConfig)
	}
	tiers, err := cfg.Tiers.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &Cache{
		store:  store,
		ns:     cfg.Namespace,
		tiers:  tiers,
		codec:  cfg.Codec,
		jitter: cfg.Jitter,
		swr:    cfg.StaleWhileRevalidate,
		sie:    cfg.StaleIfError,
		loadTO: cfg.LoadTimeout,
		now:    cfg.Now,
		log:    cfg.Logger,
	}
	if c.ns == "" {
		c.ns = DefaultNamespace
	}
	if c.codec == nil {
		c.codec = jsonCodec{}
	}
	switch {
	case c.jitter >= 1:
		return nil, fmt.Errorf("%w: Jitter %v must be below 1", ErrInvalidConfig, c.jitter)
	case c.jitter < 0:
		c.jitter = 0
	case c.jitter == 0:
		c.jitter = DefaultJitter
	}
	c.swr = durationOr(c.swr, DefaultStaleWhileRevalidate)
	c.sie = durationOr(c.sie, DefaultStaleIfError)
	switch {
	case c.loadTO < 0:
		return nil, fmt.Errorf("%w: LoadTimeout is negative", ErrInvalidConfig)
	case c.loadTO == 0:
		c.loadTO = DefaultLoadTimeout
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.tagTTL = 2*max(tiers.Short, tiers.Medium, tiers.Long, tiers.Permanent) + max(c.swr, c.sie)
	if c.m, err = newMetrics(cfg.Registerer); err != nil {
		return nil, err
	}
	if n, ok := store.(evictionNotifier); ok {
		n.NotifyEvictions(func(_ string, value []byte) {
			c.m.evictions.inc(tierOf(value))
		})
	}
	return c, nil
}

// durationOr maps 0 to def and a negative value to 0 (disabled).
func durationOr(d, def time.Duration) time.Duration {
	switch {
	case d == 0:
		return def
	case d < 0:
		return 0
	}
	return d
}

// Option adjusts one Set or GetOrLoad.
type Option func(*options)

type options struct {
	tags []string
}

// Tags attaches tags to the entry: [Cache.InvalidateTags] with any of them makes the entry
// unreachable at once, on every instance sharing the store, without scanning keys.
func Tags(tags ...string) Option {
	return func(o *options) { o.tags = append(o.tags, tags...) }
}

func collect(opts []Option) (options, error) {
	var o options
	for _, f := range opts {
		f(&o)
	}
	if len(o.tags) > maxTags {
		return o, fmt.Errorf("%w: %d tags, at most %d", ErrInvalidConfig, len(o.tags), maxTags)
	}
	for _, t := range o.tags {
		if t == "" || len(t) > maxTagLen {
			return o, fmt.Errorf("%w: tag %q must have 1 to %d bytes", ErrInvalidConfig, t, maxTagLen)
		}
	}
	return o, nil
}

// TTL returns the configured TTL of tier (before jitter).
func (c *Cache) TTL(tier Tier) time.Duration { return c.tiers.TTL(tier) }

// Store returns the store the cache writes to.
func (c *Cache) Store() Store { return c.store }

func (c *Cache) key(k string) string    { return c.ns + "k:" + k }
func (c *Cache) tagKey(t string) string { return c.ns + "t:" + t }

// jittered returns ttl shortened by a random fraction below Jitter.
func (c *Cache) jittered(ttl time.Duration) time.Duration {
	if c.jitter == 0 {
		return ttl
	}
	return ttl - time.Duration(rand.Float64()*c.jitter*float64(ttl))
}

// Set stores v under key for the TTL of tier (with jitter). []byte and string values are
// stored as they are, anything else through the codec.
func (c *Cache) Set(ctx context.Context, key string, v any, tier Tier, opts ...Option) error {
	if !tier.valid() {
		return fmt.Errorf("%w: unknown tier %d", ErrInvalidConfig, tier)
	}
	o, err := collect(opts)
	if err != nil {
		return err
	}
	payload, err := encodeValue(c.codec, v)
	if err != nil {
		return err
	}
	return c.write(ctx, key, tier, payload, o.tags)
}

func (c *Cache) write(ctx context.Context, key string, tier Tier, payload []byte, tags []string) error {
	if c.closed.Load() {
		return ErrClosed
	}
	tv, err := c.tagVersions(ctx, tags, true)
	if err != nil {
		return err
	}
	return c.writeTTL(ctx, key, tier, c.jittered(c.tiers.TTL(tier)), payload, tv)
}

// writeTTL stores payload fresh for ttl, kept for the stale windows beyond.
func (c *Cache) writeTTL(ctx context.Context, key string, tier Tier, ttl time.Duration, payload []byte, tv []tagVersion) error {
	now := c.now()
	e := envelope{tier: tier, storedAt: now.UnixNano(), freshUntil: now.Add(ttl).UnixNano(), tags: tv, payload: payload}
	buf := e.appendTo(make([]byte, 0, e.size()))
	return c.store.Set(ctx, c.key(key), buf, ttl+max(c.swr, c.sie))
}

// state of a looked-up entry.
type state uint8

const (
	stMiss  state = iota
	stFresh       // within its TTL
	stSWR         // past its TTL, within StaleWhileRevalidate
	stSIE         // past its TTL and StaleWhileRevalidate, within StaleIfError
)

// lookup reads key and classifies it. Store and decoding errors are returned with stMiss.
func (c *Cache) lookup(ctx context.Context, key string) (envelope, state, error) {
	raw, ok, err := c.store.Get(ctx, c.key(key))
	if err != nil || !ok {
		return envelope{}, stMiss, err
	}
	e, err := decodeEnvelope(raw)
	if err != nil {
		return e, stMiss, fmt.Errorf("%w: key %q", err, key)
	}
	st, err := c.classify(ctx, &e, c.tagKeys(e.tags), c.now().UnixNano())
	return e, st, err
}

// tagKeys returns the store keys of the versions of tags.
func (c *Cache) tagKeys(tags []tagVersion) []string {
	if len(tags) == 0 {
		return nil
	}
	keys := make([]string, len(tags))
	for i, t := range tags {
		keys[i] = c.tagKey(t.name)
	}
	return keys
}

// classify returns the state of e at now (Unix nanoseconds): a miss when one of its tags
// has a version other than the one e was written under (tagKeys[i] holds the store key of
// e.tags[i]), else by its freshness. A store error reading a tag is returned with stMiss.
func (c *Cache) classify(ctx context.Context, e *envelope, tagKeys []string, now int64) (state, error) {
	current := true
	for i, t := range e.tags {
		b, ok, err := c.store.Get(ctx, tagKeys[i])
		if err != nil {
			return stMiss, err
		}
		var v uint64 // a tag without a version reads as 0, which no entry carries
		if ok && len(b) == 8 {
			v = beUint64(b)
		}
		current = current && v == t.version
	}
	if !current {
		return stMiss, nil
	}
	past := now - e.freshUntil
	switch {
	case past < 0:
		return stFresh, nil
	case past < int64(c.swr):
		return stSWR, nil
	case past < int64(c.sie):
		return stSIE, nil
	}
	return stMiss, nil
}

// Get decodes the fresh value under key into dst (a pointer; *[]byte and *string receive
// the bytes as stored). It reports whether a fresh value was found; entries past their TTL
// count as missing. Store errors are returned.
func (c *Cache) Get(ctx context.Context, key string, dst any) (bool, error) {
	e, st, err := c.lookup(ctx, key)
	if st != stFresh {
		c.m.misses.inc(0)
		return false, err
	}
	if err := decodeValue(c.codec, e.payload, dst); err != nil {
		return false, err
	}
	c.m.hits.inc(e.tier)
	return true, nil
}

// Delete removes keys.
func (c *Cache) Delete(ctx context.Context, keys ...string) error {
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = c.key(k)
	}
	return c.store.Delete(ctx, full...)
}

// InvalidateTags makes every entry carrying any of tags unreachable. It costs one store
// write per tag whatever the number of entries: each tag has a version, entries record the
// versions they were written under, and a read that finds an older version is a miss.
func (c *Cache) InvalidateTags(ctx context.Context, tags ...string) error {
	var errs []error
	for _, t := range tags {
		if err := c.store.Set(ctx, c.tagKey(t), versionBytes(rand.Uint64()), c.tagTTL); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// tagVersions returns the current version of each tag. With create, a tag without a version
// gets one; without, it reads as version 0, which no entry carries.
func (c *Cache) tagVersions(ctx context.Context, tags []string, create bool) ([]tagVersion, error) {
	if len(tags) == 0 {
		return nil, nil
	}
	out := make([]tagVersion, len(tags))
	for i, t := range tags {
		out[i].name = t
		b, ok, err := c.store.Get(ctx, c.tagKey(t))
		if err != nil {
			return nil, err
		}
		if ok && len(b) == 8 {
			out[i].version = beUint64(b)
			continue
		}
		if !create {
			continue
		}
		v := rand.Uint64() | 1 // never 0
		if err := c.store.Set(ctx, c.tagKey(t), versionBytes(v), c.tagTTL); err != nil {
			return nil, err
		}
		out[i].version = v
	}
	return out, nil
}

// versionBytes encodes a tag version; versions are odd, so never 0.
func versionBytes(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v|1) }

func beUint64(b []byte) uint64 { return binary.BigEndian.Uint64(b) }

// Close waits for background refreshes to finish; afterwards Set and GetOrLoad stop
// writing. It does not close the store.
func (c *Cache) Close() error {
	c.closed.Store(true)
	c.wg.Wait()
	return nil
}
