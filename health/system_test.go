package health

import (
	"context"
	"errors"
	"runtime/debug"
	"testing"
)

func TestDiskCheck(t *testing.T) {
	dir := t.TempDir()
	used, err := diskUsedPercent(dir)
	if err != nil || used <= 0 || used > 100 {
		t.Fatalf("used %v, %v", used, err)
	}
	tests := []struct {
		name string
		cfg  DiskConfig
		want Status
	}{
		{"defaults on a healthy disk", DiskConfig{Path: dir, WarnPercent: 100, FailPercent: 100}, StatusPass},
		{"over warning", DiskConfig{Path: dir, WarnPercent: used / 2, FailPercent: 100}, StatusWarn},
		{"over failure", DiskConfig{Path: dir, WarnPercent: used / 4, FailPercent: used / 2}, StatusFail},
		{"missing path", DiskConfig{Path: dir + "/missing/deeper"}, StatusFail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := mustNew(t, Config{Checks: []Check{Disk("disk", tt.cfg)}})
			r := h.run(context.Background()).Checks[0]
			if r.Status != tt.want {
				t.Errorf("status %s (%v), want %s", r.Status, r.Err, tt.want)
			}
			if tt.want != StatusFail || r.ObservedValue != nil {
				if v, ok := r.ObservedValue.(float64); !ok || v <= 0 || r.ObservedUnit != "%" {
					t.Errorf("observed %v %q", r.ObservedValue, r.ObservedUnit)
				}
			}
		})
	}
}

func TestMemoryCheck(t *testing.T) {
	tests := []struct {
		name string
		cfg  MemoryConfig
		want Status
	}{
		{"no thresholds, no limit: observation only", MemoryConfig{}, StatusPass},
		{"below thresholds", MemoryConfig{WarnBytes: 1 << 50, FailBytes: 1 << 52}, StatusPass},
		{"over warning", MemoryConfig{WarnBytes: 1, FailBytes: 1 << 52}, StatusWarn},
		{"over failure", MemoryConfig{WarnBytes: 1, FailBytes: 2}, StatusFail},
		{"failure only", MemoryConfig{FailBytes: 1}, StatusFail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := mustNew(t, Config{Checks: []Check{Memory("memory", tt.cfg)}})
			r := h.run(context.Background()).Checks[0]
			if r.Status != tt.want {
				t.Errorf("status %s (%v), want %s", r.Status, r.Err, tt.want)
			}
			if v, ok := r.ObservedValue.(uint64); !ok || v == 0 || r.ObservedUnit != "B" {
				t.Errorf("observed %v %q", r.ObservedValue, r.ObservedUnit)
			}
			if tt.want == StatusWarn && !errors.Is(r.Err, ErrWarning) {
				t.Errorf("warning is not ErrWarning: %v", r.Err)
			}
		})
	}
}

// Without explicit thresholds the check follows the runtime memory limit.
func TestMemoryCheckFollowsMemoryLimit(t *testing.T) {
	h := mustNew(t, Config{Checks: []Check{Memory("memory", MemoryConfig{})}})
	for _, tt := range []struct {
		num, den int64 // limit = used * num / den
		want     Status
	}{
		{1, 4, StatusFail},    // four times the limit: above 95 % whatever the GC frees
		{100, 88, StatusWarn}, // 88 % of the limit: between 80 and 95 %
		{4, 1, StatusPass},    // 25 % of the limit
	} {
		// Return what can be returned first, so the lowered limit cannot make the
		// runtime free enough to change the answer.
		debug.FreeOSMemory()
		used := readMemory().total
		prev := debug.SetMemoryLimit(int64(used) * tt.num / tt.den)
		r := h.run(context.Background()).Checks[0]
		debug.SetMemoryLimit(prev)
		if r.Status != tt.want {
			t.Errorf("limit used*%d/%d with %d used: %s (%v), want %s", tt.num, tt.den, used, r.Status, r.Err, tt.want)
		}
	}
}

func TestFormatBytes(t *testing.T) {
	for n, want := range map[uint64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 5 << 20: "5.0 MiB", 3 << 30: "3.0 GiB", 1<<64 - 1: "16.0 EiB"} {
		if got := formatBytes(n); got != want {
			t.Errorf("formatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}
