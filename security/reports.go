package security

import (
	"fmt"

	"github.com/nexus-reussite/harden/security/cspreport"
)

// Reports is the CSP violation report endpoint, cspreport.Handler. Use that package
// directly; this name and NewReports forward to it and will be removed.
type Reports = cspreport.Handler

// ReportsConfig is cspreport.Config, kept as a forwarding name like Reports.
type ReportsConfig = cspreport.Config

// NewReports is cspreport.New. Its configuration errors wrap both ErrInvalidConfig and
// cspreport.ErrInvalidConfig.
func NewReports(cfg ReportsConfig) (*Reports, error) {
	h, err := cspreport.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	return h, nil
}
