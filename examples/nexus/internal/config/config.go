// Package config reads the backend's environment contract into a [Config].
//
// Every variable has one entry in a table ([Load] walks it in order): its name and how its
// value is checked and stored. A wrong value is an error wrapping [ErrConfig] that names
// the variable and never quotes a credential. Development fills in what production must be
// given: missing secrets are made up for the run and listed in Config.GeneratedSecrets.
package config

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nexus-reussite/harden/cache"
	"github.com/nexus-reussite/harden/examples/nexus/internal/domain"
	"github.com/nexus-reussite/harden/pool"
	"github.com/nexus-reussite/harden/ratelimit"
	"github.com/nexus-reussite/harden/security"
)

// Environments (APP_ENV).
const (
	Development = "development"
	Production  = "production"
)

// ErrConfig is wrapped by every configuration error; the message names the variable.
var ErrConfig = errors.New("nexus: config")

// Config is the backend's configuration; .env.example documents every variable and its
// default.
type Config struct {
	Env  string // APP_ENV (or FLASK_ENV): development (default) | production
	Port int    // PORT: 5000

	SecretKey    string // SECRET_KEY: HMAC key for stored refresh-token digests; random in development
	JWTSecretKey string // JWT_SECRET_KEY: HS256 signing key; random in development

	// DatabaseURL (DATABASE_URL) is postgres://… or sqlite://path; empty = an SQLite file
	// of the working directory's own in the user cache directory (see DatabaseTarget).
	DatabaseURL string
	RedisURL    string // REDIS_URL: redis://…; empty = in-memory limits, cache and revocation
	// RedisPrefix (REDIS_PREFIX: "nexus:") starts every key and pub/sub channel the
	// backend uses in Redis, so two services (or two environments) on one Redis never
	// share counters, cache entries, sessions or invalidation messages.
	RedisPrefix string

	// Pool: DB_POOL_SIZE (20), DB_MAX_OVERFLOW (30; 0 = none, -1 = unbounded),
	// DB_POOL_TIMEOUT (60 s), DB_POOL_RECYCLE (3600 s; -1 = never), in SQLAlchemy's
	// meanings; times in seconds or Go durations.
	Pool pool.Config

	// CacheTiers: CACHE_TTL_SHORT | MEDIUM | LONG | PERMANENT, seconds or durations:
	// 600 s, 7200 s, 86400 s, 604800 s.
	CacheTiers cache.Tiers

	// RateLimitDefault (RATELIMIT_DEFAULT) is the limit per client of every route:
	// "1000 per day;100 per hour;2 per second" (ratelimit.DefaultRule) in production,
	// DevelopmentRateLimit in development.
	RateLimitDefault ratelimit.Rule

	CompressLevel   int // COMPRESS_LEVEL: 6
	CompressMinSize int // COMPRESS_MIN_SIZE: 500 bytes

	CORSOrigins []string // CORS_ORIGINS: comma-separated; empty = no cross-origin access
	// AllowedHosts (ALLOWED_HOSTS, comma-separated) are the hosts the server answers for;
	// "*" allows any host. Required in production; empty in development = any host, and
	// no HTTPS redirect.
	AllowedHosts   []string
	TrustedProxies []string // TRUSTED_PROXIES: comma-separated CIDRs or addresses; empty = none
	// ClientIPHeader (CLIENT_IP_HEADER: X-Forwarded-For) is the header family the trusted
	// proxies set: X-Forwarded-For (with X-Forwarded-Proto), Forwarded (RFC 7239), or a
	// single-address header such as X-Real-IP or CF-Connecting-IP. Other forwarding
	// headers are ignored, since a proxy passes through those it does not set.
	ClientIPHeader string
	// TrustForwardedHost (TRUST_FORWARDED_HOST: false) believes the host the trusted
	// proxies forward (X-Forwarded-Host, or host= of Forwarded).
	TrustForwardedHost bool
	MaxContentLength   int64 // MAX_CONTENT_LENGTH: 16 MiB (bytes, or sizes like 16MiB)

	// HealthToken (HEALTH_TOKEN) unlocks the details of /health when sent as
	// "Authorization: Bearer <token>"; empty = no token. HealthDetailCIDRs
	// (HEALTH_DETAIL_CIDRS) are client networks that see them without one; empty = none.
	// Without either, /health shows its status alone, to everyone.
	HealthToken       string
	HealthDetailCIDRs []string

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

	// Quotas bound what one account takes of shared resources (quotas.go):
	// ARIA_DAILY_LIMIT (50), BOOKING_MAX_ACTIVE (10), PARENT_MAX_CHILDREN (6),
	// BOOKING_TIMEZONE (Africa/Tunis) and BOOKING_HOURS (08:00-21:00).
	Quotas domain.Quotas

	// MetricsToken (METRICS_TOKEN) makes /metrics require "Authorization: Bearer
	// <token>"; MetricsAddr (METRICS_ADDR) serves /metrics on its own listener instead of
	// the API's. Production requires one of them (metrics.go).
	MetricsToken string
	MetricsAddr  string

	// Accounts. LoginThrottleFree (LOGIN_THROTTLE_FREE: 5) login attempts on one account
	// go through at once; each further one waits a delay doubling from
	// LoginThrottleBaseDelay (LOGIN_THROTTLE_BASE_DELAY: 1 s) up to LoginThrottleMaxDelay
	// (LOGIN_THROTTLE_MAX_DELAY: 5 min); "off" = no throttling (-1 here).
	// RefreshGrace (REFRESH_GRACE_PERIOD: 30 s, 0 = none) is how long a refresh token
	// just rotated out still yields a new pair of its session.
	LoginThrottleFree      int
	LoginThrottleBaseDelay time.Duration
	LoginThrottleMaxDelay  time.Duration
	RefreshGrace           time.Duration

	// Shedding bounds the expensive routes in flight (password hashing, ARIA).
	Shedding Shedding

	// GeneratedSecrets names the secrets made up at start (development only), for one
	// warning at start and for "nexus diagnose".
	GeneratedSecrets []string
}

// IsProduction reports whether APP_ENV is production.
func (c *Config) IsProduction() bool { return c.Env == Production }

// Addr is the listen address.
func (c *Config) Addr() string { return ":" + strconv.Itoa(c.Port) }

// Default values that are not the library's own defaults.
const (
	defaultPort        = 5000
	defaultOpenAIBase  = "https://api.openai.com/v1"
	defaultOpenAIModel = "gpt-4o-mini"
	defaultMailPort    = 587
	defaultRedisPrefix = "nexus:"
	defaultIPHeader    = "X-Forwarded-For"
	// MinSecretLength is the shortest secret production accepts.
	MinSecretLength = 32
	// minHealthToken is the shortest HEALTH_TOKEN (the health package's minimum).
	minHealthToken = 16
	// DevelopmentRateLimit is RATELIMIT_DEFAULT's default in development: room to explore
	// the API by hand. Production's is ratelimit.DefaultRule.
	DevelopmentRateLimit = "10000 per day;1000 per hour;20 per second"
)

// Defaults of the account settings.
const (
	defaultThrottleFree = 5
	defaultThrottleBase = time.Second
	defaultThrottleMax  = 5 * time.Minute
	defaultRefreshGrace = 30 * time.Second
)

// variable is one entry of the environment contract: its name and how its value (trimmed;
// "" when unset) is checked and stored. Entries run in table order, so an entry may read
// what an earlier one stored (the environment, SECRET_KEY).
type variable struct {
	name string
	set  func(c *Config, v string) error
}

// contract lists every variable read by Load, in order.
var contract = []variable{
	{"PORT", intVar(func(c *Config) *int { return &c.Port }, defaultPort, 1, 65535)},
	{"SECRET_KEY", func(c *Config, v string) error { return c.setSecret("SECRET_KEY", &c.SecretKey, v) }},
	{"JWT_SECRET_KEY", func(c *Config, v string) error {
		if err := c.setSecret("JWT_SECRET_KEY", &c.JWTSecretKey, v); err != nil {
			return err
		}
		if c.IsProduction() && c.SecretKey != "" && c.SecretKey == c.JWTSecretKey {
			return errors.New("must differ from SECRET_KEY")
		}
		return nil
	}},
	{"DATABASE_URL", func(c *Config, v string) error {
		c.DatabaseURL = v
		_, _, err := DatabaseTarget(v)
		return err
	}},
	{"REDIS_URL", func(c *Config, v string) error { c.RedisURL = v; return checkRedisURL(v) }},
	{"REDIS_PREFIX", func(c *Config, v string) error {
		c.RedisPrefix = orDefault(v, defaultRedisPrefix)
		return checkRedisPrefix(c.RedisPrefix)
	}},
	{"DB_POOL_SIZE", func(c *Config, v string) (err error) { c.Pool.Size, err = poolSize(v); return err }},
	{"DB_MAX_OVERFLOW", func(c *Config, v string) (err error) { c.Pool.Overflow, err = poolOverflow(v); return err }},
	{"DB_POOL_TIMEOUT", func(c *Config, v string) (err error) { c.Pool.Timeout, err = poolTimeout(v); return err }},
	{"DB_POOL_RECYCLE", func(c *Config, v string) (err error) { c.Pool.Recycle, err = poolRecycle(v); return err }},
	{"CACHE_TTL_SHORT", ttlVar(func(c *Config) *time.Duration { return &c.CacheTiers.Short }, cache.DefaultShortTTL)},
	{"CACHE_TTL_MEDIUM", ttlVar(func(c *Config) *time.Duration { return &c.CacheTiers.Medium }, cache.DefaultMediumTTL)},
	{"CACHE_TTL_LONG", ttlVar(func(c *Config) *time.Duration { return &c.CacheTiers.Long }, cache.DefaultLongTTL)},
	{"CACHE_TTL_PERMANENT", ttlVar(func(c *Config) *time.Duration { return &c.CacheTiers.Permanent }, cache.DefaultPermanentTTL)},
	{"RATELIMIT_DEFAULT", func(c *Config, v string) (err error) {
		def := ratelimit.DefaultRule
		if !c.IsProduction() {
			def = DevelopmentRateLimit
		}
		c.RateLimitDefault, err = ratelimit.ParseRule(orDefault(v, def))
		return err
	}},
	{"COMPRESS_LEVEL", intVar(func(c *Config) *int { return &c.CompressLevel }, 6, 1, 9)},
	{"COMPRESS_MIN_SIZE", intVar(func(c *Config) *int { return &c.CompressMinSize }, 500, 0, 1<<30)},
	{"CORS_ORIGINS", listVar(func(c *Config) *[]string { return &c.CORSOrigins }, checkOrigin)},
	{"ALLOWED_HOSTS", func(c *Config, v string) error {
		if err := listVar(func(c *Config) *[]string { return &c.AllowedHosts }, nil)(c, v); err != nil {
			return err
		}
		if c.IsProduction() && len(c.AllowedHosts) == 0 {
			return errors.New(`must be set in production: list the host names this server answers for ` +
				`(api.example.com, *.example.com), or "*" to allow any host explicitly`)
		}
		return nil
	}},
	{"TRUSTED_PROXIES", listVar(func(c *Config) *[]string { return &c.TrustedProxies }, checkProxy)},
	{"CLIENT_IP_HEADER", func(c *Config, v string) error {
		c.ClientIPHeader = orDefault(v, defaultIPHeader)
		// The library's own check: a field name that can carry a client address.
		_, err := ratelimit.IPKey(ratelimit.Config{ClientIPHeader: c.ClientIPHeader})
		return err
	}},
	{"TRUST_FORWARDED_HOST", boolVar(func(c *Config) *bool { return &c.TrustForwardedHost })},
	{"MAX_CONTENT_LENGTH", func(c *Config, v string) (err error) {
		c.MaxContentLength, err = parseSize(v, security.DefaultMaxBodyBytes)
		return err
	}},
	{"SENTRY_DSN", func(c *Config, v string) error { c.SentryDSN = v; return checkDSN(v) }},
	{"SENTRY_TRACES_SAMPLE_RATE", func(c *Config, v string) (err error) {
		c.SentryTracesSampleRate, err = parseRate(v)
		return err
	}},
	{"OPENAI_API_KEY", func(c *Config, v string) error { c.OpenAIKey = v; return nil }},
	{"OPENAI_API_BASE", func(c *Config, v string) error {
		c.OpenAIBase = orDefault(strings.TrimRight(v, "/"), defaultOpenAIBase)
		return checkHTTPURL(c.OpenAIBase)
	}},
	{"OPENAI_MODEL", func(c *Config, v string) error { c.OpenAIModel = orDefault(v, defaultOpenAIModel); return nil }},
	{"MAIL_SERVER", func(c *Config, v string) error { c.MailServer = v; return nil }},
	{"MAIL_PORT", intVar(func(c *Config) *int { return &c.MailPort }, defaultMailPort, 1, 65535)},
	{"LOG_LEVEL", func(c *Config, v string) (err error) { c.LogLevel, err = parseLevel(v); return err }},
	{"HEALTH_TOKEN", func(c *Config, v string) error {
		c.HealthToken = v
		switch {
		case v == "":
			return nil
		case IsDefaultSecret(v):
			return errors.New("is a published default value; generate one with `openssl rand -hex 32`")
		case len(v) < minHealthToken:
			return fmt.Errorf("must be at least %d characters", minHealthToken)
		}
		return nil
	}},
	{"HEALTH_DETAIL_CIDRS", listVar(func(c *Config) *[]string { return &c.HealthDetailCIDRs }, checkProxy)},
	{"NEXUS_DEMO_PASSWORD", func(c *Config, v string) error {
		c.DemoPassword = v
		if v == "" {
			return nil
		}
		// The password policy of every account (the message does not quote the value).
		return domain.ValidatePassword(v)
	}},
	{"LOGIN_THROTTLE_FREE", func(c *Config, v string) error {
		if strings.EqualFold(v, "off") {
			c.LoginThrottleFree = -1
			return nil
		}
		return intVar(func(c *Config) *int { return &c.LoginThrottleFree }, defaultThrottleFree, 1, 1000)(c, v)
	}},
	{"LOGIN_THROTTLE_BASE_DELAY", durationVar(func(c *Config) *time.Duration { return &c.LoginThrottleBaseDelay }, defaultThrottleBase, time.Millisecond, time.Hour)},
	{"LOGIN_THROTTLE_MAX_DELAY", func(c *Config, v string) error {
		err := durationVar(func(c *Config) *time.Duration { return &c.LoginThrottleMaxDelay }, defaultThrottleMax, time.Millisecond, 24*time.Hour)(c, v)
		if err == nil && c.LoginThrottleMaxDelay < c.LoginThrottleBaseDelay {
			err = errors.New("must not be shorter than LOGIN_THROTTLE_BASE_DELAY")
		}
		return err
	}},
	{"REFRESH_GRACE_PERIOD", durationVar(func(c *Config) *time.Duration { return &c.RefreshGrace }, defaultRefreshGrace, 0, 5*time.Minute)},
	{"SHUTDOWN_DELAY", func(c *Config, v string) (err error) {
		def := time.Duration(0)
		if c.IsProduction() {
			def = 5 * time.Second
		}
		c.ShutdownDelay, err = parseSeconds(v, def)
		return err
	}},
	{"HASH_CONCURRENCY", intVar(func(c *Config) *int { return &c.Shedding.HashConcurrency }, 0, 0, maxConcurrency)},
	{"HASH_QUEUE", intVar(func(c *Config) *int { return &c.Shedding.HashQueue }, 0, -1, maxQueue)},
	{"HASH_QUEUE_TIMEOUT", queueTimeoutVar(func(c *Config) *time.Duration { return &c.Shedding.HashQueueTimeout })},
	{"ARIA_CONCURRENCY", intVar(func(c *Config) *int { return &c.Shedding.AriaConcurrency }, defaultAriaConcurrency, 1, maxConcurrency)},
	{"ARIA_QUEUE", intVar(func(c *Config) *int { return &c.Shedding.AriaQueue }, 0, -1, maxQueue)},
	{"ARIA_QUEUE_TIMEOUT", queueTimeoutVar(func(c *Config) *time.Duration { return &c.Shedding.AriaQueueTimeout })},
}

// Load reads the configuration; lookup returns a variable and whether it is set. Every
// wrong variable is reported, each on its own line.
func Load(lookup func(string) (string, bool)) (*Config, error) {
	get := func(k string) string { v, _ := lookup(k); return strings.TrimSpace(v) }
	c := &Config{}
	var errs []error
	fail := func(name string, err error) {
		errs = append(errs, fmt.Errorf("%w: %s: %v", ErrConfig, name, err))
	}
	if name, err := c.setEnv(get); err != nil {
		fail(name, err)
	}
	for _, v := range slices.Concat(contract, quotaContract, metricsContract) {
		if err := v.set(c, get(v.name)); err != nil {
			fail(v.name, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, nil
}

// setEnv reads APP_ENV, or FLASK_ENV when APP_ENV is empty, and returns the name of the
// variable it read. An unknown value is an error and counts as development, so that the
// rest of the configuration is still checked.
func (c *Config) setEnv(get func(string) string) (string, error) {
	name := "APP_ENV"
	c.Env = strings.ToLower(get(name))
	if c.Env == "" {
		name = "FLASK_ENV"
		c.Env = strings.ToLower(get(name))
	}
	switch c.Env {
	case "":
		c.Env = Development
	case Development, Production:
	default:
		err := fmt.Errorf("%q is neither development nor production", c.Env)
		c.Env = Development
		return name, err
	}
	return name, nil
}

// setSecret stores a secret: production refuses a missing or weak one (SecretWeakness);
// development makes up a missing one for this run.
func (c *Config) setSecret(name string, dst *string, v string) error {
	*dst = v
	switch {
	case c.IsProduction() && v == "":
		return errors.New("must be set in production")
	case c.IsProduction():
		if why := SecretWeakness(v); why != "" {
			return errors.New(why + "; generate one with `openssl rand -hex 32`")
		}
	case v == "":
		*dst = RandomHex(32)
		c.GeneratedSecrets = append(c.GeneratedSecrets, name)
	}
	return nil
}

// Env looks variables up in the process environment, then in a parsed .env file: the
// process wins.
func Env(dotenv map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		if v, ok := os.LookupEnv(k); ok {
			return v, true
		}
		v, ok := dotenv[k]
		return v, ok
	}
}

// knownDefaultSecrets are values shipped in examples and tutorials; production refuses them.
var knownDefaultSecrets = []string{
	"", "secret", "changeme", "change-me", "dev", "development", "dev-secret-key",
	"your-secret-key", "your-secret-key-here", "jwt-secret-key", "super-secret",
	"nexus-reussite-secret", "replace-me-with-64-random-hex-characters",
	"your-super-secret-jwt-key-here!!", "your-super-secret-key-here", "your-jwt-secret-key",
	"your-secret-key-change-in-production", "super-secret-key", "supersecretkey",
}

// IsDefaultSecret reports a secret that is empty, published in examples and tutorials, or
// asks to be changed.
func IsDefaultSecret(v string) bool {
	l := strings.ToLower(v)
	for _, d := range knownDefaultSecrets {
		if l == d {
			return true
		}
	}
	return strings.Contains(l, "change") && strings.Contains(l, "me")
}

// RandomHex returns n random bytes in hex.
func RandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// DatabaseTarget returns the database/sql driver ("sqlite" or "pgx") and DSN for
// DATABASE_URL; empty means the SQLite file DefaultSQLitePath names.
func DatabaseTarget(raw string) (driver, dsn string, err error) {
	switch {
	case raw == "":
		return "sqlite", DefaultSQLitePath(), nil
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		if err := checkPostgresURL(raw); err != nil {
			return "", "", err
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

// DefaultSQLitePath is the database used without DATABASE_URL:
// <user cache dir>/nexus-reussite/<working directory's name>-<hash of its path>/nexus.db.
// Each checkout (each working directory) has its own, so one run never inherits the demo
// data or passwords of another checkout on the same machine.
func DefaultSQLitePath() string {
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	wd, err := os.Getwd()
	if err != nil {
		wd = "."
	}
	if abs, err := filepath.Abs(wd); err == nil {
		wd = abs
	}
	sum := sha256.Sum256([]byte(wd))
	name := strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return '_'
	}, filepath.Base(wd))
	return filepath.Join(base, "nexus-reussite", name+"-"+hex.EncodeToString(sum[:6]), "nexus.db")
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
