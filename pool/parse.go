package pool

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Setting names of Config.Set, as SQLAlchemy's create_engine spells them.
const (
	KeySize     = "pool_size"     // integer ≥ 1
	KeyOverflow = "max_overflow"  // integer; 0: NoOverflow, -1: UnlimitedOverflow
	KeyTimeout  = "pool_timeout"  // seconds ("60", "2.5") or a Go duration ("1m")
	KeyRecycle  = "pool_recycle"  // seconds or a Go duration; -1: never
	KeyPrePing  = "pool_pre_ping" // boolean (strconv.ParseBool)
	KeyEcho     = "echo"          // boolean (strconv.ParseBool)
)

// maxSeconds is the longest duration, in seconds, a time.Duration holds.
const maxSeconds = float64(math.MaxInt64 / int64(time.Second))

// Set parses one setting in its string form, as found in an environment variable or a URL
// query, with SQLAlchemy's meaning. An empty value leaves the setting unchanged, so unset
// variables keep the default. Errors wrap ErrInvalidConfig.
func (c *Config) Set(key, value string) error {
	value = strings.TrimSpace(value)
	if value == "" {
		return nil
	}
	switch key {
	case KeySize, KeyOverflow:
		return c.setCount(key, value)
	case KeyTimeout, KeyRecycle:
		return c.setDuration(key, value)
	case KeyPrePing, KeyEcho:
		return c.setBool(key, value)
	}
	return fmt.Errorf("%w: unknown setting %q", ErrInvalidConfig, key)
}

// setCount sets Size or Overflow.
func (c *Config) setCount(key, value string) error {
	n, err := parseCount(key, value)
	if err != nil {
		return err
	}
	if key == KeySize {
		if n < 1 {
			return fmt.Errorf("%w: %s=%s: must be at least 1 (for no bound use %s=-1)", ErrInvalidConfig, key, value, KeyOverflow)
		}
		c.Size = n
		return nil
	}
	switch {
	case n == 0:
		c.Overflow = NoOverflow
	case n == -1:
		c.Overflow = UnlimitedOverflow
	case n < 0:
		return fmt.Errorf("%w: %s=%s: must be -1 (no bound) or at least 0", ErrInvalidConfig, key, value)
	default:
		c.Overflow = n
	}
	return nil
}

// setDuration sets Timeout or Recycle.
func (c *Config) setDuration(key, value string) error {
	d, err := parseSeconds(key, value)
	if err != nil {
		return err
	}
	if key == KeyTimeout {
		if d <= 0 {
			return fmt.Errorf("%w: %s=%s: must be positive", ErrInvalidConfig, key, value)
		}
		c.Timeout = d
		return nil
	}
	switch {
	case d < 0:
		c.Recycle = -1
	case d == 0:
		return fmt.Errorf("%w: %s=%s: must be positive, or -1 for never", ErrInvalidConfig, key, value)
	default:
		c.Recycle = d
	}
	return nil
}

// setBool sets DisablePrePing (the opposite of pool_pre_ping) or Echo.
func (c *Config) setBool(key, value string) error {
	b, err := strconv.ParseBool(value)
	if err != nil {
		return fmt.Errorf("%w: %s=%q: want true or false", ErrInvalidConfig, key, value)
	}
	if key == KeyPrePing {
		c.DisablePrePing = !b
	} else {
		c.Echo = b
	}
	return nil
}

func parseCount(key, value string) (int, error) {
	n, err := strconv.Atoi(value)
	if err != nil || n > maxConns || n < -maxConns {
		return 0, fmt.Errorf("%w: %s=%q: want an integer up to %d", ErrInvalidConfig, key, value, maxConns)
	}
	return n, nil
}

func parseSeconds(key, value string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(value, 64); err == nil {
		if math.IsNaN(f) || math.Abs(f) > maxSeconds {
			return 0, fmt.Errorf("%w: %s=%q: out of range", ErrInvalidConfig, key, value)
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(value)
	if err != nil {
		return 0, fmt.Errorf("%w: %s=%q: want seconds or a duration such as 60s", ErrInvalidConfig, key, value)
	}
	return d, nil
}
