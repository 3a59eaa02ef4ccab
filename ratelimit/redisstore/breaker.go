package redisstore

import (
	"sync"
	"time"
)

// breaker is a consecutive-failure circuit breaker. Closed, it lets every call through;
// threshold failures in a row open it for cooldown, during which calls fail at once;
// then one probe call is let through (half-open), whose success closes the breaker and
// whose failure opens it again.
type breaker struct {
	threshold int
	cooldown  time.Duration

	mu        sync.Mutex
	failures  int
	open      bool
	openUntil time.Time
	probing   bool
}

type outcome uint8

const (
	succeeded outcome = iota
	failed
	abandoned // the caller gave up; says nothing about the server
)

// allow reports whether a call may go to the server now.
func (b *breaker) allow() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.open {
		return true
	}
	if b.probing || time.Now().Before(b.openUntil) {
		return false
	}
	b.probing = true
	return true
}

// done records the outcome of a call allow let through.
func (b *breaker) done(o outcome) {
	b.mu.Lock()
	defer b.mu.Unlock()
	wasProbe := b.probing
	b.probing = false
	switch o {
	case succeeded:
		b.failures, b.open = 0, false
	case failed:
		b.failures++
		if wasProbe || b.failures >= b.threshold {
			b.open, b.openUntil = true, time.Now().Add(b.cooldown)
		}
	}
}

// isOpen reports whether calls are currently refused.
func (b *breaker) isOpen() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.open
}
