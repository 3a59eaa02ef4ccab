package pool

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors.
var (
	// ErrTimeout: no connection could be acquired within Config.Timeout. The error returned
	// is a *TimeoutError, which also wraps what the acquisition itself returned
	// (context.DeadlineExceeded, or the dial error if dialling was what took too long).
	ErrTimeout = errors.New("pool: timed out acquiring a connection")

	// ErrInvalidConfig: New or Open was given a Config it cannot honour.
	ErrInvalidConfig = errors.New("pool: invalid config")
)

// TimeoutError reports an acquisition that outlived Config.Timeout. It matches ErrTimeout
// and the underlying error with errors.Is.
type TimeoutError struct {
	Timeout time.Duration // Config.Timeout
	Waited  time.Duration // how long the caller waited
	InUse   int           // connections in use when the wait ended
	MaxOpen int           // Size+Overflow; 0 means unlimited
	Err     error         // what the acquisition returned
}

func (e *TimeoutError) Error() string {
	if e.MaxOpen > 0 && e.InUse >= e.MaxOpen {
		return fmt.Sprintf("pool: limit of %d connections reached, none returned within %v: %v", e.MaxOpen, e.Timeout, e.Err)
	}
	return fmt.Sprintf("pool: no connection within %v (%d in use): %v", e.Timeout, e.InUse, e.Err)
}

// Unwrap returns ErrTimeout and the underlying error.
func (e *TimeoutError) Unwrap() []error { return []error{ErrTimeout, e.Err} }
