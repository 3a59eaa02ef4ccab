package rediscache

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nexus-reussite/harden/cache"
	"github.com/redis/go-redis/v9"
)

// ErrUnavailable wraps every error of a Redis round trip.
var ErrUnavailable = errors.New("rediscache: redis unavailable")

// StoreConfig configures a [Store].
type StoreConfig struct {
	// Prefix is prepended to every key, for example "billing:". It is required and should
	// name the service: two services on one Redis (even on different DB numbers) must
	// not use the same prefix, or they read and overwrite each other's entries.
	Prefix string
}

// Store is a [cache.Store] on Redis (any go-redis v9 UniversalClient: single node,
// sentinel or cluster). TTLs are sent in milliseconds (PX); a positive TTL below one
// millisecond is rounded up to one millisecond, the finest Redis keeps.
type Store struct {
	client redis.UniversalClient
	prefix string
}

var _ cache.Store = (*Store)(nil)

// NewStore returns a Store using client, which the caller keeps owning.
func NewStore(client redis.UniversalClient, cfg StoreConfig) (*Store, error) {
	if client == nil {
		return nil, fmt.Errorf("%w: nil redis client", cache.ErrInvalidConfig)
	}
	if err := checkPrefix("StoreConfig.Prefix", cfg.Prefix); err != nil {
		return nil, err
	}
	return &Store{client: client, prefix: cfg.Prefix}, nil
}

// checkPrefix refuses an empty key prefix.
func checkPrefix(field, prefix string) error {
	if prefix == "" {
		return fmt.Errorf("%w: %s is empty: set a prefix naming this service (for example %q), "+
			"so that services sharing the Redis server never read, overwrite or invalidate each other's entries",
			cache.ErrInvalidConfig, field, "billing:")
	}
	return nil
}

func unavailable(op string, err error) error {
	return fmt.Errorf("%w: %s: %w", ErrUnavailable, op, err)
}

// Get implements [cache.Store].
func (s *Store) Get(ctx context.Context, key string) ([]byte, bool, error) {
	b, err := s.client.Get(ctx, s.prefix+key).Bytes()
	switch {
	case errors.Is(err, redis.Nil):
		return nil, false, nil
	case err != nil:
		return nil, false, unavailable("get", err)
	}
	return b, true, nil
}

// GetWithTTL returns the value under key and its remaining TTL (0: no expiry) in one round
// trip.
func (s *Store) GetWithTTL(ctx context.Context, key string) ([]byte, time.Duration, bool, error) {
	var get *redis.StringCmd
	var pttl *redis.DurationCmd
	_, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		get = p.Get(ctx, s.prefix+key)
		pttl = p.PTTL(ctx, s.prefix+key)
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, 0, false, unavailable("get", err)
	}
	b, err := get.Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, 0, false, nil
	}
	if err != nil {
		return nil, 0, false, unavailable("get", err)
	}
	ttl := pttl.Val()
	switch {
	case ttl == -1: // no expiry
		ttl = 0
	case ttl < 0: // expired between the two commands
		return nil, 0, false, nil
	}
	return b, ttl, true, nil
}

// redisTTL maps a store TTL to what SET takes: 0 keeps no expiry, sub-millisecond
// positive values become one millisecond.
func redisTTL(ttl time.Duration) time.Duration {
	switch {
	case ttl <= 0:
		return 0
	case ttl < time.Millisecond:
		return time.Millisecond
	}
	return ttl
}

// Set implements [cache.Store].
func (s *Store) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := s.client.Set(ctx, s.prefix+key, value, redisTTL(ttl)).Err(); err != nil {
		return unavailable("set", err)
	}
	return nil
}

// Delete implements [cache.Store].
func (s *Store) Delete(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	// One DEL per key in a single pipeline: one round trip, and no CROSSSLOT error on a
	// cluster.
	_, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range keys {
			p.Del(ctx, s.prefix+k)
		}
		return nil
	})
	if err != nil {
		return unavailable("del", err)
	}
	return nil
}
