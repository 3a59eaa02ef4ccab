// Package cachebench compares package cache with the libraries a user would pick instead:
// otter and ristretto for the in-memory store, go-redis/cache for the two-level cache, and
// an uncached handler for the HTTP response cache, whose hit is also priced against the
// bare handler answering by itself (BenchmarkHTTPHit).
package cachebench
