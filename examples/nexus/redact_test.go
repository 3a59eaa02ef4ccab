package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRedactURL(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"postgres://nexus:s3cret@db/nexus", "postgres://nexus:xxxxx@db/nexus"},
		{"postgres://nexus@db/nexus?sslmode=require&password=s3cret", "postgres://nexus@db/nexus?sslmode=require&password=xxxxx"},
		{"postgres://u@db/x?sslpassword=s3cret&sslmode=verify-full", "postgres://u@db/x?sslpassword=xxxxx&sslmode=verify-full"},
		{"postgres://u:p%40ss@db/x?PassWord=q%26pw&password=again", "postgres://u:xxxxx@db/x?PassWord=xxxxx&password=xxxxx"},
		{"postgres://u@db/x?pass%77ord=s3cret", "postgres://u@db/x?pass%77ord=xxxxx"},
		{"postgres://u@db/x?password=s3%zz&sslmode=disable", "postgres://u@db/x?password=xxxxx&sslmode=disable"},
		{"postgres://u@db/x?password=s3cret;sslkey=/k.pem", "postgres://u@db/x?password=xxxxx;sslkey=xxxxx"},
		{"redis://:s3cret@cache:6379/0", "redis://:xxxxx@cache:6379/0"},
		{"rediss://default:s3cret@cache:6380/1?dial_timeout=3s", "rediss://default:xxxxx@cache:6380/1?dial_timeout=3s"},
		{"https://api.example/v1?api_key=s3cret&model=x", "https://api.example/v1?api_key=xxxxx&model=x"},
		{"https://api.example/v1?access_token=s3cret", "https://api.example/v1?access_token=xxxxx"},
		{"https://api.example/v1?token=", "https://api.example/v1?token="},
		{"https://user@api.example/v1", "https://user@api.example/v1"},
		{"sqlite:///var/lib/nexus.db", "sqlite:///var/lib/nexus.db"},
		{"", ""},
		// Not URLs to net/url: redacted as text, their own credentials included.
		{"redis://:s3cret@cache:port x/0", "redis://xxxxx@cache:port x/0"},
		{"redis://:s3/cret@cache:6379/0", "redis://xxxxx@cache:6379/0"},
		{"postgres://u:s3cret@db:x/nexus?sslpassword=s3cret2", "postgres://xxxxx@db:x/nexus?sslpassword=xxxxx"},
	} {
		got := redactURL(c.in)
		if got != c.want {
			t.Errorf("redactURL(%q) = %q, want %q", c.in, got, c.want)
		}
		if strings.Contains(got, "s3") || strings.Contains(got, "cret") || strings.Contains(got, "pw") || strings.Contains(got, "again") {
			t.Errorf("redactURL(%q) = %q shows a credential", c.in, got)
		}
	}
}

func TestRedactDSN(t *testing.T) {
	for _, c := range []struct{ driver, in, want string }{
		{"sqlite", "", "embedded sqlite"},
		{"sqlite", "sqlite:///tmp/my nexus.db", "sqlite:///tmp/my nexus.db"},
		{"pgx", "postgres://u:s3cret@db/x?sslpassword=s3cret2", "postgres://u:xxxxx@db/x?sslpassword=xxxxx"},
	} {
		if got := redactDSN(c.driver, c.in); got != c.want {
			t.Errorf("redactDSN(%q, %q) = %q, want %q", c.driver, c.in, got, c.want)
		}
	}
}

func TestRedactText(t *testing.T) {
	for _, c := range []struct {
		in   string
		raws []string
		want string
	}{
		{`parse "redis://:s3cret@cache:port x/0": invalid port ":port x" after host`, nil,
			`parse "redis://xxxxx@cache:port x/0": invalid port ":port x" after host`},
		{`parse "redis://:s3%zzcret@cache:6379/0": invalid URL escape "%zz"`, nil,
			`parse "redis://xxxxx@cache:6379/0": invalid URL escape`},
		{`cannot parse "host=db user=u password=s3cret sslmode=disable": bad`, nil,
			`cannot parse "host=db user=u password=xxxxx sslmode=disable": bad`},
		{`cannot parse host=db password='s3 cret' sslpassword="s3cret"`, nil,
			`cannot parse host=db password=xxxxx sslpassword=xxxxx`},
		{`Post "https://api.example/v1?api_key=s3cret/chat/completions": dial tcp: connection refused`, nil,
			`Post "https://api.example/v1?api_key=xxxxx": dial tcp: connection refused`},
		{"failed: postgres://u@db/x?sslmode=disable&password=s3cret\n\tretrying", nil,
			"failed: postgres://xxxxx@db/x?sslmode=disable&password=xxxxx\n\tretrying"},
		// Credentials of the URLs the text may echo are hidden wherever they appear.
		{"auth p@ss rejected (p%40ss)", []string{"postgres://u:p%40ss@db/x"}, "auth xxxxx rejected (xxxxx)"},
		{"server said q&pw", []string{"postgres://u@db/x?password=q%26pw"}, "server said xxxxx"},
		{"invalid port \":s3\" after host", []string{"redis://:s3/cret@cache"}, "invalid port \":xxxxx\" after host"},
		{"nothing secret here; checks=3, key= and monkey business", nil, "nothing secret here; checks=3, key= and monkey business"},
	} {
		if got := redactText(c.in, c.raws...); got != c.want {
			t.Errorf("redactText(%q, %q)\n got %q\nwant %q", c.in, c.raws, got, c.want)
		}
	}
}

func TestRedactErr(t *testing.T) {
	if redactErr(nil, "redis://:pw@x") != nil {
		t.Fatal("nil error redacted into an error")
	}
	clean := fmt.Errorf("dial: %w", io.ErrUnexpectedEOF)
	if got := redactErr(clean, "redis://:s3cret@x"); got != clean {
		t.Errorf("an error without credentials was replaced: %v", got)
	}
	leaky := fmt.Errorf("connecting to redis://:s3cret@x: %w", io.ErrUnexpectedEOF)
	got := redactErr(leaky, "redis://:s3cret@x")
	if got.Error() != "connecting to redis://xxxxx@x: unexpected EOF" {
		t.Errorf("redacted message %q", got)
	}
	// The credential must not be reachable through the chain either.
	if errors.Unwrap(got) != nil || errors.Is(got, io.ErrUnexpectedEOF) {
		t.Errorf("redacted error still wraps the original")
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
	} {
		_, err := loadConfig(lookupMap(map[string]string{c.name: c.value}))
		if err == nil {
			t.Errorf("%s=%s accepted", c.name, c.value)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, c.name) || strings.Contains(msg, "s3") || strings.Contains(msg, "cret") {
			t.Errorf("%s=%s: %s", c.name, c.value, msg)
		}
	}
}

// TestDatabaseErrorsHideCredentials: a database that cannot be opened or reached is
// reported without the credentials of DATABASE_URL, wherever the driver put them.
func TestDatabaseErrorsHideCredentials(t *testing.T) {
	for _, dsn := range []string{
		"postgres://u:s3cret@127.0.0.1:1/nexus?sslpassword=s3cret2&password=s3cret3&connect_timeout=1&sslmode=disable",
		"postgres://u@127.0.0.1:1/nexus?password=s3cret&connect_timeout=abc",
	} {
		cfg, err := loadConfig(lookupMap(map[string]string{"DATABASE_URL": dsn}))
		if err != nil {
			t.Fatal(err)
		}
		_, err = openDatabase(t.Context(), cfg, slog.New(slog.DiscardHandler), nil)
		if err == nil {
			t.Fatalf("%s: opened", dsn)
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: %v", dsn, err)
		}
		if !strings.Contains(err.Error(), "127.0.0.1") {
			t.Errorf("%s: the error no longer says where: %v", dsn, err)
		}
	}
}

// TestStartupErrorsHideCredentials runs the server as the binary does with broken or
// unreachable URLs: it stops with an error naming the variable or the target, and
// neither its standard output (the JSON log) nor its standard error shows a credential.
func TestStartupErrorsHideCredentials(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, k := range []string{"APP_ENV", "FLASK_ENV", "SECRET_KEY", "JWT_SECRET_KEY", "SENTRY_DSN", "DATABASE_URL", "REDIS_URL", "OPENAI_API_KEY", "MAIL_SERVER", "PORT"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("NEXUS_DEMO_PASSWORD", demoPassword)
	sqlite := "sqlite://" + filepath.Join(dir, "n.db")
	for _, c := range []struct {
		env  map[string]string
		code int
		want string
	}{
		{map[string]string{"REDIS_URL": "redis://:s3cret@cache:port x/0"}, 2, "REDIS_URL"},
		{map[string]string{"DATABASE_URL": "postgres://u:s3cret@db:x/nexus?sslpassword=s3cret2"}, 2, "DATABASE_URL"},
		{map[string]string{"DATABASE_URL": "postgres://u:s3cret@127.0.0.1:1/nexus?password=s3cret2&connect_timeout=1&sslmode=disable"}, 1, "database unreachable (postgres://u:xxxxx@127.0.0.1:1/nexus?password=xxxxx"},
		{map[string]string{"DATABASE_URL": sqlite, "REDIS_URL": "redis://:s3cret@127.0.0.1:1/0?dial_timeout=1s"}, 1, "redis unreachable (redis://:xxxxx@127.0.0.1:1/0"},
	} {
		for k, v := range c.env {
			t.Setenv(k, v)
		}
		var out, errb bytes.Buffer
		code := run(t.Context(), nil, &out, &errb)
		all := out.String() + errb.String()
		if code != c.code || !strings.Contains(all, c.want) || strings.Contains(all, "s3cret") {
			t.Errorf("%v: exit %d (want %d), want %q in the output, no credential:\n%s", c.env, code, c.code, c.want, all)
		}
		for k := range c.env {
			os.Unsetenv(k)
		}
	}
}

// FuzzRedact: whatever the user name, password and credential parameter of a
// PostgreSQL URL, neither the password nor the parameter's value survives redactURL,
// redactDSN or redactText over a message quoting the URL; arbitrary input never panics.
func FuzzRedact(f *testing.F) {
	f.Add("nexus", "s3cret", "q&pw")
	f.Add("", "p@ss/w:rd?#%zz", "")
	f.Add("u s", "päss wörd", "'quoted value'")
	f.Fuzz(func(t *testing.T, user, pass, value string) {
		raw := "postgres://" + url.UserPassword(user, pass).String() + "@db.example:5432/nexus?sslmode=disable&sslpassword=" + url.QueryEscape(value)
		msg := "connecting to " + raw + ": connection refused"
		outputs := map[string]string{
			"redactURL":  redactURL(raw),
			"redactDSN":  redactDSN("pgx", raw),
			"redactText": redactText(msg, raw),
			"redactErr":  redactErr(errors.New(msg), raw).Error(),
		}
		// What the outputs may show: the template, the user name (plain or escaped)
		// and the stand-in value.
		shown := msg + " " + url.User(user).String() + " " + user + " " + redactedValue
		for name, got := range outputs {
			for _, secret := range []string{pass, value, url.QueryEscape(value)} {
				if len(secret) >= 4 && !strings.Contains(shown, secret) && strings.Contains(got, secret) {
					t.Fatalf("%s shows %q: %s", name, secret, got)
				}
			}
		}
		// Arbitrary text and URLs.
		_ = redactURL(user + pass + value)
		_ = redactText(pass, user, value)
	})
}
