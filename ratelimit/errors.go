package ratelimit

import "errors"

var (
	// ErrInvalidRule is wrapped by every rule parse or validation error.
	ErrInvalidRule = errors.New("ratelimit: invalid rule")
	// ErrInvalidConfig is wrapped by configuration errors returned from New and NewMemoryStore.
	ErrInvalidConfig = errors.New("ratelimit: invalid config")
	// ErrStoreUnavailable is wrapped by store errors that mean the backend could not be
	// asked (down, timed out, circuit open). The Limiter applies its failure policy to
	// every store error, not only these.
	ErrStoreUnavailable = errors.New("ratelimit: store unavailable")
	// ErrUnsupported is returned by a store asked for a strategy it cannot enforce.
	ErrUnsupported = errors.New("ratelimit: unsupported by store")
)
