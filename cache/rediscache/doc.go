// Package rediscache is the Redis backend of package cache: [Store], a cache.Store on any
// go-redis v9 client, and [TwoLevel], an in-process cache.Memory in front of Redis with
// cross-instance invalidation over Redis pub/sub.
//
// Both require a key prefix naming the service (Config.Prefix, StoreConfig.Prefix):
// every key they write starts with it, and so does TwoLevel's invalidation channel
// (Prefix followed by "cache:invalidate"), because pub/sub channels are shared by every DB
// number of a Redis server. Two services on one Redis therefore never share entries or
// invalidation messages unless they are given the same prefix. Inside the prefix, the
// cache.Cache namespace ("cache:" by default) separates the cache's keys from the
// service's others.
//
// With TwoLevel, an update or a tag invalidation on one instance reaches the local level of
// every other instance in one pub/sub hop; an instance that misses messages serves a
// replaced value for at most LocalTTL (default 1 minute), and clears its local level when
// its subscription comes back. When Redis is down the store degrades to local memory and
// misses (callers never see an error) and recovers by itself: Redis is retried every
// RetryInterval (default 1 s), each call waits at most OperationTimeout (default 500 ms),
// and keys written during the outage are deleted from Redis and announced to the other
// instances once it answers again.
//
// Defaults: local level 16 MiB, up to 10000 keys remembered during an outage. The
// TwoLevel example shows the setup.
package rediscache
