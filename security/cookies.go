package security

import (
	"fmt"
	"net/http"
	"strings"
)

// cookieHardener adds the attributes a Set-Cookie line lacks.
type cookieHardener struct {
	readable map[string]bool
	sameSite string // "; SameSite=Lax"
}

func newCookieHardener(c Cookies) (*cookieHardener, error) {
	if c.Disable {
		return nil, nil
	}
	h := &cookieHardener{readable: make(map[string]bool, len(c.ScriptReadable))}
	for _, n := range c.ScriptReadable {
		h.readable[n] = true
	}
	switch c.SameSite {
	case 0, http.SameSiteDefaultMode, http.SameSiteLaxMode:
		h.sameSite = "; SameSite=Lax"
	case http.SameSiteStrictMode:
		h.sameSite = "; SameSite=Strict"
	case http.SameSiteNoneMode:
		h.sameSite = "; SameSite=None"
	default:
		return nil, fmt.Errorf("%w: Cookies.SameSite %d is not a known mode", ErrInvalidConfig, c.SameSite)
	}
	return h, nil
}

// harden rewrites every Set-Cookie value of h in place. Only lines that miss an attribute
// are reallocated.
func (c *cookieHardener) harden(h http.Header, https bool) {
	lines := h["Set-Cookie"]
	for i, line := range lines {
		if out, changed := c.hardenLine(line, https); changed {
			lines[i] = out
		}
	}
}

// hardenLine adds "; Secure" (over HTTPS, or whenever SameSite=None is stated or added,
// since browsers refuse SameSite=None without it), "; HttpOnly" unless the cookie name is
// script-readable, and the configured SameSite unless the line states one. Attribute names
// are matched case-insensitively as browsers do (RFC 6265 §5.2). A line without '=' in its
// first part is, to browsers, a cookie with an empty name, and is hardened like any other;
// only blank lines are left alone.
func (c *cookieHardener) hardenLine(line string, https bool) (string, bool) {
	if strings.TrimSpace(line) == "" {
		return line, false
	}
	pair, attrs, _ := strings.Cut(line, ";")
	name, _, ok := strings.Cut(pair, "=")
	if ok {
		name = strings.TrimSpace(name)
	} else {
		name = ""
	}
	has := scanCookieAttrs(attrs)
	sameSiteNone := has.sameSiteNone || (!has.sameSite && c.sameSite == "; SameSite=None")
	addSecure := !has.secure && (https || sameSiteNone)
	addHTTPOnly := !has.httpOnly && !c.readable[name]
	if !addSecure && !addHTTPOnly && has.sameSite {
		return line, false
	}
	var b strings.Builder
	b.Grow(len(line) + 40)
	b.WriteString(strings.TrimRight(line, "; \t"))
	if addSecure {
		b.WriteString("; Secure")
	}
	if addHTTPOnly {
		b.WriteString("; HttpOnly")
	}
	if !has.sameSite {
		b.WriteString(c.sameSite)
	}
	return b.String(), true
}

// cookieAttrs records which hardening attributes a Set-Cookie line states.
type cookieAttrs struct {
	secure, httpOnly, sameSite, sameSiteNone bool
}

// scanCookieAttrs reads the attributes after the name=value pair, matching names
// case-insensitively as browsers do.
func scanCookieAttrs(attrs string) cookieAttrs {
	var has cookieAttrs
	for attrs != "" {
		var a string
		a, attrs, _ = strings.Cut(attrs, ";")
		k, v, _ := strings.Cut(a, "=")
		k = strings.TrimSpace(k)
		switch {
		case strings.EqualFold(k, "secure"):
			has.secure = true
		case strings.EqualFold(k, "httponly"):
			has.httpOnly = true
		case strings.EqualFold(k, "samesite"):
			has.sameSite = true
			has.sameSiteNone = strings.EqualFold(strings.TrimSpace(v), "none")
		}
	}
	return has
}
