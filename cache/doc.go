// Package cache makes caching something a handler gets right by default: named TTL tiers,
// a bounded in-memory store, stampede-proof loading with stale windows, tag invalidation
// without key scans, and an HTTP response cache.
//
// # Pieces
//
//   - [Store] is the byte-level backend: [Memory] here (bounded by bytes or entries,
//     exact TTLs, otter's frequency-aware eviction), rediscache.Store and the two-level
//     rediscache.TwoLevel (memory in front of Redis with pub/sub invalidation) in package
//     cache/rediscache. Package cache/storetest is the conformance suite they all pass.
//   - [Cache] adds a namespace, a [Codec] (JSON by default; []byte and string are stored
//     as they are), tiers and tags on top of a Store.
//   - [GetOrLoad] is the call handlers use: one load per key however many callers miss at
//     once, TTL jitter, stale-while-revalidate and stale-if-error.
//   - [HTTPCache] caches GET/HEAD responses (RFC 9111 subset, ETag/304, Vary, Cache-Status).
//
// # Defaults
//
// Tiers: [Short] 10 min, [Medium] 2 h, [Long] 24 h, [Permanent] 7 days — the seed's
// CACHE_TTL_SHORT|MEDIUM|LONG|PERMANENT (600/7200/86400/604800 s); [ParseTiers] reads those
// strings. Jitter shortens each TTL by up to 10%; stale-while-revalidate 1 min;
// stale-if-error 10 min; loads time out after 30 s; namespace "cache:". Memory holds
// 64 MiB. HTTPCache stores bodies up to 1 MiB, in the Short tier unless configured, and
// lets requests with Authorization bypass it. A response cache hit costs one allocation:
// stored entries are decoded once and found again by the request's fields as sent (no
// normalising and no SHA-256 on a hit), and Age and Cache-Status are formatted at most
// twice a second.
//
// # Tags
//
// Each tag has a version kept in the store. An entry records the versions of its tags when
// written; a read that finds a newer version treats the entry as missing.
// [Cache.InvalidateTags] writes one new version per tag, so invalidating "formulas" costs
// one write whatever the number of entries, and on a two-level store it reaches every
// instance through the same invalidation message as any other write.
//
// # Usage
//
//	store, _ := cache.NewMemory(cache.MemoryConfig{})
//	c, _ := cache.New(store, cache.Config{Tiers: tiers, Registerer: prometheus.DefaultRegisterer})
//	list, err := cache.GetOrLoad(ctx, c, "formulas", cache.Long, loadFormulas, cache.Tags("formulas"))
//
//	formulas, _ := cache.NewHTTP(c, cache.HTTPConfig{Tier: cache.Long, Tags: []string{"formulas"}})
//	mux.Handle("GET /api/formulas", formulas.Handler(listFormulas))
//	// in the admin PUT handler, after the update:
//	_ = c.InvalidateTags(ctx, "formulas")
//
// # Metrics
//
// With Config.Registerer: harden_cache_hits_total, harden_cache_misses_total,
// harden_cache_stale_served_total, harden_cache_load_errors_total and
// harden_cache_evictions_total, labelled by tier; harden_cache_store_errors_total by op.
package cache
