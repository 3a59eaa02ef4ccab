package security

import (
	"fmt"
	"slices"
	"strings"
	"unsafe"
)

// CSP is a Content-Security-Policy: directive name → source list. Build one with a
// literal or from DefaultCSP with With and Without:
//
//	security.DefaultCSP().With("img-src", "'self'", "https://cdn.example.com")
//
// The source NonceSource is replaced by a fresh 'nonce-…' on every response; read the
// value in handlers and templates with Nonce. Directives are emitted default-src first,
// then in alphabetical order. A directive with no sources is emitted bare (as
// upgrade-insecure-requests needs).
type CSP map[string][]string

// NonceSource is the placeholder source replaced by the per-request 'nonce-…' value.
const NonceSource = "'nonce'"

// DefaultCSP returns the default policy. It denies everything not listed
// (default-src 'none'), allows same-origin and nonce-bearing scripts and styles,
// same-origin images, fonts, fetches and manifests, forms posting to the same origin, no
// <base> rewriting, no plugins and no framing. It earns the full CSP score of the Mozilla
// HTTP Observatory.
func DefaultCSP() CSP {
	return CSP{
		"default-src":     {"'none'"},
		"script-src":      {"'self'", NonceSource},
		"style-src":       {"'self'", NonceSource},
		"img-src":         {"'self'"},
		"font-src":        {"'self'"},
		"connect-src":     {"'self'"},
		"manifest-src":    {"'self'"},
		"form-action":     {"'self'"},
		"base-uri":        {"'none'"},
		"frame-ancestors": {"'none'"},
	}
}

// APICSP returns a policy for JSON-only services: nothing may load, frame or submit.
func APICSP() CSP {
	return CSP{
		"default-src":     {"'none'"},
		"form-action":     {"'none'"},
		"base-uri":        {"'none'"},
		"frame-ancestors": {"'none'"},
	}
}

// With returns a copy of c with directive set to sources (replacing any previous list).
func (c CSP) With(directive string, sources ...string) CSP {
	out := c.clone()
	out[strings.ToLower(directive)] = slices.Clone(sources)
	return out
}

// Without returns a copy of c without directive.
func (c CSP) Without(directive string) CSP {
	out := c.clone()
	delete(out, strings.ToLower(directive))
	return out
}

func (c CSP) clone() CSP {
	out := make(CSP, len(c)+1)
	for k, v := range c {
		out[k] = slices.Clone(v)
	}
	return out
}

// String renders the policy with NonceSource left in place. It does not validate; New
// and Compile do.
func (c CSP) String() string {
	var b strings.Builder
	for i, d := range c.order() {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(d)
		for _, s := range c[d] {
			b.WriteByte(' ')
			b.WriteString(s)
		}
	}
	return b.String()
}

func (c CSP) order() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		switch {
		case a == b:
			return 0
		case a == "default-src":
			return -1
		case b == "default-src":
			return 1
		}
		return strings.Compare(a, b)
	})
	return keys
}

// Policy is a validated CSP ready to be rendered per request. It is immutable and safe
// for concurrent use.
type Policy struct {
	// static is the header value when the policy has no nonce.
	static string
	// parts are the pieces around each NonceSource; len(parts) > 1 iff the policy uses
	// nonces.
	parts []string
}

// Compile validates c and prepares it for rendering. Directive names must be lower-case
// letters and '-'; sources must be non-empty and free of whitespace, ';', ',' and control
// or non-ASCII bytes; 'none' must stand alone; frame-ancestors accepts no keyword other
// than 'self' and 'none'; report-to takes exactly one token; upgrade-insecure-requests
// and block-all-mixed-content take none. Errors wrap ErrConfig.
func (c CSP) Compile() (*Policy, error) {
	if len(c) == 0 {
		return nil, fmt.Errorf("%w: empty CSP", ErrConfig)
	}
	for d, srcs := range c {
		if err := checkDirective(d, srcs); err != nil {
			return nil, err
		}
	}
	rendered := c.String()
	p := &Policy{parts: strings.Split(rendered, NonceSource)}
	if len(p.parts) == 1 {
		p.static = rendered
		p.parts = nil
	}
	return p, nil
}

// MustCompile is Compile that panics on error, for package-level policies known valid.
func (c CSP) MustCompile() *Policy {
	p, err := c.Compile()
	if err != nil {
		panic(err)
	}
	return p
}

// UsesNonce reports whether the policy contains NonceSource.
func (p *Policy) UsesNonce() bool { return len(p.parts) > 1 }

// Render returns the header value with nonce substituted. nonce is ignored when the
// policy has no NonceSource.
func (p *Policy) Render(nonce string) string {
	if len(p.parts) == 0 {
		return p.static
	}
	n := 0
	for _, s := range p.parts {
		n += len(s)
	}
	tok := "'nonce-" + nonce + "'"
	n += (len(p.parts) - 1) * len(tok)
	var b strings.Builder
	b.Grow(n)
	for i, s := range p.parts {
		if i > 0 {
			b.WriteString(tok)
		}
		b.WriteString(s)
	}
	return b.String()
}

// renderNewNonce draws a fresh nonce and returns the header value rendered with it and
// the nonce, a substring of the value. The value is rendered into buf when it fits, else
// into a new array; the caller must never write to buf afterwards, since the strings
// share its memory. The policy must use nonces.
func (p *Policy) renderNewNonce(buf []byte) (value, nonce string) {
	var enc [nonceLen]byte
	fillNonce(&enc)
	const open, closing = "'nonce-", "'"
	n := p.renderedLen()
	b := buf[:0]
	if cap(b) < n {
		b = make([]byte, 0, n)
	}
	b = append(b, p.parts[0]...)
	for _, s := range p.parts[1:] {
		b = append(b, open...)
		b = append(b, enc[:]...)
		b = append(b, closing...)
		b = append(b, s...)
	}
	value = unsafe.String(unsafe.SliceData(b), len(b))
	start := len(p.parts[0]) + len(open)
	return value, value[start : start+nonceLen]
}

// withReporting returns a copy of c reporting to uri through both report-uri and the
// Reporting API group group.
func (c CSP) withReporting(uri, group string) CSP {
	out := c.clone()
	out["report-uri"] = []string{uri}
	out["report-to"] = []string{group}
	return out
}

func checkDirective(d string, srcs []string) error {
	if d == "" {
		return fmt.Errorf("%w: CSP has an empty directive name", ErrConfig)
	}
	for i := 0; i < len(d); i++ {
		if c := d[i]; (c < 'a' || c > 'z') && c != '-' {
			return fmt.Errorf("%w: CSP directive %q: names are lower-case letters and '-'", ErrConfig, d)
		}
	}
	for _, s := range srcs {
		if s == "" {
			return fmt.Errorf("%w: CSP directive %s has an empty source", ErrConfig, d)
		}
		for i := 0; i < len(s); i++ {
			if c := s[i]; c <= ' ' || c >= 0x7f || c == ';' || c == ',' {
				return fmt.Errorf("%w: CSP directive %s: source %q contains a forbidden character", ErrConfig, d, s)
			}
		}
		if s == "'none'" && len(srcs) > 1 {
			return fmt.Errorf("%w: CSP directive %s: 'none' must be the only source", ErrConfig, d)
		}
	}
	switch d {
	case "upgrade-insecure-requests", "block-all-mixed-content":
		if len(srcs) != 0 {
			return fmt.Errorf("%w: CSP directive %s takes no value", ErrConfig, d)
		}
	case "report-to":
		if len(srcs) != 1 {
			return fmt.Errorf("%w: CSP directive report-to takes exactly one group name", ErrConfig)
		}
	case "frame-ancestors":
		for _, s := range srcs {
			if strings.HasPrefix(s, "'") && s != "'self'" && s != "'none'" {
				return fmt.Errorf("%w: CSP frame-ancestors accepts only 'self', 'none', schemes and hosts, not %s", ErrConfig, s)
			}
		}
	case "sandbox", "report-uri", "require-trusted-types-for", "trusted-types":
	default:
		if strings.HasSuffix(d, "-src") && len(srcs) == 0 {
			return fmt.Errorf("%w: CSP directive %s needs at least one source (use 'none')", ErrConfig, d)
		}
	}
	return nil
}

// renderedLen is the length of the header value renderNewNonce writes.
func (p *Policy) renderedLen() int {
	n := 0
	for _, s := range p.parts {
		n += len(s)
	}
	return n + (len(p.parts)-1)*(len("'nonce-")+nonceLen+len("'"))
}
