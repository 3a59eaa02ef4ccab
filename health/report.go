package health

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Diagnose runs every check now, bypassing the cache, and writes the results to w for a
// human: an overall line, then one line per check with its status, name, component id
// (a column shown only when some check has one), duration, observed value and error.
// Every field is kept on its line, so no error or name can forge a line. Diagnose
// returns w's error, or an error wrapping ErrFailed that names the failed checks when
// the status is fail: a command-line "diagnose" exits non-zero on either.
//
// When a probe's run is under way Diagnose shares it rather than starting the checks a
// second time. The cache, metrics and OnStatusChange see the result, unless ctx ended
// before the checks did: then the checks report the interruption, to this caller alone.
func (h *Health) Diagnose(ctx context.Context, w io.Writer) error {
	rep := h.run(ctx)
	if err := rep.WriteText(w); err != nil {
		return err
	}
	return rep.Err()
}

// report is the outcome of one run of the checks.
type report struct {
	// Status is the worst status of the checks: fail if a critical check failed, warn
	// if a check warned or a non-critical check failed, pass otherwise (also when there
	// are no checks).
	Status Status
	// Time is when the run ended.
	Time time.Time
	// Checks holds one result per check, in Config order.
	Checks []result
}

// result is the outcome of one check.
type result struct {
	// Name, ComponentType and ComponentID come from the Check.
	Name          string
	ComponentType string
	ComponentID   string
	// Critical is the opposite of Check.NonCritical.
	Critical bool
	// Status is pass, warn or fail.
	Status Status
	// Err is the check's error, nil when it passed.
	Err error
	// Duration is how long the check ran (up to its timeout).
	Duration time.Duration
	// Time is when the check ended.
	Time time.Time
	// ObservedValue and ObservedUnit are what the check passed to Observe, if anything.
	ObservedValue any
	ObservedUnit  string
	// LastErr is the most recent error of the check, kept after it recovers, and
	// LastErrTime when it happened. Zero if it never failed.
	LastErr     error
	LastErrTime time.Time
}

// Err returns nil unless the report's status is fail; then an error wrapping
// ErrFailed that names the failed checks.
func (r report) Err() error {
	if r.Status != StatusFail {
		return nil
	}
	var failed []string
	for _, c := range r.Checks {
		if c.Status == StatusFail {
			failed = append(failed, c.Name)
		}
	}
	return fmt.Errorf("%w: %s", ErrFailed, strings.Join(failed, ", "))
}

// WriteText writes the report for a human, as Diagnose describes.
func (r report) WriteText(w io.Writer) error {
	healthy := 0
	withID := false
	for _, c := range r.Checks {
		if c.Status == StatusPass {
			healthy++
		}
		withID = withID || c.ComponentID != ""
	}
	if _, err := fmt.Fprintf(w, "%s: %d/%d checks pass at %s\n", strings.ToUpper(string(r.Status)), healthy, len(r.Checks),
		r.Time.UTC().Format(time.RFC3339)); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, c := range r.Checks {
		line := "  " + string(c.Status) + "\t" + oneLine(c.Name) + "\t"
		if withID {
			line += oneLine(c.ComponentID) + "\t"
		}
		line += formatDuration(c.Duration) + "\t"
		if c.ObservedValue != nil {
			line += oneLine(strings.TrimSpace(fmt.Sprint(c.ObservedValue) + " " + c.ObservedUnit))
		}
		line += "\t"
		if c.Err != nil {
			line += oneLine(c.Err.Error())
		}
		if !c.Critical {
			line += " (non-critical)"
		}
		if _, err := fmt.Fprintln(tw, strings.TrimRight(line, " \t")); err != nil {
			return err
		}
	}
	return tw.Flush()
}

// formatDuration rounds d for display.
func formatDuration(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	default:
		return d.Round(time.Microsecond).String()
	}
}

// oneLine keeps an error on one line so it cannot forge report lines.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return ' '
		}
		return r
	}, s)
}
