package security

import (
	"fmt"
	"net/http"
	"strings"
)

// newCSRF builds the net/http cross-origin protection. Invalid bypass patterns, which
// CrossOriginProtection reports by panicking, become configuration errors.
func newCSRF(c CSRF) (cop *http.CrossOriginProtection, err error) {
	if c.Disable {
		return nil, nil
	}
	cop = http.NewCrossOriginProtection()
	for _, o := range c.TrustedOrigins {
		if err := cop.AddTrustedOrigin(strings.TrimSuffix(strings.TrimSpace(o), "/")); err != nil {
			return nil, fmt.Errorf("%w: CSRF trusted origin: %v", ErrInvalidConfig, err)
		}
	}
	defer func() {
		if p := recover(); p != nil {
			cop, err = nil, fmt.Errorf("%w: CSRF bypass pattern: %v", ErrInvalidConfig, p)
		}
	}()
	for _, p := range c.BypassPatterns {
		cop.AddInsecureBypassPattern(p)
	}
	return cop, nil
}
