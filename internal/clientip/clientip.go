// Package clientip resolves the client address, scheme and host of a request through a
// list of trusted proxies and the one header family those proxies are configured to set.
//
// Forwarding headers are read only when the TCP peer is a trusted proxy, and only from the
// configured family; every other forwarding header is ignored, because a proxy passes
// through untouched the headers it does not set itself:
//
//   - "X-Forwarded-For" (the default): the client from X-Forwarded-For, walked from the
//     right, the scheme from X-Forwarded-Proto, the host from X-Forwarded-Host when host
//     trust is enabled. Forwarded is ignored.
//   - "Forwarded" (RFC 7239): client, scheme and host from the Forwarded element the proxy
//     nearest the client appended. X-Forwarded-* are ignored.
//   - any other header name, such as "X-Real-IP", "CF-Connecting-IP" or "True-Client-IP":
//     a header holding one address that the proxy overwrites. The scheme comes from
//     X-Forwarded-Proto and the host, when trusted, from X-Forwarded-Host.
//
// Chains are walked from the right: each hop that is itself trusted is skipped and the
// first untrusted hop is the client, so a client can prepend whatever it likes without
// changing the result.
package clientip

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// Header names of the built-in families.
const (
	XForwardedFor   = "X-Forwarded-For"
	Forwarded       = "Forwarded"
	xForwardedProto = "X-Forwarded-Proto"
	xForwardedHost  = "X-Forwarded-Host"
)

type family uint8

const (
	familyXFF family = iota
	familyForwarded
	familySingle
)

// Config configures a Resolver.
type Config struct {
	// TrustedProxies lists CIDR prefixes ("10.0.0.0/8") or single addresses ("127.0.0.1",
	// "::1") of the proxies whose headers are believed. Empty entries are skipped.
	TrustedProxies []string
	// Header names the header family the proxies set: XForwardedFor (also when empty),
	// Forwarded, or one header holding a single client address.
	Header string
	// TrustHost believes the host a trusted proxy forwards (X-Forwarded-Host, or host= of
	// Forwarded). Off by default: many proxies pass a client's X-Forwarded-Host through.
	TrustHost bool
}

// Resolver holds the trusted proxy prefixes and the header family. The zero value (and a
// nil *Resolver) trusts nobody, so forwarding headers are ignored and the TCP peer is the
// client. It is safe for concurrent use.
type Resolver struct {
	trusted   []netip.Prefix
	family    family
	header    string // canonical name of the single-address header
	trustHost bool
}

// New parses cfg. It fails on an unparsable proxy or a header name that is not a valid
// field name or names a header that carries no client address.
func New(cfg Config) (*Resolver, error) {
	r := &Resolver{trustHost: cfg.TrustHost}
	for _, s := range cfg.TrustedProxies {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		p, err := ParsePrefix(s)
		if err != nil {
			return nil, err
		}
		r.trusted = append(r.trusted, p)
	}
	f, h, err := parseHeader(cfg.Header)
	if err != nil {
		return nil, err
	}
	r.family, r.header = f, h
	return r, nil
}

// parseHeader validates a header family name and returns its family and canonical name.
func parseHeader(name string) (family, string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return familyXFF, XForwardedFor, nil
	}
	if !validFieldName(name) {
		return 0, "", fmt.Errorf("invalid client IP header %q", name)
	}
	c := http.CanonicalHeaderKey(name)
	switch c {
	case XForwardedFor:
		return familyXFF, c, nil
	case Forwarded:
		return familyForwarded, c, nil
	case xForwardedProto, xForwardedHost, "Host", "X-Forwarded-Port", "X-Forwarded-Server":
		return 0, "", fmt.Errorf("client IP header %q carries no client address", name)
	}
	return familySingle, c, nil
}

// validFieldName reports whether name is an RFC 9110 token.
func validFieldName(name string) bool {
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0 {
			continue
		}
		return false
	}
	return name != ""
}

// ParsePrefix parses a CIDR prefix or a single address (as a full-length prefix).
func ParsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("invalid CIDR %q: %w", s, err)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("invalid address %q: %w", s, err)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// Header returns the canonical name of the header carrying the client address.
func (r *Resolver) Header() string {
	if r == nil {
		return XForwardedFor
	}
	switch r.family {
	case familyForwarded:
		return Forwarded
	case familySingle:
		return r.header
	}
	return XForwardedFor
}

// Trusted reports whether a is a trusted proxy.
func (r *Resolver) Trusted(a netip.Addr) bool {
	if r == nil || !a.IsValid() {
		return false
	}
	a = a.Unmap()
	for _, p := range r.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Peer returns the address of the TCP peer from r.RemoteAddr, or the zero Addr.
func Peer(r *http.Request) netip.Addr {
	return parseHost(r.RemoteAddr)
}

// ClientIP returns the client address of req: the peer when the peer is untrusted or the
// configured header names no hop, else the first untrusted hop from the right. An
// unparsable hop ends the walk at the nearest trusted hop, since nothing beyond it can be
// believed. X-Forwarded-For and single-address headers are read in place, without
// allocating.
func (r *Resolver) ClientIP(req *http.Request) netip.Addr {
	peer := Peer(req)
	if !r.Trusted(peer) {
		return peer
	}
	switch r.family {
	case familyForwarded:
		client, _ := r.walkForwarded(peer, req.Header[Forwarded])
		return client
	case familySingle:
		return r.single(peer, req.Header[r.header])
	}
	return r.walkXFF(peer, req.Header[XForwardedFor])
}

// walkXFF walks X-Forwarded-For lines from the right.
func (r *Resolver) walkXFF(client netip.Addr, lines []string) netip.Addr {
	for i := len(lines) - 1; i >= 0; i-- {
		line := lines[i]
		for {
			comma := strings.LastIndexByte(line, ',')
			var done bool
			if client, done = r.step(client, line[comma+1:]); done {
				return client
			}
			if comma < 0 {
				break
			}
			line = line[:comma]
		}
	}
	return client
}

// walkForwarded walks Forwarded elements from the right and returns the client with the
// element the walk stopped at: the one naming the client, appended by the proxy that
// spoke to it, or an unparsable one (appended by a trusted proxy, so still believed). The
// element is nil when the header holds none.
func (r *Resolver) walkForwarded(client netip.Addr, lines []string) (netip.Addr, *Element) {
	if len(lines) == 0 {
		return client, nil
	}
	els := ParseForwarded(strings.Join(lines, ","))
	var at *Element
	for i := len(els) - 1; i >= 0; i-- {
		at = &els[i]
		a := parseHost(at.For)
		if !a.IsValid() {
			return client, at
		}
		client = a
		if !r.Trusted(a) {
			break
		}
	}
	return client, at
}

// single reads a header holding one address. Should a client's copy have survived next
// to the proxy's, the proxy's value is the last one.
func (r *Resolver) single(peer netip.Addr, lines []string) netip.Addr {
	if len(lines) == 0 {
		return peer
	}
	a := parseHost(lastElement(lines[len(lines)-1]))
	if !a.IsValid() {
		return peer
	}
	return a
}

// step takes one hop of the walk from the right: it returns the new candidate and whether
// the walk ends (an untrusted hop is the client; an unparsable one ends at the candidate).
func (r *Resolver) step(client netip.Addr, hop string) (netip.Addr, bool) {
	a := parseHost(hop)
	if !a.IsValid() {
		return client, true
	}
	return a, !r.Trusted(a)
}

// Scheme returns "https" when the request arrived over TLS or, from a trusted peer, when
// the configured family says so; otherwise "http".
func (r *Resolver) Scheme(req *http.Request) string {
	_, s := r.HostScheme(req)
	return s
}

// Host returns the host the client asked for: the Host header, or from a trusted peer
// with host trust enabled the forwarded host. Callers must still check it against an
// allow-list before using it in a URL.
func (r *Resolver) Host(req *http.Request) string {
	h, _ := r.HostScheme(req)
	return h
}

// HostScheme returns Host(req) and Scheme(req), parsing the peer address once.
func (r *Resolver) HostScheme(req *http.Request) (host, scheme string) {
	host, scheme = req.Host, "http"
	if req.TLS != nil {
		scheme = "https"
	}
	if !r.Trusted(Peer(req)) {
		return host, scheme
	}
	if r.family == familyForwarded {
		_, el := r.walkForwarded(Peer(req), req.Header[Forwarded])
		if el == nil {
			return host, scheme
		}
		if req.TLS == nil && strings.EqualFold(el.Proto, "https") {
			scheme = "https"
		}
		if r.trustHost && el.Host != "" {
			host = el.Host
		}
		return host, scheme
	}
	if req.TLS == nil {
		if v := req.Header[xForwardedProto]; len(v) > 0 && strings.EqualFold(lastElement(v[len(v)-1]), "https") {
			scheme = "https"
		}
	}
	if r.trustHost {
		if v := req.Header[xForwardedHost]; len(v) > 0 {
			if h := lastElement(v[len(v)-1]); h != "" {
				host = h
			}
		}
	}
	return host, scheme
}

// lastElement returns the last comma-separated element of v, without surrounding spaces.
func lastElement(v string) string {
	return strings.TrimSpace(v[strings.LastIndexByte(v, ',')+1:])
}

// parseHost parses "1.2.3.4", "1.2.3.4:80", "[::1]:80", "::1" or "[::1]". Zones are
// dropped and IPv4-mapped IPv6 addresses are unmapped. The form is chosen before parsing so
// the common cases never go through an error (errors allocate).
func parseHost(s string) netip.Addr {
	if a, ok := parseIPv4Port(s); ok {
		return a
	}
	return parseHostGeneral(s)
}

// parseHostGeneral is parseHost for every form, without the IPv4 fast path.
func parseHostGeneral(s string) netip.Addr {
	s = strings.TrimSpace(s)
	if s == "" {
		return netip.Addr{}
	}
	var host string
	switch colons := strings.Count(s, ":"); {
	case s[0] == '[':
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return netip.Addr{}
		}
		host = s[1:end]
	case colons == 1:
		host = s[:strings.IndexByte(s, ':')]
	default:
		host = s
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.WithZone("").Unmap()
}

// parseIPv4Port parses the most common form, "1.2.3.4" or "1.2.3.4:port" with nothing
// around it, several times faster than the general path. It reports false for anything
// else (including leading zeros, which netip.ParseAddr rejects), leaving the general path
// to decide.
func parseIPv4Port(s string) (netip.Addr, bool) {
	var ip [4]byte
	i := 0
	for field := range 4 {
		if field > 0 {
			if i >= len(s) || s[i] != '.' {
				return netip.Addr{}, false
			}
			i++
		}
		start, v := i, 0
		for i < len(s) && i-start < 3 && s[i] >= '0' && s[i] <= '9' {
			v = v*10 + int(s[i]-'0')
			i++
		}
		n := i - start
		if n == 0 || v > 255 || (n > 1 && s[start] == '0') {
			return netip.Addr{}, false
		}
		ip[field] = byte(v)
	}
	if i < len(s) && (s[i] != ':' || strings.IndexByte(s[i+1:], ':') >= 0) {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4(ip), true
}
