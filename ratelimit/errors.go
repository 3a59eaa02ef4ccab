package ratelimit

import (
	"errors"

	"github.com/nexus-reussite/harden/ratelimit/store"
)

var (
	// ErrInvalidRule is wrapped by every rule parse or validation error. It is
	// store.ErrInvalidRule.
	ErrInvalidRule = store.ErrInvalidRule
	// ErrInvalidConfig is wrapped by configuration errors returned from New and IPKey.
	ErrInvalidConfig = errors.New("ratelimit: invalid config")
)
