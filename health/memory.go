package health

import (
	"context"
	"fmt"
	"math"
	"runtime/debug"
	"runtime/metrics"
)

// MemoryConfig sets the thresholds of a Memory check. Memory is the Go runtime's view:
// every byte mapped by the runtime minus what it released to the operating system.
type MemoryConfig struct {
	// WarnBytes makes the check warn at or above this many bytes. Default: 80 % of the
	// runtime memory limit (GOMEMLIMIT, debug.SetMemoryLimit) when one is set, read at
	// each run; otherwise no warning.
	WarnBytes uint64
	// FailBytes makes the check fail at or above this many bytes. Default: 95 % of the
	// runtime memory limit when one is set; otherwise the check never fails and only
	// reports the observed value.
	FailBytes uint64
}

// Memory returns a check of the process memory against cfg's thresholds. It observes
// the memory in bytes (observedUnit "B"). It is a "system" component.
func Memory(name string, cfg MemoryConfig) Check {
	c := Check{Name: name, ComponentType: "system"}
	if cfg.WarnBytes != 0 && cfg.FailBytes != 0 && cfg.WarnBytes > cfg.FailBytes {
		c.err = fmt.Errorf("WarnBytes %d above FailBytes %d", cfg.WarnBytes, cfg.FailBytes)
		return c
	}
	c.Func = func(ctx context.Context) error {
		warn, fail := cfg.WarnBytes, cfg.FailBytes
		if limit := debug.SetMemoryLimit(-1); limit > 0 && limit < math.MaxInt64 {
			if warn == 0 {
				warn = uint64(limit) / 100 * 80
			}
			if fail == 0 {
				fail = uint64(limit) / 100 * 95
			}
		}
		used := readMemory().total
		Observe(ctx, used, "B")
		switch {
		case fail != 0 && used >= fail:
			return fmt.Errorf("memory %s at or above the failure threshold %s", formatBytes(used), formatBytes(fail))
		case warn != 0 && used >= warn:
			return Warning(fmt.Errorf("memory %s at or above the warning threshold %s", formatBytes(used), formatBytes(warn)))
		}
		return nil
	}
	return c
}

type memoryFacts struct {
	total uint64 // mapped by the runtime and not released
	heap  uint64 // live and not yet swept heap objects
}

func readMemory() memoryFacts {
	s := []metrics.Sample{
		{Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/released:bytes"},
		{Name: "/memory/classes/heap/objects:bytes"},
	}
	metrics.Read(s)
	var v [3]uint64
	for i := range s {
		if s[i].Value.Kind() == metrics.KindUint64 {
			v[i] = s[i].Value.Uint64()
		}
	}
	total := v[0]
	if v[1] <= total {
		total -= v[1]
	}
	return memoryFacts{total: total, heap: v[2]}
}

// formatBytes prints n with a binary unit.
func formatBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
