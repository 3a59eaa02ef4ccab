package health

import (
	"context"
	"fmt"
	"math"
)

// Default thresholds of a Disk check.
const (
	defaultDiskWarnPercent = 90
	defaultDiskFailPercent = 95
)

// DiskConfig sets what a Disk check watches.
type DiskConfig struct {
	// Path is any file or directory on the filesystem to watch. Required.
	Path string
	// WarnPercent makes the check warn when the used share of the space available to
	// the process reaches it, as df computes it. Default 90.
	WarnPercent float64
	// FailPercent makes the check fail at that share. Default 95.
	FailPercent float64
}

// Disk returns a check of the filesystem holding cfg.Path. It observes the used
// percentage (observedUnit "%"). It is a "system" component. It is available on Linux
// and macOS; elsewhere New reports it as unsupported.
func Disk(name string, cfg DiskConfig) Check {
	c := Check{Name: name, ComponentType: "system"}
	warn := cfg.WarnPercent
	if warn == 0 {
		warn = defaultDiskWarnPercent
	}
	fail := cfg.FailPercent
	if fail == 0 {
		fail = defaultDiskFailPercent
	}
	switch {
	case cfg.Path == "":
		c.err = fmt.Errorf("DiskConfig.Path is empty")
		return c
	case !(warn > 0 && warn <= 100) || !(fail > 0 && fail <= 100):
		c.err = fmt.Errorf("disk thresholds must be in (0, 100], got warn %v fail %v", warn, fail)
		return c
	case warn > fail:
		c.err = fmt.Errorf("disk WarnPercent %v above FailPercent %v", warn, fail)
		return c
	case !diskSupported:
		c.err = errDiskUnsupported
		return c
	}
	c.Func = func(ctx context.Context) error {
		used, err := diskUsedPercent(cfg.Path)
		if err != nil {
			return fmt.Errorf("disk: %w", err)
		}
		Observe(ctx, math.Round(used*100)/100, "%")
		switch {
		case used >= fail:
			return fmt.Errorf("disk %.1f %% used, at or above the failure threshold %v %%", used, fail)
		case used >= warn:
			return Warning(fmt.Errorf("disk %.1f %% used, at or above the warning threshold %v %%", used, warn))
		}
		return nil
	}
	return c
}
