package cache

import (
	"fmt"
	"strconv"
	"time"
)

// Tier names a time-to-live class. Routes pick a tier rather than a number, so the TTLs live
// in one place (the [Tiers] of the [Config]) and follow the deployment's settings.
type Tier uint8

// The four tiers, from the shortest TTL to the longest.
const (
	Short     Tier = iota + 1 // 10 minutes by default
	Medium                    // 2 hours by default
	Long                      // 24 hours by default
	Permanent                 // 7 days by default
)

// String returns the tier's lower-case name ("short", "medium", "long", "permanent"), the
// value of the "tier" label of the metrics.
func (t Tier) String() string {
	switch t {
	case Short:
		return "short"
	case Medium:
		return "medium"
	case Long:
		return "long"
	case Permanent:
		return "permanent"
	}
	return "tier(" + strconv.Itoa(int(t)) + ")"
}

func (t Tier) valid() bool { return t >= Short && t <= Permanent }

// Tiers holds the TTL of each tier. A zero field means its default.
type Tiers struct {
	// Short is the TTL of the Short tier; default 10 minutes.
	Short time.Duration
	// Medium is the TTL of the Medium tier; default 2 hours.
	Medium time.Duration
	// Long is the TTL of the Long tier; default 24 hours.
	Long time.Duration
	// Permanent is the TTL of the Permanent tier; default 7 days.
	Permanent time.Duration
}

func (ts Tiers) withDefaults() (Tiers, error) {
	for _, f := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"Short", &ts.Short, DefaultShortTTL},
		{"Medium", &ts.Medium, DefaultMediumTTL},
		{"Long", &ts.Long, DefaultLongTTL},
		{"Permanent", &ts.Permanent, DefaultPermanentTTL},
	} {
		switch {
		case *f.v < 0:
			return ts, fmt.Errorf("%w: Tiers.%s is negative (%v)", ErrInvalidConfig, f.name, *f.v)
		case *f.v == 0:
			*f.v = f.def
		}
	}
	return ts, nil
}

// TTL returns the TTL of tier t (0 for an unknown tier).
func (ts Tiers) TTL(t Tier) time.Duration {
	switch t {
	case Short:
		return ts.Short
	case Medium:
		return ts.Medium
	case Long:
		return ts.Long
	case Permanent:
		return ts.Permanent
	}
	return 0
}

// maxTTLBound keeps TTL arithmetic far from overflow: 100 years.
const maxTTLBound = 100 * 365 * 24 * time.Hour
