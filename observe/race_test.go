//go:build race

package observe

// growAllocs is what one slices.Grow of a nil slice allocates: two under the race
// detector, which keeps the compiler from fusing append(s, make([]E, n)...).
const growAllocs = 2
