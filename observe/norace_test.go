//go:build !race

package observe

// growAllocs is what one slices.Grow of a nil slice allocates.
const growAllocs = 1

// poolDropAllocs bounds the allocations of sync.Pool misses per request: a pooled buffer is reused.
const poolDropAllocs = 0
