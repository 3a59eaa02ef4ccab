package security

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// corsPolicy answers preflights and decorates cross-origin responses. Header values are
// precomputed once.
type corsPolicy struct {
	exact       map[string]bool
	wild        []originPattern
	any         bool
	credentials bool

	methods      map[string]bool
	headers      map[string]bool
	allowMethods string
	allowHeaders string
	exposeHdr    string
	maxAge       string
}

type originPattern struct {
	scheme string
	suffix string // ".example.com"
	port   string // "" = default port only
}

const (
	varyOrigin    = "Origin"
	varyPreflight = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
)

func newCORS(c CORS) (*corsPolicy, error) {
	if len(c.Origins) == 0 {
		return nil, nil
	}
	p := &corsPolicy{exact: map[string]bool{}, credentials: c.AllowCredentials}
	for _, o := range c.Origins {
		if err := p.addOrigin(strings.TrimSpace(o)); err != nil {
			return nil, err
		}
	}
	methods := c.Methods
	if len(methods) == 0 {
		methods = defaultCORSMethods()
	}
	headers := c.Headers
	if len(headers) == 0 {
		headers = defaultCORSHeaders()
	}
	var err error
	if p.methods, err = tokenSet("method", methods, false); err != nil {
		return nil, err
	}
	if p.headers, err = tokenSet("header", headers, true); err != nil {
		return nil, err
	}
	if _, err = tokenSet("expose header", c.ExposeHeaders, false); err != nil {
		return nil, err
	}
	p.allowMethods = strings.Join(methods, ", ")
	p.allowHeaders = strings.Join(headers, ", ")
	p.exposeHdr = strings.Join(c.ExposeHeaders, ", ")
	switch {
	case c.MaxAge == 0:
		p.maxAge = strconv.Itoa(int(defaultCORSMaxAge.Seconds()))
	case c.MaxAge > 0:
		p.maxAge = strconv.FormatInt(int64(c.MaxAge.Seconds()), 10)
	}
	return p, nil
}

// addOrigin adds one Origins entry: "*", an exact origin or a wildcard-subdomain one.
func (p *corsPolicy) addOrigin(o string) error {
	switch o {
	case "":
		return nil
	case "*":
		if p.credentials {
			return fmt.Errorf("%w: CORS origin \"*\" cannot be combined with AllowCredentials", ErrInvalidConfig)
		}
		p.any = true
		return nil
	}
	o = strings.TrimSuffix(strings.ToLower(o), "/")
	scheme, host, ok := strings.Cut(o, "://")
	if !ok || !validScheme(scheme) {
		return fmt.Errorf("%w: CORS origin %q: want scheme://host[:port]", ErrInvalidConfig, o)
	}
	if rest, ok := strings.CutPrefix(host, "*."); ok {
		name, port, ok := splitHost(rest)
		if !ok || strings.Contains(name, ":") || !strings.Contains(name, ".") {
			return fmt.Errorf("%w: CORS origin %q: wildcard needs a domain with a dot, like https://*.example.com", ErrInvalidConfig, o)
		}
		p.wild = append(p.wild, originPattern{scheme: scheme, suffix: "." + name, port: port})
		return nil
	}
	if _, _, ok := splitHost(host); !ok {
		return fmt.Errorf("%w: CORS origin %q: invalid host", ErrInvalidConfig, o)
	}
	p.exact[o] = true
	return nil
}

// tokenSet checks that every item is an RFC 9110 token and returns them as a set, lower
// case when fold (header names compare case-insensitively; methods do not).
func tokenSet(what string, items []string, fold bool) (map[string]bool, error) {
	set := make(map[string]bool, len(items))
	for _, it := range items {
		it = strings.TrimSpace(it)
		if !validToken(it) {
			return nil, fmt.Errorf("%w: CORS %s %q", ErrInvalidConfig, what, it)
		}
		if fold {
			it = strings.ToLower(it)
		}
		set[it] = true
	}
	return set, nil
}

func validScheme(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

// validToken reports whether s is an RFC 9110 token (method and header names).
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// allowed reports whether origin (an Origin header value) is listed. The opaque origin
// "null" is never allowed, not even by "*" with a specific match.
func (p *corsPolicy) allowed(origin string) bool {
	if origin == "" || origin == "null" {
		return false
	}
	if p.exact[origin] {
		return true
	}
	if len(p.wild) > 0 {
		scheme, host, ok := strings.Cut(origin, "://")
		if ok {
			name, port, ok := splitHost(host)
			canonical := name
			if port != "" {
				canonical += ":" + port
			}
			// The origin must already be in serialised form: lower case, no trailing dot
			// (a trailing-dot host is a different origin to browsers).
			if ok && canonical == host {
				for _, w := range p.wild {
					if w.scheme == scheme && w.port == port && len(name) > len(w.suffix) && strings.HasSuffix(name, w.suffix) {
						return true
					}
				}
			}
		}
	}
	return p.any
}

// listed reports whether origin is explicitly listed (exact or wildcard), which is what
// earns trust from the CSRF check; "*" does not.
func (p *corsPolicy) listed(origin string) bool {
	if p == nil {
		return false
	}
	if p.any {
		q := *p
		q.any = false
		return q.allowed(origin)
	}
	return p.allowed(origin)
}

func isPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Origin") != "" &&
		r.Header.Get("Access-Control-Request-Method") != ""
}

// preflight answers a CORS preflight and reports nil, or returns the rejection.
func (p *corsPolicy) preflight(w http.ResponseWriter, r *http.Request, b *valueBuf) *RejectError {
	h := w.Header()
	appendVary(h, b, varyPreflight)
	origin := r.Header.Get("Origin")
	if !p.allowed(origin) || !p.methods[r.Header.Get("Access-Control-Request-Method")] {
		return rejectCORS()
	}
	for _, line := range r.Header.Values("Access-Control-Request-Headers") {
		for f := range strings.SplitSeq(line, ",") {
			f = strings.TrimSpace(f)
			if f != "" && !p.headers[strings.ToLower(f)] {
				return rejectCORS()
			}
		}
	}
	p.setOrigin(h, r, b)
	b.set(h, "Access-Control-Allow-Methods", p.allowMethods)
	b.set(h, "Access-Control-Allow-Headers", p.allowHeaders)
	if p.maxAge != "" {
		b.set(h, "Access-Control-Max-Age", p.maxAge)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// actual decorates the response to a non-preflight request.
func (p *corsPolicy) actual(h http.Header, r *http.Request, b *valueBuf) {
	appendVary(h, b, varyOrigin)
	if p.allowed(r.Header.Get("Origin")) {
		p.setOrigin(h, r, b)
		if p.exposeHdr != "" {
			b.set(h, "Access-Control-Expose-Headers", p.exposeHdr)
		}
	}
}

func (p *corsPolicy) setOrigin(h http.Header, r *http.Request, b *valueBuf) {
	origin := r.Header.Get("Origin")
	if p.any && !p.credentials && !p.listed(origin) {
		b.set(h, "Access-Control-Allow-Origin", "*")
		return
	}
	b.set(h, "Access-Control-Allow-Origin", origin)
	if p.credentials {
		b.set(h, "Access-Control-Allow-Credentials", "true")
	}
}

func appendVary(h http.Header, b *valueBuf, v string) {
	if old, ok := h["Vary"]; ok {
		h["Vary"] = append(slices.Clip(old), v)
		return
	}
	b.set(h, "Vary", v)
}
