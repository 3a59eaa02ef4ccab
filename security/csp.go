package security

import (
	"fmt"
	"slices"
	"strings"
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
// With the default Config it is what responses other than documents carry.
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

// String renders the policy with NonceSource left in place. It does not validate; New,
// WithCSP and Validate do.
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

// policy is a validated CSP ready to be rendered per request. It is immutable and safe
// for concurrent use.
type policy struct {
	// static is the header value when the policy has no nonce, and the value sent until
	// the handler asks for a nonce when it has one (see withoutNonce).
	static string
	// parts are the pieces around each NonceSource; len(parts) > 1 iff the policy uses
	// nonces.
	parts []string
	// framing reports whether the policy has frame-ancestors.
	framing bool
}

// Validate reports whether c is a policy New and WithCSP accept. Directive names must be
// lower-case letters and '-'; sources must be non-empty and free of whitespace, ';', ','
// and control or non-ASCII bytes; 'none' must stand alone; frame-ancestors accepts no
// keyword other than 'self' and 'none'; report-to takes exactly one token;
// upgrade-insecure-requests and block-all-mixed-content take none. Errors wrap
// ErrInvalidConfig.
func (c CSP) Validate() error {
	_, err := c.compile()
	return err
}

// compile validates c and prepares it for rendering.
func (c CSP) compile() (*policy, error) {
	if len(c) == 0 {
		return nil, fmt.Errorf("%w: empty CSP", ErrInvalidConfig)
	}
	for d, srcs := range c {
		if err := checkDirective(d, srcs); err != nil {
			return nil, err
		}
	}
	rendered := c.String()
	_, framing := c[frameAncestorsDn]
	p := &policy{static: rendered, parts: strings.Split(rendered, NonceSource), framing: framing}
	if len(p.parts) == 1 {
		p.parts = nil
	} else {
		p.static = c.withoutNonce().String()
	}
	return p, nil
}

// withoutNonce returns the policy sent by a response whose handler never asked for a
// nonce: each directive loses NonceSource and, with it, 'unsafe-inline' (which browsers
// ignore beside a nonce, so dropping it keeps the policy as strict as the nonce one); a
// directive left with no source becomes 'none'.
func (c CSP) withoutNonce() CSP {
	out := c.clone()
	for d, srcs := range out {
		if !slices.Contains(srcs, NonceSource) {
			continue
		}
		srcs = slices.DeleteFunc(srcs, func(s string) bool {
			return s == NonceSource || strings.EqualFold(s, "'unsafe-inline'")
		})
		if len(srcs) == 0 {
			srcs = []string{"'none'"}
		}
		out[d] = srcs
	}
	return out
}

// usesNonce reports whether the policy contains NonceSource.
func (p *policy) usesNonce() bool { return len(p.parts) > 1 }

// nonceOpen and nonceClose surround a nonce in the rendered policy.
const nonceOpen, nonceClose = "'nonce-", "'"

// render returns the header value with nonce substituted, or the value without nonce
// when nonce is "" or the policy has no NonceSource.
func (p *policy) render(nonce string) string {
	if len(p.parts) == 0 || nonce == "" {
		return p.static
	}
	var b strings.Builder
	b.Grow(p.renderedLen(len(nonce)))
	b.WriteString(p.parts[0])
	for _, s := range p.parts[1:] {
		b.WriteString(nonceOpen)
		b.WriteString(nonce)
		b.WriteString(nonceClose)
		b.WriteString(s)
	}
	return b.String()
}

// renderNewNonce draws a fresh nonce and returns the header value rendered with it and
// the nonce, a substring of the value. The policy must use nonces.
func (p *policy) renderNewNonce() (value, nonce string) {
	var enc [nonceLen]byte
	fillNonce(&enc)
	value = p.render(string(enc[:]))
	start := len(p.parts[0]) + len(nonceOpen)
	return value, value[start : start+nonceLen]
}

// renderedLen is the length of the header value rendered with a nonce of nonceLen bytes.
func (p *policy) renderedLen(nonceLen int) int {
	n := 0
	for _, s := range p.parts {
		n += len(s)
	}
	return n + (len(p.parts)-1)*(len(nonceOpen)+nonceLen+len(nonceClose))
}

// withReporting returns a copy of c reporting to uri through both report-uri and the
// Reporting API group group.
func (c CSP) withReporting(uri, group string) CSP {
	out := c.clone()
	out["report-uri"] = []string{uri}
	out["report-to"] = []string{group}
	return out
}

// checkDirective validates one directive: its name, each source, and the sources the
// directive admits.
func checkDirective(d string, srcs []string) error {
	if err := checkDirectiveName(d); err != nil {
		return err
	}
	for _, s := range srcs {
		if err := checkSource(d, s); err != nil {
			return err
		}
		if s == "'none'" && len(srcs) > 1 {
			return fmt.Errorf("%w: CSP directive %s: 'none' must be the only source", ErrInvalidConfig, d)
		}
	}
	return checkDirectiveSources(d, srcs)
}

// checkDirectiveName accepts lower-case letters and '-'.
func checkDirectiveName(d string) error {
	if d == "" {
		return fmt.Errorf("%w: CSP has an empty directive name", ErrInvalidConfig)
	}
	for i := 0; i < len(d); i++ {
		if c := d[i]; (c < 'a' || c > 'z') && c != '-' {
			return fmt.Errorf("%w: CSP directive %q: names are lower-case letters and '-'", ErrInvalidConfig, d)
		}
	}
	return nil
}

// checkSource refuses empty sources and bytes that would end the source, the directive
// or the header: whitespace, ';', ',', control and non-ASCII bytes.
func checkSource(d, s string) error {
	if s == "" {
		return fmt.Errorf("%w: CSP directive %s has an empty source", ErrInvalidConfig, d)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == ';' || c == ',' {
			return fmt.Errorf("%w: CSP directive %s: source %q contains a forbidden character", ErrInvalidConfig, d, s)
		}
	}
	return nil
}

// checkDirectiveSources applies the rules of particular directives: some take no value,
// report-to takes one group, frame-ancestors no keyword but 'self' and 'none', and a
// fetch directive (…-src) at least one source.
func checkDirectiveSources(d string, srcs []string) error {
	switch d {
	case "upgrade-insecure-requests", "block-all-mixed-content":
		if len(srcs) != 0 {
			return fmt.Errorf("%w: CSP directive %s takes no value", ErrInvalidConfig, d)
		}
	case "report-to":
		if len(srcs) != 1 {
			return fmt.Errorf("%w: CSP directive report-to takes exactly one group name", ErrInvalidConfig)
		}
	case "frame-ancestors":
		for _, s := range srcs {
			if strings.HasPrefix(s, "'") && s != "'self'" && s != "'none'" {
				return fmt.Errorf("%w: CSP frame-ancestors accepts only 'self', 'none', schemes and hosts, not %s", ErrInvalidConfig, s)
			}
		}
	default:
		if strings.HasSuffix(d, "-src") && len(srcs) == 0 {
			return fmt.Errorf("%w: CSP directive %s needs at least one source (use 'none')", ErrInvalidConfig, d)
		}
	}
	return nil
}
