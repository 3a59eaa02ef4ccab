package health

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestReportWriteText(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	rep := report{Status: StatusFail, Time: at, Checks: []result{
		{Name: "postgres", Critical: true, Status: StatusPass, Duration: 1234567 * time.Nanosecond},
		{Name: "redis", Critical: true, Status: StatusFail, Duration: 2 * time.Second,
			Err: errors.New("health: check timed out after 2s\nFORGED LINE")},
		{Name: "disk", Critical: true, Status: StatusWarn, Duration: 85 * time.Microsecond, ObservedValue: 93.5, ObservedUnit: "%",
			Err: Warning(errors.New("disk 93.5 % used"))},
		{Name: "openai", Status: StatusWarn, Duration: 300 * time.Millisecond, Err: errors.New("status 502")},
	}}
	var b strings.Builder
	if err := rep.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	want := `FAIL: 1/4 checks pass at 2026-03-01T12:00:00Z
  pass  postgres  1.23ms
  fail  redis     2s             health: check timed out after 2s FORGED LINE
  warn  disk      85µs   93.5 %  disk 93.5 % used
  warn  openai    300ms          status 502 (non-critical)
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
	err := rep.Err()
	if !errors.Is(err, ErrFailed) || err.Error() != "health: failed: redis" {
		t.Errorf("Err() = %v", err)
	}
	rep.Status = StatusWarn
	if rep.Err() != nil {
		t.Error("warn report has an error")
	}
}

// With a component id on any check the report gains a column for it; names, ids and
// observed values with line breaks or tabs stay on their line and in their column.
func TestReportWriteTextComponentIDs(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	rep := report{Status: StatusFail, Time: at, Checks: []result{
		{Name: "database", ComponentID: "postgres://nexus:xxxxx@db:5432/nexus", Critical: true, Status: StatusPass,
			Duration: 12 * time.Millisecond, ObservedValue: 4, ObservedUnit: "formulas"},
		{Name: "config", Critical: true, Status: StatusPass, ObservedValue: "production"},
		{Name: "mail\nFORGED", ComponentID: "smtp\tmail:587", Critical: true, Status: StatusFail, Duration: time.Second,
			Err: errors.New("dial tcp: refused")},
		{Name: "redis", Critical: true, Status: StatusWarn, ObservedValue: "a\rb",
			Err: Warning(errors.New("not configured"))},
	}}
	var b strings.Builder
	if err := rep.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	want := `FAIL: 2/4 checks pass at 2026-03-01T12:00:00Z
  pass  database     postgres://nexus:xxxxx@db:5432/nexus  12ms  4 formulas
  pass  config                                             0s    production
  fail  mail FORGED  smtp mail:587                         1s         dial tcp: refused
  warn  redis                                              0s    a b  not configured
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

// A writer that fails makes WriteText return its error.
func TestReportWriteTextWriterError(t *testing.T) {
	rep := report{Status: StatusPass, Checks: []result{{Name: "db", Status: StatusPass, Critical: true}}}
	if err := rep.WriteText(failingWriter{}); !errors.Is(err, errWrite) {
		t.Errorf("WriteText = %v, want the writer's error", err)
	}
}

var errWrite = errors.New("disk full")

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errWrite }

// Diagnose gives a CLI the same results as the endpoints: the report, and an error
// naming the failed checks; a warning alone is no error.
func TestDiagnose(t *testing.T) {
	h := mustNew(t, Config{Checks: []Check{
		{Name: "db", Func: pass},
		{Name: "cache", Func: func(context.Context) error { return errors.New("refused") }},
		{Name: "mail", NonCritical: true, Func: func(context.Context) error { return errors.New("timeout") }},
	}})
	var b strings.Builder
	err := h.Diagnose(context.Background(), &b)
	if !errors.Is(err, ErrFailed) || err.Error() != "health: failed: cache" {
		t.Errorf("Diagnose = %v", err)
	}
	if !strings.HasPrefix(b.String(), "FAIL: 1/3") || !strings.Contains(b.String(), "refused") {
		t.Errorf("report:\n%s", b.String())
	}
	// Diagnose refreshed the cache: a probe right after does not run the checks again.
	h.Start(t.Context())
	before := h.snap.Load()
	probe(h.ReadyHandler(), "/ready")
	if h.snap.Load() != before {
		t.Error("probe after Diagnose ran the checks again")
	}

	warn := mustNew(t, Config{Checks: []Check{{Name: "mail", NonCritical: true, Func: func(context.Context) error {
		return errors.New("timeout")
	}}}})
	b.Reset()
	if err := warn.Diagnose(context.Background(), &b); err != nil || !strings.HasPrefix(b.String(), "WARN: 0/1") {
		t.Errorf("warning: %v\n%s", err, b.String())
	}
	if err := warn.Diagnose(context.Background(), failingWriter{}); !errors.Is(err, errWrite) {
		t.Errorf("Diagnose to a failing writer = %v", err)
	}
}
