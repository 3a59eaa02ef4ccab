//go:build !race

package security

// randAllocs is what drawing a nonce allocates.
const randAllocs = 0
