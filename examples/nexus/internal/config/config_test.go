package config

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nexus-reussite/harden/pool"
	"github.com/nexus-reussite/harden/ratelimit"
)

func lookupMap(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// envExample is the documented configuration, at the root of the example.
const envExample = "../../.env.example"

const (
	goodSecret    = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a6978"
	goodJWTSecret = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718"
)

func TestConfigDefaults(t *testing.T) {
	c, err := Load(lookupMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Env != Development || c.Port != 5000 || c.IsProduction() {
		t.Fatalf("env %q port %d", c.Env, c.Port)
	}
	if len(c.SecretKey) != 64 || len(c.JWTSecretKey) != 64 || c.SecretKey == c.JWTSecretKey || len(c.GeneratedSecrets) != 2 {
		t.Fatalf("development secrets not generated: %q %q", c.SecretKey, c.JWTSecretKey)
	}
	if c.RateLimitDefault.String() != ratelimit.MustParseRule("10000 per day;1000 per hour;20 per second").String() {
		t.Fatalf("rate limit %s", c.RateLimitDefault)
	}
	if c.CompressLevel != 6 || c.CompressMinSize != 500 || c.MaxContentLength != 16<<20 || c.ShutdownDelay != 0 {
		t.Fatalf("defaults %+v", c)
	}
	if c.OpenAIBase != "https://api.openai.com/v1" || c.OpenAIKey != "" || c.LogLevel != slog.LevelInfo {
		t.Fatalf("defaults %+v", c)
	}
	if driver, dsn, _ := DatabaseTarget(c.DatabaseURL); driver != "sqlite" || !strings.HasSuffix(dsn, "nexus.db") {
		t.Fatalf("embedded database %s %s", driver, dsn)
	}
	if c.RedisPrefix != "nexus:" || c.ClientIPHeader != "X-Forwarded-For" || c.TrustForwardedHost {
		t.Fatalf("prefix %q, client IP header %q, trust forwarded host %v", c.RedisPrefix, c.ClientIPHeader, c.TrustForwardedHost)
	}
	if c.HealthToken != "" || len(c.HealthDetailCIDRs) != 0 || len(c.AllowedHosts) != 0 || c.Pool != (pool.Config{}) {
		t.Fatalf("health %q %v, allowed hosts %v, pool %+v", c.HealthToken, c.HealthDetailCIDRs, c.AllowedHosts, c.Pool)
	}
}

func TestConfigParsesEveryVariable(t *testing.T) {
	c, err := Load(lookupMap(map[string]string{
		"FLASK_ENV": "production", "PORT": "8080", "SECRET_KEY": goodSecret, "JWT_SECRET_KEY": goodJWTSecret,
		"DATABASE_URL": "postgres://nexus:pw@db:5432/nexus", "REDIS_URL": "redis://:pw@cache:6379/1",
		"DB_POOL_SIZE": "5", "DB_MAX_OVERFLOW": "0", "DB_POOL_TIMEOUT": "2.5", "DB_POOL_RECYCLE": "30m",
		"CACHE_TTL_SHORT": "60", "CACHE_TTL_LONG": "2h", "RATELIMIT_DEFAULT": "10/minute",
		"COMPRESS_LEVEL": "9", "COMPRESS_MIN_SIZE": "1024", "CORS_ORIGINS": "https://app.nexus.tn, https://admin.nexus.tn",
		"ALLOWED_HOSTS": "api.nexus.tn", "TRUSTED_PROXIES": "10.0.0.0/8,192.168.1.1", "MAX_CONTENT_LENGTH": "8MiB",
		"SENTRY_DSN": "https://key@sentry.example/1", "SENTRY_TRACES_SAMPLE_RATE": "0.25",
		"OPENAI_API_KEY": "sk-x", "OPENAI_API_BASE": "http://llm.local/v1/", "OPENAI_MODEL": "mistral",
		"LOG_LEVEL": "warning", "NEXUS_DEMO_PASSWORD": "demo-demo", "SHUTDOWN_DELAY": "15",
		"REDIS_PREFIX": "nexus-staging:", "CLIENT_IP_HEADER": "forwarded", "TRUST_FORWARDED_HOST": "true",
		"HEALTH_TOKEN": "9c1f0e6d3b2a41d5", "HEALTH_DETAIL_CIDRS": "10.0.0.0/8, 192.0.2.7",
		"METRICS_TOKEN": "5d41402abc4b2a76b9719d911017c592",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if !c.IsProduction() || c.Port != 8080 || c.Pool.Size != 5 || c.Pool.Overflow != pool.NoOverflow || c.Pool.Timeout != 2500*time.Millisecond || c.Pool.Recycle != 30*time.Minute {
		t.Fatalf("%+v", c)
	}
	if c.CacheTiers.Short != time.Minute || c.CacheTiers.Long != 2*time.Hour || c.CacheTiers.Medium != 2*time.Hour {
		t.Fatalf("tiers %+v", c.CacheTiers)
	}
	if c.RateLimitDefault.String() != "10 per minute" || c.CompressLevel != 9 || c.CompressMinSize != 1024 || c.MaxContentLength != 8<<20 {
		t.Fatalf("%+v", c)
	}
	if len(c.CORSOrigins) != 2 || c.AllowedHosts[0] != "api.nexus.tn" || len(c.TrustedProxies) != 2 {
		t.Fatalf("lists %v %v %v", c.CORSOrigins, c.AllowedHosts, c.TrustedProxies)
	}
	if c.SentryTracesSampleRate != 0.25 || c.OpenAIBase != "http://llm.local/v1" || c.OpenAIModel != "mistral" || c.LogLevel != slog.LevelWarn || c.ShutdownDelay != 15*time.Second {
		t.Fatalf("%+v", c)
	}
	if len(c.GeneratedSecrets) != 0 {
		t.Fatalf("generated %v in production", c.GeneratedSecrets)
	}
	if c.RedisPrefix != "nexus-staging:" || c.ClientIPHeader != "forwarded" || !c.TrustForwardedHost ||
		c.HealthToken != "9c1f0e6d3b2a41d5" || len(c.HealthDetailCIDRs) != 2 {
		t.Fatalf("%+v", c)
	}
}

// TestPoolSettings: DB_POOL_* in SQLAlchemy's meanings, read into the pool's Config.
func TestPoolSettings(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want pool.Config
	}{
		{map[string]string{"DB_POOL_SIZE": "20", "DB_MAX_OVERFLOW": "30", "DB_POOL_TIMEOUT": "60", "DB_POOL_RECYCLE": "3600"},
			pool.Config{Size: 20, Overflow: 30, Timeout: time.Minute, Recycle: time.Hour}},
		{map[string]string{"DB_MAX_OVERFLOW": "0"}, pool.Config{Overflow: pool.NoOverflow}},
		{map[string]string{"DB_MAX_OVERFLOW": "-1"}, pool.Config{Overflow: pool.UnlimitedOverflow}},
		{map[string]string{"DB_POOL_TIMEOUT": "2.5", "DB_POOL_RECYCLE": "-1"}, pool.Config{Timeout: 2500 * time.Millisecond, Recycle: -1}},
		{map[string]string{"DB_POOL_TIMEOUT": "1m30s", "DB_POOL_RECYCLE": "30m"}, pool.Config{Timeout: 90 * time.Second, Recycle: 30 * time.Minute}},
		{map[string]string{"DB_POOL_SIZE": ""}, pool.Config{}},
	} {
		c, err := Load(lookupMap(tc.env))
		if err != nil || c.Pool != tc.want {
			t.Errorf("%v: %+v, %v; want %+v", tc.env, c, err, tc.want)
		}
	}
	for _, kv := range [][2]string{
		{"DB_POOL_SIZE", "0"}, {"DB_POOL_SIZE", "-3"}, {"DB_POOL_SIZE", "twenty"}, {"DB_POOL_SIZE", "1e3"}, {"DB_POOL_SIZE", "70000"},
		{"DB_MAX_OVERFLOW", "-2"}, {"DB_MAX_OVERFLOW", "x"}, {"DB_MAX_OVERFLOW", "99999999999999999999"},
		{"DB_POOL_TIMEOUT", "0"}, {"DB_POOL_TIMEOUT", "-1"}, {"DB_POOL_TIMEOUT", "NaN"}, {"DB_POOL_TIMEOUT", "1e-12"}, {"DB_POOL_TIMEOUT", "soon"},
		{"DB_POOL_RECYCLE", "0"}, {"DB_POOL_RECYCLE", "-Inf"}, {"DB_POOL_RECYCLE", "-2"},
	} {
		_, err := Load(lookupMap(map[string]string{kv[0]: kv[1]}))
		if err == nil || !strings.Contains(err.Error(), kv[0]) {
			t.Errorf("%s=%q: error %v, want one naming the variable", kv[0], kv[1], err)
		}
	}
}

// TestLevelsAndRates: LOG_LEVEL's names and SENTRY_TRACES_SAMPLE_RATE's range.
func TestLevelsAndRates(t *testing.T) {
	for v, want := range map[string]slog.Level{
		"": slog.LevelInfo, "debug": slog.LevelDebug, "INFO": slog.LevelInfo, "Warn": slog.LevelWarn, "WARNING": slog.LevelWarn,
		"error": slog.LevelError, "CRITICAL": slog.LevelError, "info+2": slog.LevelInfo + 2,
	} {
		c, err := Load(lookupMap(map[string]string{"LOG_LEVEL": v}))
		if err != nil || c.LogLevel != want {
			t.Errorf("LOG_LEVEL=%q: %v, want %v", v, err, want)
		}
	}
	for v, want := range map[string]float64{"": 0, "0": 0, "0.25": 0.25, "1": 1, "1e-3": 0.001} {
		c, err := Load(lookupMap(map[string]string{"SENTRY_TRACES_SAMPLE_RATE": v}))
		if err != nil || c.SentryTracesSampleRate != want {
			t.Errorf("SENTRY_TRACES_SAMPLE_RATE=%q: %v, want %v", v, err, want)
		}
	}
	for name, values := range map[string][]string{
		"LOG_LEVEL":                 {"verbose", "10", "info+", "trace"},
		"SENTRY_TRACES_SAMPLE_RATE": {"1.01", "-1", "NaN", "inf", "abc", "50%"},
	} {
		for _, v := range values {
			if _, err := Load(lookupMap(map[string]string{name: v})); err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("%s=%q: error %v, want one naming the variable", name, v, err)
			}
		}
	}
}

// TestProductionRequiresAllowedHosts: production names ALLOWED_HOSTS when it is empty,
// and accepts "*" as an explicit choice of any host.
func TestProductionRequiresAllowedHosts(t *testing.T) {
	env := map[string]string{"APP_ENV": "production", "SECRET_KEY": goodSecret, "JWT_SECRET_KEY": goodJWTSecret, "METRICS_ADDR": ":9090"}
	for _, v := range []string{"", " , "} {
		env["ALLOWED_HOSTS"] = v
		_, err := Load(lookupMap(env))
		if err == nil || !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "ALLOWED_HOSTS: must be set in production") ||
			!strings.Contains(err.Error(), `"*"`) {
			t.Errorf("ALLOWED_HOSTS=%q in production: %v", v, err)
		}
	}
	for _, v := range []string{"*", "api.nexus.tn", "api.nexus.tn,*.nexus.tn"} {
		env["ALLOWED_HOSTS"] = v
		if _, err := Load(lookupMap(env)); err != nil {
			t.Errorf("ALLOWED_HOSTS=%q in production: %v", v, err)
		}
	}
	// Development keeps accepting any host without the variable.
	if _, err := Load(lookupMap(nil)); err != nil {
		t.Fatal(err)
	}
}

// TestProductionRefusesWeakSecrets: production names the offending variable.
func TestProductionRefusesWeakSecrets(t *testing.T) {
	cases := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"JWT_SECRET_KEY": goodJWTSecret}, "SECRET_KEY: must be set in production"},
		{map[string]string{"SECRET_KEY": goodSecret}, "JWT_SECRET_KEY: must be set in production"},
		{map[string]string{"SECRET_KEY": "dev-secret-key", "JWT_SECRET_KEY": goodJWTSecret}, "SECRET_KEY: is a published default"},
		{map[string]string{"SECRET_KEY": goodSecret, "JWT_SECRET_KEY": "change-me-in-production-please-0123456789"}, "JWT_SECRET_KEY: is a published default"},
		{map[string]string{"SECRET_KEY": goodSecret, "JWT_SECRET_KEY": "short-but-unique"}, "JWT_SECRET_KEY: is shorter than 32 characters"},
		{map[string]string{"SECRET_KEY": goodSecret, "JWT_SECRET_KEY": "your-super-secret-jwt-key-here!!"}, "JWT_SECRET_KEY: is a published default"},
		{map[string]string{"SECRET_KEY": strings.Repeat("a", 64), "JWT_SECRET_KEY": goodJWTSecret}, "SECRET_KEY: is repetitive or predictable"},
		{map[string]string{"SECRET_KEY": strings.Repeat("0123456789abcdef", 4), "JWT_SECRET_KEY": goodJWTSecret}, "SECRET_KEY: is repetitive or predictable"},
		{map[string]string{"SECRET_KEY": "abcdefghijklmnopqrstuvwxyz0123456789", "JWT_SECRET_KEY": goodJWTSecret}, "SECRET_KEY: is repetitive or predictable"},
		{map[string]string{"SECRET_KEY": "qwertyuiopasdfghjklzxcvbnm1234567890", "JWT_SECRET_KEY": goodJWTSecret}, "SECRET_KEY: is repetitive or predictable"},
		{map[string]string{"SECRET_KEY": goodSecret, "JWT_SECRET_KEY": "my-production-jwt-signing-secret-for-nexus"}, "JWT_SECRET_KEY: looks like a placeholder"},
		{map[string]string{"SECRET_KEY": goodSecret, "JWT_SECRET_KEY": goodSecret}, "JWT_SECRET_KEY: must differ"},
	}
	for _, c := range cases {
		c.env["APP_ENV"] = "production"
		_, err := Load(lookupMap(c.env))
		if err == nil || !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want %q", c.env, err, c.want)
		}
		// The error never quotes the secret.
		for _, name := range []string{"SECRET_KEY", "JWT_SECRET_KEY"} {
			if v := c.env[name]; err != nil && len(v) >= 8 && v != goodSecret && v != goodJWTSecret && strings.Contains(err.Error(), v[:8]) {
				t.Errorf("%s quoted in %v", name, err)
			}
		}
	}
	// Random values as the documentation says to make them pass, and development takes
	// any value.
	for range 200 {
		if why := SecretWeakness(RandomHex(16)); why != "" {
			t.Fatalf("a random 32-character hex secret: %s", why)
		}
	}
	if _, err := Load(lookupMap(map[string]string{"SECRET_KEY": strings.Repeat("a", 64), "JWT_SECRET_KEY": "dev"})); err != nil {
		t.Fatalf("development: %v", err)
	}
	// The published .env.example values are refused too.
	ex, err := ReadDotenv(envExample)
	if err != nil {
		t.Fatal(err)
	}
	ex["APP_ENV"] = "production"
	if _, err := Load(lookupMap(ex)); err == nil || !strings.Contains(err.Error(), "SECRET_KEY") {
		t.Fatalf(".env.example in production: %v", err)
	}
}

func TestConfigRejectsBadValues(t *testing.T) {
	for name, val := range map[string]string{
		"APP_ENV": "staging", "PORT": "70000", "DATABASE_URL": "mysql://x", "REDIS_URL": "http://x",
		"DB_POOL_SIZE": "0", "DB_POOL_TIMEOUT": "soon", "CACHE_TTL_SHORT": "-1", "RATELIMIT_DEFAULT": "lots per day",
		"COMPRESS_LEVEL": "11", "CORS_ORIGINS": "app.example.com", "TRUSTED_PROXIES": "10.0.0.0/33",
		"MAX_CONTENT_LENGTH": "-5", "SENTRY_DSN": "not a dsn", "SENTRY_TRACES_SAMPLE_RATE": "2",
		"OPENAI_API_BASE": "ftp://x", "LOG_LEVEL": "loud", "NEXUS_DEMO_PASSWORD": "short", "SHUTDOWN_DELAY": "-3s",
		"REDIS_PREFIX": "nexus *", "CLIENT_IP_HEADER": "X-Forwarded-Proto", "TRUST_FORWARDED_HOST": "sometimes",
		"HEALTH_TOKEN": "too-short", "HEALTH_DETAIL_CIDRS": "10.0.0.0/40",
	} {
		_, err := Load(lookupMap(map[string]string{name: val}))
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%q: error %v, want one naming the variable", name, val, err)
		}
	}
}

func TestEnvironmentWinsOverDotenv(t *testing.T) {
	t.Setenv("PORT", "6000")
	look := Env(map[string]string{"PORT": "7000", "LOG_LEVEL": "debug"})
	c, err := Load(look)
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 6000 || c.LogLevel != slog.LevelDebug {
		t.Fatalf("port %d level %v", c.Port, c.LogLevel)
	}
}

// TestConfigErrorsHideCredentials: configuration errors name the variable and never
// quote a credential, however the URL is broken.
func TestConfigErrorsHideCredentials(t *testing.T) {
	for _, c := range []struct{ name, value string }{
		{"REDIS_URL", "redis://:s3cret@cache:port x/0"},
		{"REDIS_URL", "redis://:s3%zzcret@cache:6379/0"},
		{"REDIS_URL", "redis://:s3/cret@cache:6379/0"},
		{"REDIS_URL", "redis://u:s3cret@cache:6379/zz"},
		{"REDIS_URL", "redis://cache:6379/0?password=s3cret&foo=bar"},
		{"DATABASE_URL", "postgres://u:s3cret@db:x/nexus"},
		{"DATABASE_URL", "postgres://u:s3%zzcret@db/nexus"},
		{"DATABASE_URL", "mysql://u:s3cret@db/nexus"},
		{"OPENAI_API_BASE", "ftp://k:s3cret@x/v1?api_key=s3cret"},
		{"OPENAI_API_BASE", "https://k:s3cret@/v1?api_key=s3cret"},
		{"CORS_ORIGINS", "https://u:s3cret@/"},
		{"CORS_ORIGINS", "https://app.example.com,https://admin:s3cret@app.example.com"},
		{"CORS_ORIGINS", "https://admin:s3cret@app.example.com:8443"},
		{"CORS_ORIGINS", "https://s3cret@app.example.com"},
	} {
		_, err := Load(lookupMap(map[string]string{c.name: c.value}))
		if err == nil {
			t.Errorf("%s=%s accepted", c.name, c.value)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, c.name) || strings.Contains(msg, "s3") || strings.Contains(msg, "cret") {
			t.Errorf("%s=%s: %s", c.name, c.value, msg)
		}
	}
}

// TestSizesAndTTLs: the units MAX_CONTENT_LENGTH accepts and the bounds of the cache
// TTLs.
func TestSizesAndTTLs(t *testing.T) {
	for v, want := range map[string]int64{
		"16777216": 16 << 20, "16MiB": 16 << 20, "16 mib": 16 << 20, "8MB": 8_000_000, "1k": 1024, "2 GiB": 2 << 30, "512b": 512,
		"0": -1, "+5": -1, "-5": -1, "1.5MB": -1, "5 MiB 5": -1, "MiB": -1, "5 TB": -1, "9999999999G": -1, "99999999999999999999": -1,
	} {
		c, err := Load(lookupMap(map[string]string{"MAX_CONTENT_LENGTH": v}))
		switch {
		case want < 0 && err == nil:
			t.Errorf("MAX_CONTENT_LENGTH=%q accepted as %d", v, c.MaxContentLength)
		case want >= 0 && (err != nil || c.MaxContentLength != want):
			t.Errorf("MAX_CONTENT_LENGTH=%q: %v, %v; want %d", v, c, err, want)
		}
	}
	for v, want := range map[string]time.Duration{
		"600": 10 * time.Minute, "90m": 90 * time.Minute, "1h30m": 90 * time.Minute, "3153600000": 100 * 365 * 24 * time.Hour,
		"0": -1, "-1": -1, "-5m": -1, "1.5": -1, "3153600001": -1, "876001h": -1, "soon": -1,
	} {
		c, err := Load(lookupMap(map[string]string{"CACHE_TTL_MEDIUM": v}))
		switch {
		case want < 0 && err == nil:
			t.Errorf("CACHE_TTL_MEDIUM=%q accepted as %v", v, c.CacheTiers.Medium)
		case want >= 0 && (err != nil || c.CacheTiers.Medium != want):
			t.Errorf("CACHE_TTL_MEDIUM=%q: %v; want %v", v, err, want)
		}
	}
}

// TestRateLimitDefaultByEnvironment: without RATELIMIT_DEFAULT, development allows enough
// to explore the API by hand and production keeps the library's default; a value set
// wins in both.
func TestRateLimitDefaultByEnvironment(t *testing.T) {
	prod := map[string]string{"APP_ENV": "production", "SECRET_KEY": goodSecret, "JWT_SECRET_KEY": goodJWTSecret, "ALLOWED_HOSTS": "*", "METRICS_ADDR": ":9090"}
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{nil, "10000 per day;1000 per hour;20 per second"},
		{map[string]string{"APP_ENV": "development"}, "10000 per day;1000 per hour;20 per second"},
		{prod, "1000 per day;100 per hour;2 per second"},
		{map[string]string{"RATELIMIT_DEFAULT": "5 per minute"}, "5 per minute"},
		{map[string]string{"APP_ENV": "production", "SECRET_KEY": goodSecret, "JWT_SECRET_KEY": goodJWTSecret,
			"ALLOWED_HOSTS": "*", "METRICS_ADDR": ":9090", "RATELIMIT_DEFAULT": "5 per minute"}, "5 per minute"},
	} {
		cfg, err := Load(lookupMap(c.env))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := cfg.RateLimitDefault.String(), ratelimit.MustParseRule(c.want).String(); got != want {
			t.Errorf("%v: rate limit %s, want %s", c.env, got, want)
		}
	}
	if ratelimit.DefaultRule != "1000 per day;100 per hour;2 per second" {
		t.Errorf("production default is now %q", ratelimit.DefaultRule)
	}
}

// TestDefaultDatabasePerWorkingDirectory: without DATABASE_URL each working directory (each
// checkout) gets its own SQLite file in the user cache directory, the same at every start.
func TestDefaultDatabasePerWorkingDirectory(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache) // os.UserCacheDir on Linux and the BSDs
	t.Setenv("HOME", cache)           // and on macOS
	a, b := filepath.Join(t.TempDir(), "harden"), filepath.Join(t.TempDir(), "harden")
	for _, d := range []string{a, b} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	target := func(dir string) string {
		t.Chdir(dir)
		driver, dsn, err := DatabaseTarget("")
		if err != nil || driver != "sqlite" {
			t.Fatalf("%s: %s %v", dir, driver, err)
		}
		return dsn
	}
	first, second, again := target(a), target(b), target(a)
	if first == second {
		t.Fatalf("two checkouts share %s", first)
	}
	if first != again {
		t.Fatalf("one checkout moved from %s to %s", first, again)
	}
	base, err := os.UserCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{first, second} {
		rel, err := filepath.Rel(filepath.Join(base, "nexus-reussite"), p)
		if err != nil || strings.HasPrefix(rel, "..") || !strings.HasPrefix(filepath.Base(filepath.Dir(p)), "harden-") || filepath.Base(p) != "nexus.db" {
			t.Errorf("default database %s is not <cache>/nexus-reussite/harden-<hash>/nexus.db", p)
		}
	}
}
