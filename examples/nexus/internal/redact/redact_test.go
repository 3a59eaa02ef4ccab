package redact

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"testing"
)

func TestURL(t *testing.T) {
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
		got := URL(c.in)
		if got != c.want {
			t.Errorf("URL(%q) = %q, want %q", c.in, got, c.want)
		}
		if strings.Contains(got, "s3") || strings.Contains(got, "cret") || strings.Contains(got, "pw") || strings.Contains(got, "again") {
			t.Errorf("URL(%q) = %q shows a credential", c.in, got)
		}
	}
}

func TestDSN(t *testing.T) {
	for _, c := range []struct{ driver, in, want string }{
		{"sqlite", "", "embedded sqlite"},
		{"sqlite", "sqlite:///tmp/my nexus.db", "sqlite:///tmp/my nexus.db"},
		{"pgx", "postgres://u:s3cret@db/x?sslpassword=s3cret2", "postgres://u:xxxxx@db/x?sslpassword=xxxxx"},
	} {
		if got := DSN(c.driver, c.in); got != c.want {
			t.Errorf("DSN(%q, %q) = %q, want %q", c.driver, c.in, got, c.want)
		}
	}
}

func TestText(t *testing.T) {
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
		if got := Text(c.in, c.raws...); got != c.want {
			t.Errorf("Text(%q, %q)\n got %q\nwant %q", c.in, c.raws, got, c.want)
		}
	}
}

func TestError(t *testing.T) {
	if Error(nil, "redis://:pw@x") != nil {
		t.Fatal("nil error redacted into an error")
	}
	clean := fmt.Errorf("dial: %w", io.ErrUnexpectedEOF)
	if got := Error(clean, "redis://:s3cret@x"); got != clean {
		t.Errorf("an error without credentials was replaced: %v", got)
	}
	leaky := fmt.Errorf("connecting to redis://:s3cret@x: %w", io.ErrUnexpectedEOF)
	got := Error(leaky, "redis://:s3cret@x")
	if got.Error() != "connecting to redis://xxxxx@x: unexpected EOF" {
		t.Errorf("redacted message %q", got)
	}
	// The credential must not be reachable through the chain either.
	if errors.Unwrap(got) != nil || errors.Is(got, io.ErrUnexpectedEOF) {
		t.Errorf("redacted error still wraps the original")
	}
}

// FuzzRedact: whatever the user name, password and credential parameter of a
// PostgreSQL URL, neither the password nor the parameter's value survives URL,
// DSN or Text over a message quoting the URL; arbitrary input never panics.
func FuzzRedact(f *testing.F) {
	f.Add("nexus", "s3cret", "q&pw")
	f.Add("", "p@ss/w:rd?#%zz", "")
	f.Add("u s", "päss wörd", "'quoted value'")
	f.Fuzz(func(t *testing.T, user, pass, value string) {
		raw := "postgres://" + url.UserPassword(user, pass).String() + "@db.example:5432/nexus?sslmode=disable&sslpassword=" + url.QueryEscape(value)
		msg := "connecting to " + raw + ": connection refused"
		outputs := map[string]string{
			"URL":   URL(raw),
			"DSN":   DSN("pgx", raw),
			"Text":  Text(msg, raw),
			"Error": Error(errors.New(msg), raw).Error(),
		}
		// What the outputs may show: the template, the user name (plain or escaped)
		// and the stand-in value.
		shown := msg + " " + url.User(user).String() + " " + user + " " + Value
		for name, got := range outputs {
			for _, secret := range []string{pass, value, url.QueryEscape(value)} {
				if len(secret) >= 4 && !strings.Contains(shown, secret) && strings.Contains(got, secret) {
					t.Fatalf("%s shows %q: %s", name, secret, got)
				}
			}
		}
		// Arbitrary text and URLs.
		_ = URL(user + pass + value)
		_ = Text(pass, user, value)
	})
}
