//go:build !race

package observe

// growAllocs is what one slices.Grow of a nil slice allocates.
const growAllocs = 1
