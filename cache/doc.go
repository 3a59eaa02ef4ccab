// Package cache makes caching something a handler gets right by default: named TTL tiers,
// a bounded in-memory store, stampede-proof loading with stale windows, tag invalidation
// without key scans, and an HTTP response cache that never answers one user with another's
// response.
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
//   - [HTTPCache] caches the GET and HEAD responses of the routes it wraps (RFC 9111
//     subset, ETag/304, Vary, Cache-Status).
//
// # Defaults
//
// Tiers: [Short] 10 minutes, [Medium] 2 hours, [Long] 24 hours, [Permanent] 7 days.
// Jitter shortens each TTL by up to 10%; stale-while-revalidate 1 minute; stale-if-error
// 10 minutes; loads time out after 30 seconds; namespace "cache:". A [Memory] store holds
// 64 MiB. [HTTPCache] stores bodies up to 1 MiB, in the Short tier unless configured.
//
// # The response cache
//
// Put an [HTTPCache] on a route, between the router and a handler whose answer does not
// depend on who asks (the HTTPCache example shows it whole):
//
//	mux.Handle("GET /api/formulas", formulas.Handler(listFormulas))
//
// Its defaults keep one user's response from reaching another and keep made-up requests
// from filling the store: requests carrying credentials (Authorization, Cookie, configured
// header fields) bypass it; only the query parameters the route declares reach the key,
// and requests with others bypass it; responses with Set-Cookie, or that could replay a
// Content-Security-Policy nonce, are not stored. Wrapped around a whole http.ServeMux, it
// stores only what handlers mark Cache-Control: public or s-maxage, so /metrics, probes
// and 404s of unknown paths are never cached. [HTTPConfig] holds the opt-ins: cookies that
// identify nobody (AnonymousCookies), and routes that answer everyone alike
// (SameForEveryone).
//
// Cache-Status (RFC 9211), the field that tells hits from misses, is off by default: it
// would tell anyone who asks whether somebody requested a resource lately and when its
// entry expires (RFC 9211 §6). HTTPConfig.CacheStatus turns it on for the requests it
// approves (an operator, a development build). There is no X-Cache. Its member, named by
// HTTPConfig.Name ("harden"), reads "harden; hit; ttl=597" for a hit (a negative ttl
// when served stale, with "fwd=stale; fwd-status=503" when it stands in for a failing
// handler), "harden; fwd=uri-miss; stored" for a miss (fwd says why: uri-miss,
// vary-miss, stale, request; then "stored" or detail=<why not>), and "harden;
// fwd=bypass; detail=credentials" for a request the cache does not handle. Without it, a
// response served from the cache is the one with an Age field.
//
// A hit costs three header fields of the cache's own (Age, ETag, Content-Length, about
// 60 bytes; Cache-Status adds about 35) and no call to the handler; with
// HTTPConfig.Inner (harden.Stack sets its compressor there) no compression either.
//
// # Tags
//
// Each tag has a version kept in the store. An entry records the versions of its tags when
// written; a read that finds a newer version treats the entry as missing.
// [Cache.InvalidateTags] writes one new version per tag, so invalidating "formulas" costs
// one write whatever the number of entries, and on a two-level store it reaches every
// instance through the same invalidation message as any other write.
//
// # Sharing a store
//
// A [Cache] writes its keys under its Namespace ("cache:k:…" for entries, "cache:t:…" for
// tag versions). Two caches with different namespaces never see each other's entries in
// one store. On a Redis shared by several services, package cache/rediscache requires a key
// prefix of each service's own, so the default namespace is enough inside it.
//
// # Metrics
//
// With Config.Registerer: harden_cache_hits_total, harden_cache_misses_total,
// harden_cache_stale_served_total, harden_cache_load_errors_total and
// harden_cache_evictions_total, labelled by tier; harden_cache_store_errors_total by op.
package cache
