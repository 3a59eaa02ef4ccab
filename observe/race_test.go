//go:build race

package observe

// growAllocs is what one slices.Grow of a nil slice allocates: two under the race
// detector, which keeps the compiler from fusing append(s, make([]E, n)...).
const growAllocs = 2

// poolDropAllocs bounds the allocations of sync.Pool misses per request: a pooled buffer the race detector dropped (it drops a quarter of
// sync.Pool puts at random) is allocated again.
const poolDropAllocs = 1
