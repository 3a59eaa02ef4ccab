package pool

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Setting names, as in SQLAlchemy's create_engine. The environment contract of the reference
// backend maps DB_POOL_SIZE, DB_MAX_OVERFLOW, DB_POOL_TIMEOUT and DB_POOL_RECYCLE onto the
// first four.
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
	case KeySize:
		n, err := parseCount(key, value)
		if err != nil {
			return err
		}
		if n < 1 {
			return fmt.Errorf("%w: %s=%s: must be at least 1 (for no bound use %s=-1)", ErrInvalidConfig, key, value, KeyOverflow)
		}
		c.Size = n
	case KeyOverflow:
		n, err := parseCount(key, value)
		if err != nil {
			return err
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
	case KeyTimeout:
		d, err := parseSeconds(key, value)
		if err != nil {
			return err
		}
		if d <= 0 {
			return fmt.Errorf("%w: %s=%s: must be positive", ErrInvalidConfig, key, value)
		}
		c.Timeout = d
	case KeyRecycle:
		d, err := parseSeconds(key, value)
		if err != nil {
			return err
		}
		switch {
		case d < 0:
			c.Recycle = -1
		case d == 0:
			return fmt.Errorf("%w: %s=%s: must be positive, or -1 for never", ErrInvalidConfig, key, value)
		default:
			c.Recycle = d
		}
	case KeyPrePing:
		b, err := parseBool(key, value)
		if err != nil {
			return err
		}
		c.DisablePrePing = !b
	case KeyEcho:
		b, err := parseBool(key, value)
		if err != nil {
			return err
		}
		c.Echo = b
	default:
		return fmt.Errorf("%w: unknown setting %q", ErrInvalidConfig, key)
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

func parseBool(key, value string) (bool, error) {
	b, err := strconv.ParseBool(value)
	if err != nil {
		return false, fmt.Errorf("%w: %s=%q: want true or false", ErrInvalidConfig, key, value)
	}
	return b, nil
}

func isKey(k string) bool {
	switch k {
	case KeySize, KeyOverflow, KeyTimeout, KeyRecycle, KeyPrePing, KeyEcho:
		return true
	}
	return false
}

// ParseURL reads the pool settings (pool_size, max_overflow, pool_timeout, pool_recycle,
// pool_pre_ping, echo) from a database URL's query and returns them with the URL stripped of
// them, ready for the driver — which would otherwise pass them to the server as unknown
// parameters. Every other byte of the URL is kept as written; a URL without pool settings
// comes back unchanged. A setting given twice is an error.
func ParseURL(raw string) (Config, string, error) {
	var cfg Config
	q := strings.IndexByte(raw, '?')
	if q < 0 {
		return cfg, raw, nil
	}
	query, frag := raw[q+1:], ""
	if h := strings.IndexByte(query, '#'); h >= 0 {
		query, frag = query[:h], query[h:]
	}
	parts := strings.Split(query, "&")
	kept := parts[:0:0]
	seen := map[string]bool{}
	for _, part := range parts {
		k, v, _ := strings.Cut(part, "=")
		key, err := url.QueryUnescape(k)
		if err != nil || !isKey(key) {
			kept = append(kept, part)
			continue
		}
		if seen[key] {
			return Config{}, "", fmt.Errorf("%w: %s given twice", ErrInvalidConfig, key)
		}
		seen[key] = true
		val, err := url.QueryUnescape(v)
		if err != nil {
			return Config{}, "", fmt.Errorf("%w: %s: %v", ErrInvalidConfig, key, err)
		}
		if err := cfg.Set(key, val); err != nil {
			return Config{}, "", err
		}
	}
	if len(seen) == 0 {
		return cfg, raw, nil
	}
	dsn := raw[:q]
	if len(kept) > 0 {
		dsn += "?" + strings.Join(kept, "&")
	}
	return cfg, dsn + frag, nil
}
