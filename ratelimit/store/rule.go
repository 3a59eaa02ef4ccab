package store

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Bounds of a Rule, checked by Validate.
const (
	// MaxLimits is the largest number of limits one Rule may hold.
	MaxLimits = 8
	// MaxCount is the largest count a Limit may allow per period.
	MaxCount = 1_000_000_000_000
	// MaxPeriod is the longest period of a Limit: ten years, far inside every store's
	// arithmetic.
	MaxPeriod = 10 * 365 * 24 * time.Hour
)

// Limit admits Count units (requests, by default) per Period.
type Limit struct {
	Count  uint64
	Period time.Duration
}

// Rule is a set of limits that are all enforced: a take is admitted only if every limit
// admits it, and a rejected take charges none of them. ratelimit.ParseRule reads the
// text form.
type Rule []Limit

// String formats l in the rule syntax of ratelimit.ParseRule, e.g. "100 per hour" or
// "5 per 30 seconds".
func (l Limit) String() string {
	n := strconv.FormatUint(l.Count, 10)
	for _, u := range units() {
		if l.Period == u.d {
			return n + " per " + u.name
		}
	}
	for _, u := range units() {
		if l.Period%u.d == 0 {
			return n + " per " + strconv.FormatInt(int64(l.Period/u.d), 10) + " " + u.name + "s"
		}
	}
	return n + " per " + l.Period.String()
}

type unit struct {
	name string
	d    time.Duration
}

// units returns the period names of the rule syntax, longest first; a month is 30 days
// and a year 365 days.
func units() [6]unit {
	return [...]unit{
		{"year", 365 * 24 * time.Hour},
		{"month", 30 * 24 * time.Hour},
		{"day", 24 * time.Hour},
		{"hour", time.Hour},
		{"minute", time.Minute},
		{"second", time.Second},
	}
}

// String formats r in the rule syntax, limits separated by ";".
func (r Rule) String() string {
	parts := make([]string, len(r))
	for i, l := range r {
		parts[i] = l.String()
	}
	return strings.Join(parts, ";")
}

// Validate reports whether r can be enforced: 1 to MaxLimits limits, each with a count in
// 1..MaxCount and a period of whole milliseconds between one millisecond and MaxPeriod.
// Errors wrap ErrInvalidRule.
func (r Rule) Validate() error {
	if len(r) == 0 {
		return fmt.Errorf("%w: no limits", ErrInvalidRule)
	}
	if len(r) > MaxLimits {
		return fmt.Errorf("%w: %d limits, at most %d", ErrInvalidRule, len(r), MaxLimits)
	}
	for _, l := range r {
		if l.Count == 0 || l.Count > MaxCount {
			return fmt.Errorf("%w: count %d out of range 1..%d", ErrInvalidRule, l.Count, uint64(MaxCount))
		}
		if l.Period < time.Millisecond || l.Period%time.Millisecond != 0 || l.Period > MaxPeriod {
			return fmt.Errorf("%w: period %v must be whole milliseconds between 1ms and %v", ErrInvalidRule, l.Period, MaxPeriod)
		}
	}
	return nil
}
