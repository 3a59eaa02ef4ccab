package config

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/nexus-reussite/harden/examples/nexus/internal/redact"
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

// poolVar sets the pool setting key (pool_size, max_overflow…); empty keeps the pool's
// default.
func poolVar(key string) func(*Config, string) error {
	return func(c *Config, v string) error {
		if v == "" {
			return nil
		}
		return c.Pool.Set(key, v)
	}
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

// checkOrigin accepts "*" or an origin such as https://example.com.
func checkOrigin(o string) error {
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
