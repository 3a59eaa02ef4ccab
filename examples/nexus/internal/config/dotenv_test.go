package config

import (
	"context"
	"database/sql/driver"
	"errors"
	"strings"
	"testing"

	"github.com/nexus-reussite/harden/pool"
)

func TestParseDotenv(t *testing.T) {
	in := "\ufeff# comment\n\nexport APP_ENV=production\nPORT = 8080 # inline comment\n" +
		"SECRET_KEY='a#b \"c\"'\nJWT_SECRET_KEY=\"line\\nnext \\\"quoted\\\"\" # trailing\nEMPTY=\nHASH=a#b\n"
	got, err := ParseDotenv(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"APP_ENV": "production", "PORT": "8080", "SECRET_KEY": `a#b "c"`,
		"JWT_SECRET_KEY": "line\nnext \"quoted\"", "EMPTY": "", "HASH": "a#b",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %v", got)
	}
}

func TestParseDotenvErrorsNameTheLine(t *testing.T) {
	for in, line := range map[string]string{
		"A=1\nnot a pair\n":                      "line 2",
		"1ABC=x\n":                               "line 1",
		"A=1\nB=\"open\n":                        "line 2",
		"A='x' y\n":                              "line 1",
		"A-B=1\n":                                "line 1",
		"A=" + strings.Repeat("x", 70000) + "\n": ".env",
	} {
		_, err := ParseDotenv(strings.NewReader(in))
		if err == nil || !errors.Is(err, ErrDotenv) || !strings.Contains(err.Error(), line) {
			t.Errorf("%.30q: error %v, want one mentioning %q", in, err, line)
		}
	}
}

func TestEnvExampleDocumentsEveryVariable(t *testing.T) {
	ex, err := ReadDotenv(envExample)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{
		"APP_ENV", "PORT", "SECRET_KEY", "JWT_SECRET_KEY", "DATABASE_URL", "REDIS_URL", "DB_POOL_SIZE", "DB_MAX_OVERFLOW",
		"DB_POOL_TIMEOUT", "DB_POOL_RECYCLE", "CACHE_TTL_SHORT", "CACHE_TTL_MEDIUM", "CACHE_TTL_LONG", "CACHE_TTL_PERMANENT",
		"RATELIMIT_DEFAULT", "COMPRESS_LEVEL", "COMPRESS_MIN_SIZE", "CORS_ORIGINS", "ALLOWED_HOSTS", "TRUSTED_PROXIES",
		"MAX_CONTENT_LENGTH", "SENTRY_DSN", "SENTRY_TRACES_SAMPLE_RATE", "OPENAI_API_KEY", "OPENAI_API_BASE", "OPENAI_MODEL",
		"LOG_LEVEL", "NEXUS_DEMO_PASSWORD", "SHUTDOWN_DELAY", "REDIS_PREFIX", "CLIENT_IP_HEADER", "TRUST_FORWARDED_HOST",
		"HEALTH_TOKEN", "HEALTH_DETAIL_CIDRS",
		"HASH_CONCURRENCY", "HASH_QUEUE", "HASH_QUEUE_TIMEOUT", "ARIA_CONCURRENCY", "ARIA_QUEUE", "ARIA_QUEUE_TIMEOUT",
	} {
		if _, ok := ex[v]; !ok {
			t.Errorf(".env.example lacks %s", v)
		}
	}
	// The example itself is a valid development configuration.
	if _, err := Load(lookupMap(ex)); err != nil {
		t.Fatalf(".env.example: %v", err)
	}
}

// FuzzParseDotenv: any input parses or fails cleanly, and every parsed key is valid.
func FuzzParseDotenv(f *testing.F) {
	for _, s := range []string{"A=1", "export B='x'", "C=\"a\\nb\" # c", "# only", "D", "=E", "F=\"", "\ufeffG=1\r\nH=2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		m, err := ParseDotenv(strings.NewReader(in))
		if err != nil {
			if !errors.Is(err, ErrDotenv) {
				t.Fatalf("error %v does not wrap ErrDotenv", err)
			}
			return
		}
		for k := range m {
			if !validEnvKey(k) {
				t.Fatalf("invalid key %q accepted", k)
			}
		}
	})
}

// FuzzLoadConfig: no environment value makes Load panic, errors wrap ErrConfig, and an
// accepted pool setting is one the pool accepts.
func FuzzLoadConfig(f *testing.F) {
	f.Add("PORT", "5000")
	f.Add("RATELIMIT_DEFAULT", "5 per 0 seconds")
	f.Add("DB_MAX_OVERFLOW", "-1")
	f.Add("DB_POOL_SIZE", "65536")
	f.Add("DB_POOL_TIMEOUT", "9223372036.9")
	f.Add("DB_POOL_RECYCLE", "-1")
	f.Add("MAX_CONTENT_LENGTH", "99999999999999999999")
	f.Add("TRUSTED_PROXIES", "::ffff:1.2.3.4/200")
	f.Add("LOG_LEVEL", "error+100")
	f.Add("SENTRY_TRACES_SAMPLE_RATE", "1e-400")
	f.Add("CLIENT_IP_HEADER", "X-Real-IP")
	f.Add("REDIS_PREFIX", "nexus:{eu}")
	f.Fuzz(func(t *testing.T, name, value string) {
		c, err := Load(lookupMap(map[string]string{name: value}))
		if err == nil && c == nil {
			t.Fatal("nil config without error")
		}
		if err != nil {
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("error %v does not wrap ErrConfig", err)
			}
			return
		}
		p, err := pool.New(nopConnector{}, c.Pool)
		if err != nil {
			t.Fatalf("%s=%q gave pool config %+v: %v", name, value, c.Pool, err)
		}
		_ = p.Close()
	})
}

// nopConnector lets pool.New run without a database: New never connects.
type nopConnector struct{}

func (nopConnector) Connect(context.Context) (driver.Conn, error) { return nil, driver.ErrBadConn }
func (nopConnector) Driver() driver.Driver                        { return nil }
