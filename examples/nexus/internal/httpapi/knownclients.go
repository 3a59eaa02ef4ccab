package httpapi

import (
	"net/http"
	"sync"
	"time"
)

// Bounds of the known client addresses.
const (
	// knownClientsPerGeneration bounds each of the two generations of addresses: at most
	// twice this many are remembered.
	knownClientsPerGeneration = 50000
	// knownClientsTTL is how long a generation lasts: an address is remembered between
	// one and two of them after its last successful login.
	knownClientsTTL = 12 * time.Hour
)

// knownClients remembers the client addresses that logged in successfully lately, in
// two generations: lookups read both, additions go to the current one, and the current
// one becomes the previous one when it is full or older than knownClientsTTL. Memory is
// bounded however many addresses an attacker rotates through. It is safe for concurrent
// use.
type knownClients struct {
	now func() time.Time

	mu       sync.Mutex
	cur      map[string]struct{}
	prev     map[string]struct{}
	curSince time.Time
}

func newKnownClients(now func() time.Time) *knownClients {
	if now == nil {
		now = time.Now
	}
	return &knownClients{now: now, cur: map[string]struct{}{}, curSince: now()}
}

// add remembers key; "" and the key of a request without a usable address are ignored.
func (k *knownClients) add(key string) {
	if key == "" || key == unknownClientKey {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.rotate()
	k.cur[key] = struct{}{}
}

// known reports whether key logged in successfully lately.
func (k *knownClients) known(key string) bool {
	if key == "" || key == unknownClientKey {
		return false
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.rotate()
	_, inCur := k.cur[key]
	_, inPrev := k.prev[key]
	return inCur || inPrev
}

// rotate starts a new generation when the current one is full or old; k.mu is held.
func (k *knownClients) rotate() {
	now := k.now()
	if len(k.cur) < knownClientsPerGeneration && now.Sub(k.curSince) < knownClientsTTL {
		return
	}
	if now.Sub(k.curSince) >= 2*knownClientsTTL {
		k.prev = nil // the current generation is too old to keep either
	} else {
		k.prev = k.cur
	}
	k.cur, k.curSince = map[string]struct{}{}, now
}

// unknownClientKey is the key ratelimit.IPKey gives a request without a usable address.
const unknownClientKey = "ip:unknown"

// clientKey names the client of r as the rate limiter does (its IP, through the trusted
// proxies only).
func (a *API) clientKey(r *http.Request) string { return a.ipKey(r) }
