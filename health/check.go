package health

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Status is the health status of a check or of the whole service, as in the IETF
// "Health Check Response Format for HTTP APIs" draft.
type Status string

// The three statuses of the draft. Pass and warn answer 200, fail answers 503.
const (
	StatusPass Status = "pass"
	StatusWarn Status = "warn"
	StatusFail Status = "fail"
)

// Sentinel errors.
var (
	// ErrTimeout is reported when a check did not return within its timeout.
	ErrTimeout = errors.New("health: check timed out")
	// ErrStillRunning is reported when the previous run of a check has not returned yet
	// (it hung past its timeout and ignored its context); no second copy is started.
	ErrStillRunning = errors.New("health: previous run of the check has not returned")
	// ErrPanic is reported when a check panicked.
	ErrPanic = errors.New("health: check panicked")
	// ErrWarning marks an error as a warning: see Warning.
	ErrWarning = errors.New("health: warning")
	// ErrFailed is wrapped by the error Diagnose returns when a critical check fails.
	ErrFailed = errors.New("health: failed")
	// ErrInvalidConfig wraps every configuration error returned by New.
	ErrInvalidConfig = errors.New("health: invalid config")
)

// Check is one named dependency check.
type Check struct {
	// Name identifies the check in responses, logs and metrics ("postgres",
	// "redis:ping"). Required, unique within a Config, at most 128 bytes.
	Name string
	// Func performs the check. It returns nil when healthy, an error wrapped with
	// Warning to degrade without failing, any other error to fail. It should honour
	// ctx; when it does not, it is abandoned at the timeout and reported as failed.
	// Required.
	Func func(ctx context.Context) error
	// Timeout bounds one run. Default: Config.Timeout.
	Timeout time.Duration
	// NonCritical makes a failure degrade the service (status warn, /ready stays 200)
	// instead of failing it. Default false: a failing check fails /ready and /health.
	NonCritical bool
	// ComponentType is the draft's componentType ("datastore", "system", "component",
	// or a URI). Default: empty (omitted).
	ComponentType string
	// ComponentID is the draft's componentId, for example a database instance id.
	// Default: empty (omitted). Only shown to authorised callers.
	ComponentID string

	// err is set by ready-made check constructors given an invalid configuration;
	// New reports it.
	err error
}

// Warning marks err as a warning: a check returning it reports status warn whatever
// its criticality. Warning(nil) is nil.
func Warning(err error) error {
	if err == nil {
		return nil
	}
	return &warning{err: err}
}

type warning struct{ err error }

func (w *warning) Error() string { return w.err.Error() }

func (w *warning) Unwrap() []error { return []error{ErrWarning, w.err} }

// Observe records the check's observed value and unit (the draft's observedValue and
// observedUnit, for example 93.5 and "%"). Checks call it with the context they were
// given; outside a check run it does nothing.
func Observe(ctx context.Context, value any, unit string) {
	if o, ok := ctx.Value(observationKey{}).(*observation); ok {
		o.set(value, unit)
	}
}

type observationKey struct{}

type observation struct {
	mu     sync.Mutex
	closed bool
	value  any
	unit   string
	has    bool
}

func (o *observation) set(v any, unit string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return
	}
	o.value, o.unit, o.has = v, unit, true
}

// close stops recording and returns what was recorded.
func (o *observation) close() (any, string, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.closed = true
	return o.value, o.unit, o.has
}

func (c *Check) validate() error {
	switch {
	case c.err != nil:
		return fmt.Errorf("%w: check %q: %w", ErrInvalidConfig, c.Name, c.err)
	case c.Name == "":
		return fmt.Errorf("%w: check without a name", ErrInvalidConfig)
	case len(c.Name) > 128:
		return fmt.Errorf("%w: check name longer than 128 bytes", ErrInvalidConfig)
	case c.Func == nil:
		return fmt.Errorf("%w: check %q has no Func", ErrInvalidConfig, c.Name)
	case c.Timeout < 0:
		return fmt.Errorf("%w: check %q has a negative timeout", ErrInvalidConfig, c.Name)
	}
	return nil
}
