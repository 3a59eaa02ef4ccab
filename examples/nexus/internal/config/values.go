package config

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/nexus-reussite/harden/examples/nexus/internal/redact"
	"github.com/nexus-reussite/harden/pool"
	"github.com/redis/go-redis/v9"
)

// The parsers of the values of the contract. Each takes the trimmed value ("" when the
// variable is unset or empty) and returns an error that may be shown: credentials are
// redacted.

// intVar stores an integer in [lo, hi]; empty keeps def.
func intVar(dst func(*Config) *int, def, lo, hi int) func(*Config, string) error {
	return func(c *Config, v string) error {
		*dst(c) = def
		if v == "" {
			return nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return fmt.Errorf("%q is not an integer in [%d, %d]", v, lo, hi)
		}
		*dst(c) = n
		return nil
	}
}

// boolVar stores a boolean (true, false, 1, 0…); empty is false.
func boolVar(dst func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		*dst(c) = false
		if v == "" {
			return nil
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%q is neither true nor false", v)
		}
		*dst(c) = b
		return nil
	}
}

// maxPoolConns bounds DB_POOL_SIZE and DB_MAX_OVERFLOW, as the pool does.
const maxPoolConns = 1 << 16

// poolSize reads DB_POOL_SIZE, SQLAlchemy's pool_size: at least 1; empty is 0, the
// pool's default (20).
func poolSize(v string) (int, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxPoolConns {
		return 0, fmt.Errorf("%q is not an integer in [1, %d] (for no bound on connections set DB_MAX_OVERFLOW=-1)", v, maxPoolConns)
	}
	return n, nil
}

// poolOverflow reads DB_MAX_OVERFLOW, SQLAlchemy's max_overflow: 0 is no overflow, -1
// no bound; empty is 0, the pool's default (30).
func poolOverflow(v string) (int, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	switch {
	case err != nil || n < -1 || n > maxPoolConns:
		return 0, fmt.Errorf("%q is not -1 (no bound) or an integer in [0, %d]", v, maxPoolConns)
	case n == 0:
		return pool.NoOverflow, nil
	case n == -1:
		return pool.UnlimitedOverflow, nil
	}
	return n, nil
}

// poolTimeout reads DB_POOL_TIMEOUT, SQLAlchemy's pool_timeout: positive seconds or a
// duration; empty is 0, the pool's default (60 s).
func poolTimeout(v string) (time.Duration, error) {
	d, err := parseSeconds(v, 0)
	if err == nil && v != "" && d <= 0 {
		err = fmt.Errorf("%q must be positive", v)
	}
	return d, err
}

// poolRecycle reads DB_POOL_RECYCLE, SQLAlchemy's pool_recycle: positive seconds or a
// duration, or -1 to never recycle; empty is 0, the pool's default (1 h).
func poolRecycle(v string) (time.Duration, error) {
	if v == "-1" {
		return -1, nil
	}
	d, err := parseSeconds(v, 0)
	if err == nil && v != "" && d <= 0 {
		err = fmt.Errorf("%q must be positive, or -1 for never", v)
	}
	return d, err
}

// parseLevel reads LOG_LEVEL: debug, info, warn or warning, error, critical (as error),
// or a form slog.Level accepts such as "info+2"; case is ignored and empty is info.
func parseLevel(v string) (slog.Level, error) {
	switch t := strings.ToLower(v); t {
	case "":
		return slog.LevelInfo, nil
	case "warning":
		return slog.LevelWarn, nil
	case "critical", "fatal":
		return slog.LevelError, nil
	default:
		var l slog.Level
		if err := l.UnmarshalText([]byte(t)); err != nil {
			return 0, fmt.Errorf("%q is not debug, info, warn or error", v)
		}
		return l, nil
	}
}

// parseRate reads a sample rate in [0, 1]; empty is 0.
func parseRate(v string) (float64, error) {
	if v == "" {
		return 0, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > 1 {
		return 0, fmt.Errorf("%q is not a number in [0, 1]", v)
	}
	return f, nil
}

// maxRedisPrefix bounds REDIS_PREFIX.
const maxRedisPrefix = 64

// checkRedisPrefix accepts 1 to 64 letters, digits and -_.:/@{}: no space, and none of
// the glob characters of SCAN patterns.
func checkRedisPrefix(v string) error {
	ok := v != "" && len(v) <= maxRedisPrefix
	for i := 0; ok && i < len(v); i++ {
		c := v[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.:/@{}", c) >= 0
	}
	if !ok {
		return fmt.Errorf("%q is not 1 to %d letters, digits or -_.:/@{}", v, maxRedisPrefix)
	}
	return nil
}

// maxTTL bounds a cache TTL: 100 years.
const maxTTL = 100 * 365 * 24 * time.Hour

// ttlVar stores a cache TTL: whole seconds ("600") or a Go duration ("10m"), positive and
// at most 100 years; empty keeps def.
func ttlVar(dst func(*Config) *time.Duration, def time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		*dst(c) = def
		if v == "" {
			return nil
		}
		outOfRange := fmt.Errorf("%q is out of range (1 s to 100 years)", v)
		var d time.Duration
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			if n <= 0 || n > int64(maxTTL/time.Second) {
				return outOfRange
			}
			d = time.Duration(n) * time.Second
		} else if d, err = time.ParseDuration(v); err != nil {
			return fmt.Errorf("%q is neither seconds nor a duration like 10m", v)
		}
		if d <= 0 || d > maxTTL {
			return outOfRange
		}
		*dst(c) = d
		return nil
	}
}

// listVar stores a list separated by commas or white space, each item checked by check
// (when not nil).
func listVar(dst func(*Config) *[]string, check func(string) error) func(*Config, string) error {
	return func(c *Config, v string) error {
		items := strings.FieldsFunc(v, func(r rune) bool {
			return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
		})
		*dst(c) = items
		if check == nil {
			return nil
		}
		var errs []error
		for _, it := range items {
			if err := check(it); err != nil {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	}
}

// sizeUnits are the units a size may carry, lower-case: decimal (KB, MB, GB) and binary
// (K or KiB, M or MiB, G or GiB).
var sizeUnits = map[string]int64{
	"": 1, "b": 1,
	"kb": 1000, "mb": 1000 * 1000, "gb": 1000 * 1000 * 1000,
	"k": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mib": 1 << 20, "g": 1 << 30, "gib": 1 << 30,
}

// parseSize reads a positive number of bytes, optionally with a unit ("16777216",
// "16MiB", "8 MB"); empty is def.
func parseSize(v string, def int64) (int64, error) {
	if v == "" {
		return def, nil
	}
	num := strings.TrimRightFunc(v, isNotDigit)
	n, err := strconv.ParseInt(num, 10, 64)
	mult, known := sizeUnits[strings.ToLower(strings.TrimSpace(v[len(num):]))]
	if err != nil || !known || n < 1 || n > math.MaxInt64/mult || strings.IndexFunc(num, isNotDigit) >= 0 {
		return 0, fmt.Errorf("%q is not a positive size such as 16777216 or 16MiB", v)
	}
	return n * mult, nil
}

func isNotDigit(r rune) bool { return r < '0' || r > '9' }

// parseSeconds reads a duration as seconds ("3600", "2.5") or a Go duration ("1h");
// empty is def.
func parseSeconds(v string, def time.Duration) (time.Duration, error) {
	if v == "" {
		return def, nil
	}
	if n, err := strconv.ParseFloat(v, 64); err == nil && n >= 0 && n < 1e9 {
		return time.Duration(n * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is neither seconds nor a duration like 90s", v)
	}
	return d, nil
}

// durationVar stores a duration in [lo, hi], given as seconds ("30", "0.5") or a Go
// duration ("30s"); empty keeps def.
func durationVar(dst func(*Config) *time.Duration, def, lo, hi time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := parseSeconds(v, def)
		if err != nil {
			return err
		}
		if d < lo || d > hi {
			return fmt.Errorf("%q is out of range (%v to %v)", v, lo, hi)
		}
		*dst(c) = d
		return nil
	}
}

// checkRedisURL accepts an empty value or a URL go-redis parses.
func checkRedisURL(v string) error {
	if v == "" {
		return nil
	}
	_, err := redis.ParseURL(v)
	return redact.Error(err, v)
}

// checkPostgresURL accepts a URL net/url parses.
func checkPostgresURL(v string) error {
	if _, err := url.Parse(v); err != nil {
		return fmt.Errorf("malformed PostgreSQL URL: %v", redact.Error(err, v))
	}
	return nil
}

// checkOrigin accepts "*" or an origin such as https://example.com. An origin has no
// user part: one with "user:password@" is refused without quoting it, since its password
// would otherwise reach the logs.
func checkOrigin(o string) error {
	if strings.Contains(o, "@") {
		return errors.New("an origin is scheme://host[:port] and has no user or password part (user:password@); the value is not shown")
	}
	if u, err := url.Parse(o); o != "*" && (err != nil || u.Scheme == "" || u.Host == "") {
		return fmt.Errorf("%q is not an origin like https://example.com", redact.URL(o))
	}
	return nil
}

// checkProxy accepts a CIDR prefix ("10.0.0.0/8") or an address ("192.168.1.1").
func checkProxy(p string) error {
	if strings.Contains(p, "/") {
		if _, err := netip.ParsePrefix(p); err != nil {
			return fmt.Errorf("invalid CIDR %q: %w", p, err)
		}
		return nil
	}
	if _, err := netip.ParseAddr(p); err != nil {
		return fmt.Errorf("invalid address %q: %w", p, err)
	}
	return nil
}

// checkDSN accepts an empty value or a URL with a scheme and a host.
func checkDSN(v string) error {
	if v == "" {
		return nil
	}
	if u, err := url.Parse(v); err != nil || u.Scheme == "" || u.Host == "" {
		return errors.New("not a DSN URL")
	}
	return nil
}

// checkHTTPURL accepts an http or https URL with a host.
func checkHTTPURL(v string) error {
	if u, err := url.Parse(v); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL", redact.URL(v))
	}
	return nil
}
