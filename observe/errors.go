package observe

import "errors"

// Sentinel errors. Errors returned by New wrap ErrInvalidConfig with %w.
var (
	// ErrInvalidConfig reports a Config that New cannot use.
	ErrInvalidConfig = errors.New("observe: invalid config")
	// ErrFlushTimeout reports that Shutdown gave up before every Sentry event was sent.
	ErrFlushTimeout = errors.New("observe: sentry flush timed out")
)
