package observe

import "errors"

// Sentinel errors. Errors returned by New and the parsers wrap one of these with %w.
var (
	// ErrInvalidConfig reports a Config that New cannot use.
	ErrInvalidConfig = errors.New("observe: invalid config")
	// ErrInvalidLevel reports a log level ParseLevel does not know.
	ErrInvalidLevel = errors.New("observe: invalid log level")
	// ErrInvalidSampleRate reports a sample rate outside [0, 1] or not a number.
	ErrInvalidSampleRate = errors.New("observe: invalid sample rate")
	// ErrFlushTimeout reports that Shutdown gave up before every Sentry event was sent.
	ErrFlushTimeout = errors.New("observe: sentry flush timed out")
)
