package config

import (
	"errors"
	"time"
)

// Shedding bounds the requests in flight on the expensive routes: those that hash a
// password (bcrypt, about 250 ms of one CPU each) and the ARIA assistant (a paid upstream
// call). A request finding every slot taken waits in a short queue; one finding the queue
// full, or waiting past its timeout, is answered 503 with Retry-After at once.
type Shedding struct {
	// HashConcurrency (HASH_CONCURRENCY: 0) is how many password hashes run at once; 0
	// means GOMAXPROCS − 1 (at least 1): every CPU the process may use but one, kept for
	// the other routes.
	HashConcurrency int
	// HashQueue (HASH_QUEUE: 0) is how many hashing requests may wait for a slot; 0 means
	// 4 × HASH_CONCURRENCY, -1 none.
	HashQueue int
	// HashQueueTimeout (HASH_QUEUE_TIMEOUT: 1 s) is the longest a hashing request waits.
	HashQueueTimeout time.Duration
	// AriaConcurrency (ARIA_CONCURRENCY: 8) is how many ARIA questions are served at once.
	AriaConcurrency int
	// AriaQueue (ARIA_QUEUE: 0) is how many ARIA questions may wait; 0 means as many as
	// ARIA_CONCURRENCY, -1 none.
	AriaQueue int
	// AriaQueueTimeout (ARIA_QUEUE_TIMEOUT: 1 s) is the longest an ARIA question waits.
	AriaQueueTimeout time.Duration
}

// Bounds and defaults of the shedding settings.
const (
	defaultAriaConcurrency = 8
	defaultQueueTimeout    = time.Second
	maxConcurrency         = 4096
	maxQueue               = 100000
	maxQueueTimeout        = time.Minute
)

// queueTimeoutVar stores a queue timeout: seconds or a duration, above 0 and at most a
// minute; empty is 1 s.
func queueTimeoutVar(dst func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := parseSeconds(v, defaultQueueTimeout)
		if err != nil {
			return err
		}
		if d <= 0 || d > maxQueueTimeout {
			return errors.New("must be above 0 and at most 1m")
		}
		*dst(c) = d
		return nil
	}
}
