// Package redact hides credentials (URL passwords, credential query parameters and
// connection-string keywords) in values and messages before they reach a log, an error
// or a report.
package redact

import (
	"errors"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// Value stands in for a credential wherever one would be shown.
const Value = "xxxxx"

// secretParam reports a URL query parameter or connection-string keyword holding a
// credential (password=, sslpassword=, api_key=, token=…).
func secretParam(k string) bool {
	k = strings.ToLower(k)
	for _, s := range []string{"password", "secret", "token", "key"} {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

// URL returns raw fit for logs, error messages and reports: the password of its
// user part and the values of its credential query parameters become xxxxx, the rest
// stays as written. A string that does not parse as a URL is redacted as text
// (Text), its own credentials included.
func URL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return Text(raw, raw)
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), Value)
	}
	u.RawQuery = redactParams(u.RawQuery)
	return u.String()
}

// DSN shows DATABASE_URL: PostgreSQL URLs redacted, SQLite paths as they are
// (a file path carries no credential), the empty value as the embedded database.
func DSN(driver, raw string) string {
	if raw == "" {
		return "embedded sqlite"
	}
	if driver == "pgx" {
		return URL(raw)
	}
	return raw
}

// Patterns of credentials in free text.
var (
	// urlUserinfo matches the user part of a URL, up to its last "@".
	urlUserinfo = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://)[^/\s"?#]*@`)
	// param matches key=value in a query string or a key=value connection string; a
	// value may be quoted.
	param = regexp.MustCompile("([^\\s&;?#=\"'`]+)=(\"[^\"]*\"|'[^']*'|[^\\s&;#\"'`]*)")
	// urlEscape matches net/url's quote of a bad %-escape, which may be a piece of
	// a password.
	urlEscape = regexp.MustCompile(`(invalid URL escape) "[^"]*"`)
)

// Text hides credentials in free text such as an error message: every credential
// of the URLs raws wherever it appears (plain or escaped), the user part of any URL it
// quotes, the values of credential parameters (in a query or a key=value connection
// string) and the piece of a URL net/url quotes in an escape error.
func Text(s string, raws ...string) string {
	var secrets []string
	for _, raw := range raws {
		secrets = append(secrets, Secrets(raw)...)
	}
	s = Scrub(s, secrets)
	s = urlUserinfo.ReplaceAllString(s, "${1}"+Value+"@")
	s = urlEscape.ReplaceAllString(s, "$1")
	return redactParams(s)
}

// Error is err with its message passed through Text. When that hides
// something the result is a new error that does not wrap err: a wrapped message
// would carry the credential to whoever walks the chain (error reporters do).
func Error(err error, raws ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if clean := Text(msg, raws...); clean != msg {
		return errors.New(clean)
	}
	return err
}

// redactParams replaces the values of credential parameters in s.
func redactParams(s string) string {
	matches := param.FindAllStringSubmatchIndex(s, -1)
	var b strings.Builder
	last := 0
	for _, m := range matches {
		if m[4] == m[5] || !secretParam(unescape(s[m[2]:m[3]])) {
			continue
		}
		b.WriteString(s[last:m[4]])
		b.WriteString(Value)
		last = m[5]
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// Secrets returns the credentials in raw — the password of its user part and the
// values of credential query parameters — each also in its escaped and unescaped
// forms. A raw that does not parse is read as text: the user part is what lies between
// "://" and the last "@", and the part of a password before a "/", "?" or "#" (which
// a parser takes for a host or port) counts too.
func Secrets(raw string) []string {
	var out []string
	add := func(v string) {
		if v != "" {
			out = append(out, v, unescape(v), url.QueryEscape(v), url.PathEscape(v))
		}
	}
	query := ""
	if u, err := url.Parse(raw); err == nil {
		if p, ok := u.User.Password(); ok {
			add(p)
		}
		query = u.RawQuery
	} else {
		if _, rest, ok := strings.Cut(raw, "://"); ok {
			if i := strings.LastIndexByte(rest, '@'); i >= 0 {
				if _, p, ok := strings.Cut(rest[:i], ":"); ok {
					add(p)
					if j := strings.IndexAny(p, "/?#"); j > 0 {
						add(p[:j])
					}
				}
			}
		}
		_, query, _ = strings.Cut(raw, "?")
	}
	for _, m := range param.FindAllStringSubmatch(query, -1) {
		if secretParam(unescape(m[1])) {
			add(m[2])
		}
	}
	return out
}

// unescape is s with its %-escapes decoded, or s when they are malformed.
func unescape(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// Scrub replaces every occurrence of the non-empty secrets in s, longest first so that
// no part of a secret survives a shorter one that it contains.
func Scrub(s string, secrets []string) string {
	secrets = slices.Clone(secrets)
	slices.SortStableFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, Value)
		}
	}
	return s
}
