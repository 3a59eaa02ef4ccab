package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nexus-reussite/harden/cache"
	"github.com/nexus-reussite/harden/internal/clientip"
	"github.com/nexus-reussite/harden/observe"
	"github.com/nexus-reussite/harden/pool"
	"github.com/nexus-reussite/harden/ratelimit"
	"github.com/nexus-reussite/harden/security"
	"github.com/redis/go-redis/v9"
)

// Environments.
const (
	envDevelopment = "development"
	envProduction  = "production"
)

// errConfig is wrapped by every configuration error; the message names the variable.
var errConfig = errors.New("nexus: config")

// Config is the backend's configuration, read from the environment contract of the
// project (see .env.example for every variable and its default).
type Config struct {
	Env  string // APP_ENV (or FLASK_ENV): development (default) | production
	Port int    // PORT: 5000

	SecretKey    string // SECRET_KEY: HMAC key for stored refresh-token digests; random in development
	JWTSecretKey string // JWT_SECRET_KEY: HS256 signing key; random in development

	DatabaseURL string // DATABASE_URL: postgres://… or sqlite://path; empty = SQLite file in the user cache dir
	RedisURL    string // REDIS_URL: redis://…; empty = in-memory limits, cache and revocation

	// Pool: DB_POOL_SIZE (20), DB_MAX_OVERFLOW (30), DB_POOL_TIMEOUT (60 s), DB_POOL_RECYCLE
	// (3600 s), in SQLAlchemy's spellings (seconds or Go durations; overflow 0 = none).
	Pool pool.Config

	// CacheTiers: CACHE_TTL_SHORT | MEDIUM | LONG | PERMANENT, seconds or durations:
	// 600 s, 7200 s, 86400 s, 604800 s.
	CacheTiers cache.Tiers

	RateLimitDefault ratelimit.Rule // RATELIMIT_DEFAULT: "1000 per day;100 per hour;2 per second"

	CompressLevel   int // COMPRESS_LEVEL: 6
	CompressMinSize int // COMPRESS_MIN_SIZE: 500 bytes

	CORSOrigins      []string // CORS_ORIGINS: comma-separated; empty = no cross-origin access
	AllowedHosts     []string // ALLOWED_HOSTS: comma-separated; empty = any host
	TrustedProxies   []string // TRUSTED_PROXIES: comma-separated CIDRs or addresses; empty = none
	MaxContentLength int64    // MAX_CONTENT_LENGTH: 16 MiB (bytes, or sizes like 16MiB)

	SentryDSN              string  // SENTRY_DSN: empty = Sentry off
	SentryTracesSampleRate float64 // SENTRY_TRACES_SAMPLE_RATE: 0 (errors only)

	OpenAIKey   string // OPENAI_API_KEY: empty = ARIA answers 503 "assistant not configured"
	OpenAIBase  string // OPENAI_API_BASE: https://api.openai.com/v1
	OpenAIModel string // OPENAI_MODEL: gpt-4o-mini

	MailServer string // MAIL_SERVER: SMTP host, checked by "nexus diagnose"; empty = mail off
	MailPort   int    // MAIL_PORT: 587

	LogLevel      slog.Level    // LOG_LEVEL: info
	DemoPassword  string        // NEXUS_DEMO_PASSWORD: demo users' password; random and logged once if empty
	ShutdownDelay time.Duration // SHUTDOWN_DELAY: 5 s in production, 0 in development

	// generated lists the secrets made up at start (development only), for one warning.
	generated []string
}

// Production reports whether APP_ENV is production.
func (c *Config) Production() bool { return c.Env == envProduction }

// Addr is the listen address.
func (c *Config) Addr() string { return ":" + strconv.Itoa(c.Port) }

// knownDefaultSecrets are values shipped in examples and tutorials; production refuses them.
var knownDefaultSecrets = []string{
	"", "secret", "changeme", "change-me", "dev", "development", "dev-secret-key",
	"your-secret-key", "your-secret-key-here", "jwt-secret-key", "super-secret",
	"nexus-reussite-secret", "replace-me-with-64-random-hex-characters",
}

// minSecretLength is the shortest secret production accepts.
const minSecretLength = 32

// loadConfig reads the configuration; lookup returns a variable and whether it is set.
func loadConfig(lookup func(string) (string, bool)) (*Config, error) {
	get := func(k string) string { v, _ := lookup(k); return strings.TrimSpace(v) }
	c := &Config{}
	var errs []error
	fail := func(name, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%w: %s: %s", errConfig, name, fmt.Sprintf(format, a...)))
	}

	c.Env = strings.ToLower(get("APP_ENV"))
	envName := "APP_ENV"
	if c.Env == "" {
		c.Env, envName = strings.ToLower(get("FLASK_ENV")), "FLASK_ENV"
	}
	switch c.Env {
	case "":
		c.Env = envDevelopment
	case envDevelopment, envProduction:
	default:
		fail(envName, "%q is neither development nor production", c.Env)
		c.Env = envDevelopment
	}

	c.Port = intVar(get, fail, "PORT", 5000, 1, 65535)

	for _, s := range []struct {
		name string
		dst  *string
	}{{"SECRET_KEY", &c.SecretKey}, {"JWT_SECRET_KEY", &c.JWTSecretKey}} {
		v := get(s.name)
		switch {
		case c.Production() && isDefaultSecret(v):
			if v == "" {
				fail(s.name, "must be set in production")
			} else {
				fail(s.name, "is a published default value; generate one with `openssl rand -hex 32`")
			}
		case c.Production() && len(v) < minSecretLength:
			fail(s.name, "must be at least %d characters in production", minSecretLength)
		case v == "":
			v = randomHex(32)
			c.generated = append(c.generated, s.name)
		}
		*s.dst = v
	}
	if c.Production() && c.SecretKey != "" && c.SecretKey == c.JWTSecretKey {
		fail("JWT_SECRET_KEY", "must differ from SECRET_KEY")
	}

	c.DatabaseURL = get("DATABASE_URL")
	if _, _, err := databaseTarget(c.DatabaseURL); err != nil {
		fail("DATABASE_URL", "%v", err)
	}
	c.RedisURL = get("REDIS_URL")
	if c.RedisURL != "" {
		if _, err := redis.ParseURL(c.RedisURL); err != nil {
			fail("REDIS_URL", "%v", redactErr(err, c.RedisURL))
		}
	}

	for _, kv := range []struct{ env, key string }{
		{"DB_POOL_SIZE", pool.KeySize}, {"DB_MAX_OVERFLOW", pool.KeyOverflow},
		{"DB_POOL_TIMEOUT", pool.KeyTimeout}, {"DB_POOL_RECYCLE", pool.KeyRecycle},
	} {
		if v := get(kv.env); v != "" {
			if err := c.Pool.Set(kv.key, v); err != nil {
				fail(kv.env, "%v", err)
			}
		}
	}
	tiers, err := cache.ParseTiers(get("CACHE_TTL_SHORT"), get("CACHE_TTL_MEDIUM"), get("CACHE_TTL_LONG"), get("CACHE_TTL_PERMANENT"))
	if err != nil {
		fail("CACHE_TTL_SHORT|MEDIUM|LONG|PERMANENT", "%v", err)
	}
	c.CacheTiers = tiers

	rule := get("RATELIMIT_DEFAULT")
	if rule == "" {
		rule = ratelimit.DefaultRule
	}
	if c.RateLimitDefault, err = ratelimit.ParseRule(rule); err != nil {
		fail("RATELIMIT_DEFAULT", "%v", err)
	}

	c.CompressLevel = intVar(get, fail, "COMPRESS_LEVEL", 6, 1, 9)
	c.CompressMinSize = intVar(get, fail, "COMPRESS_MIN_SIZE", 500, 0, 1<<30)

	c.CORSOrigins = security.SplitList(get("CORS_ORIGINS"))
	for _, o := range c.CORSOrigins {
		if u, err := url.Parse(o); o != "*" && (err != nil || u.Scheme == "" || u.Host == "") {
			fail("CORS_ORIGINS", "%q is not an origin like https://example.com", redactURL(o))
		}
	}
	c.AllowedHosts = security.SplitList(get("ALLOWED_HOSTS"))
	c.TrustedProxies = security.SplitList(get("TRUSTED_PROXIES"))
	for _, p := range c.TrustedProxies {
		if _, err := clientip.ParsePrefix(p); err != nil {
			fail("TRUSTED_PROXIES", "%v", err)
		}
	}
	c.MaxContentLength = security.DefaultMaxBodyBytes
	if v := get("MAX_CONTENT_LENGTH"); v != "" {
		if c.MaxContentLength, err = security.ParseSize(v); err != nil || c.MaxContentLength < 1 {
			fail("MAX_CONTENT_LENGTH", "%q is not a positive size such as 16777216 or 16MiB", v)
		}
	}

	c.SentryDSN = get("SENTRY_DSN")
	if c.SentryDSN != "" {
		if u, err := url.Parse(c.SentryDSN); err != nil || u.Scheme == "" || u.Host == "" {
			fail("SENTRY_DSN", "not a DSN URL")
		}
	}
	if c.SentryTracesSampleRate, err = observe.ParseSampleRate(get("SENTRY_TRACES_SAMPLE_RATE")); err != nil {
		fail("SENTRY_TRACES_SAMPLE_RATE", "%v", err)
	}

	c.OpenAIKey = get("OPENAI_API_KEY")
	c.OpenAIBase = strings.TrimRight(get("OPENAI_API_BASE"), "/")
	if c.OpenAIBase == "" {
		c.OpenAIBase = "https://api.openai.com/v1"
	}
	if u, err := url.Parse(c.OpenAIBase); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		fail("OPENAI_API_BASE", "%q is not an http(s) URL", redactURL(c.OpenAIBase))
	}
	c.OpenAIModel = get("OPENAI_MODEL")
	if c.OpenAIModel == "" {
		c.OpenAIModel = "gpt-4o-mini"
	}

	c.MailServer = get("MAIL_SERVER")
	c.MailPort = intVar(get, fail, "MAIL_PORT", 587, 1, 65535)

	if c.LogLevel, err = observe.ParseLevel(get("LOG_LEVEL")); err != nil {
		fail("LOG_LEVEL", "%v", err)
	}

	c.DemoPassword = get("NEXUS_DEMO_PASSWORD")
	if c.DemoPassword != "" && len(c.DemoPassword) < 8 {
		fail("NEXUS_DEMO_PASSWORD", "must be at least 8 characters")
	}
	defDelay := time.Duration(0)
	if c.Production() {
		defDelay = 5 * time.Second
	}
	c.ShutdownDelay = secondsVar(get, fail, "SHUTDOWN_DELAY", defDelay)

	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, nil
}

// envLookup combines the process environment with a parsed .env file; the process wins.
func envLookup(dotenv map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		if v, ok := os.LookupEnv(k); ok {
			return v, true
		}
		v, ok := dotenv[k]
		return v, ok
	}
}

func isDefaultSecret(v string) bool {
	l := strings.ToLower(v)
	for _, d := range knownDefaultSecrets {
		if l == d {
			return true
		}
	}
	return strings.Contains(l, "change") && strings.Contains(l, "me")
}

func intVar(get func(string) string, fail func(string, string, ...any), name string, def, lo, hi int) int {
	v := get(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		fail(name, "%q is not an integer in [%d, %d]", v, lo, hi)
		return def
	}
	return n
}

// secondsVar accepts integer seconds ("3600") or a Go duration ("1h").
func secondsVar(get func(string) string, fail func(string, string, ...any), name string, def time.Duration) time.Duration {
	v := get(name)
	if v == "" {
		return def
	}
	if n, err := strconv.ParseFloat(v, 64); err == nil && n >= 0 && n < 1e9 {
		return time.Duration(n * float64(time.Second))
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		fail(name, "%q is neither seconds nor a duration like 90s", v)
		return def
	}
	return d
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// databaseTarget returns the database/sql driver and DSN for DATABASE_URL.
func databaseTarget(raw string) (driver, dsn string, err error) {
	switch {
	case raw == "":
		dir, err := os.UserCacheDir()
		if err != nil {
			dir = os.TempDir()
		}
		return "sqlite", filepath.Join(dir, "nexus-reussite", "nexus.db"), nil
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		if _, err := url.Parse(raw); err != nil {
			return "", "", fmt.Errorf("malformed PostgreSQL URL: %v", redactErr(err, raw))
		}
		return "pgx", raw, nil
	case strings.HasPrefix(raw, "sqlite://"):
		p := strings.TrimPrefix(raw, "sqlite://")
		if p == "" {
			return "", "", errors.New("sqlite:// needs a file path")
		}
		return "sqlite", p, nil
	case strings.HasPrefix(raw, "sqlite:"):
		return "sqlite", strings.TrimPrefix(raw, "sqlite:"), nil
	}
	return "", "", errors.New("want postgres://… or sqlite://path")
}
