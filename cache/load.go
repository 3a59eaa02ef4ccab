package cache

import (
	"context"
	"fmt"
)

// LoaderPanicError is returned to every caller waiting on a load whose loader panicked.
type LoaderPanicError struct {
	Key   string
	Value any
}

func (e *LoaderPanicError) Error() string {
	return fmt.Sprintf("cache: loader for %q panicked: %v", e.Key, e.Value)
}

// GetOrLoad returns the value cached under key, loading and storing it for the TTL of tier
// when it is missing:
//
//   - Concurrent misses of one key share a single call of load (singleflight): 1000
//     callers, one load. A caller whose ctx ends stops waiting; the load goes on for the
//     others, bounded by Config.LoadTimeout.
//   - Within StaleWhileRevalidate after the TTL, the stale value is returned at once and
//     one background load refreshes it.
//   - Within StaleIfError after the TTL, load is tried; if it fails the stale value is
//     returned instead of the error.
//   - Store failures are logged and absorbed: the value is loaded as on a miss.
//
// []byte and string values are stored as they are, other types through the codec; each
// caller decodes its own copy.
func GetOrLoad[T any](ctx context.Context, c *Cache, key string, tier Tier, load func(context.Context) (T, error), opts ...Option) (T, error) {
	var zero T
	if !tier.valid() {
		return zero, fmt.Errorf("%w: unknown tier %d", ErrInvalidConfig, tier)
	}
	o, err := collect(opts)
	if err != nil {
		return zero, err
	}
	e, st, err := c.lookup(ctx, key)
	if err != nil {
		c.m.storeGet.Inc()
		c.log.WarnContext(ctx, "cache read failed", "key", key, "err", err)
	}
	var stale T
	if st != stMiss {
		if err := decodeValue(c.codec, e.payload, &stale); err != nil {
			c.log.WarnContext(ctx, "cache entry does not decode", "key", key, "err", err)
			st = stMiss
		}
	}
	fn := func(ctx context.Context) ([]byte, error) {
		v, err := load(ctx)
		if err != nil {
			return nil, err
		}
		return encodeValue(c.codec, v)
	}
	switch st {
	case stFresh:
		c.m.hits.inc(tier)
		return stale, nil
	case stSWR:
		c.m.stale.inc(tier)
		c.refresh(ctx, key, tier, fn, o.tags)
		return stale, nil
	}
	payload, err := c.load(ctx, key, tier, fn, o.tags)
	if err != nil {
		if st == stSIE && ctx.Err() == nil {
			c.m.stale.inc(tier)
			return stale, nil
		}
		c.m.misses.inc(tier)
		return zero, err
	}
	c.m.misses.inc(tier)
	var v T
	if err := decodeValue(c.codec, payload, &v); err != nil {
		return zero, err
	}
	return v, nil
}

type loadFunc func(context.Context) ([]byte, error)

// load runs fn once per key at a time and stores its result.
func (c *Cache) load(ctx context.Context, key string, tier Tier, fn loadFunc, tags []string) ([]byte, error) {
	ch := c.group.DoChan(c.key(key), func() (any, error) {
		return c.run(context.WithoutCancel(ctx), key, tier, fn, tags)
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.([]byte), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// run calls fn under LoadTimeout, turns a panic into an error and stores the result.
func (c *Cache) run(ctx context.Context, key string, tier Tier, fn loadFunc, tags []string) (payload []byte, err error) {
	ctx, cancel := context.WithTimeout(ctx, c.loadTO)
	defer cancel()
	defer func() {
		if v := recover(); v != nil {
			c.log.ErrorContext(ctx, "cache loader panicked", "key", key, "panic", v)
			payload, err = nil, &LoaderPanicError{Key: key, Value: v}
		}
		if err != nil {
			c.m.loadErrors.inc(tier)
		}
	}()
	payload, err = fn(ctx)
	if err != nil {
		return nil, err
	}
	if werr := c.write(ctx, key, tier, payload, tags); werr != nil && werr != ErrClosed {
		c.m.storeSet.Inc()
		c.log.WarnContext(ctx, "cache write failed", "key", key, "err", werr)
	}
	return payload, nil
}

// refresh starts one background load of key unless one is running or the cache is closed.
func (c *Cache) refresh(ctx context.Context, key string, tier Tier, fn loadFunc, tags []string) {
	full := c.key(key)
	if c.closed.Load() {
		return
	}
	if _, running := c.refreshes.LoadOrStore(full, struct{}{}); running {
		return
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer c.refreshes.Delete(full)
		_, _, _ = c.group.Do(full, func() (any, error) {
			return c.run(context.WithoutCancel(ctx), key, tier, fn, tags)
		})
	}()
}
