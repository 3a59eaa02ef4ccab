//go:build race

package security

// randAllocs is what drawing a nonce allocates: under the race detector the buffer handed
// to crypto/rand.Read escapes to the heap.
const randAllocs = 1
