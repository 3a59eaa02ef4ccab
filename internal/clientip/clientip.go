// Package clientip resolves the client address and scheme of a request through a list of
// trusted proxies.
//
// Forwarding headers (Forwarded, X-Forwarded-For, X-Forwarded-Proto, X-Forwarded-Host) are
// read only when the TCP peer is a trusted proxy. The chain is walked from the right: each
// hop that is itself trusted is skipped, the first untrusted hop is the client. A client
// can therefore prepend whatever it likes to X-Forwarded-For without changing the result.
package clientip

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// Resolver holds the trusted proxy prefixes. The zero value trusts nobody, so forwarding
// headers are ignored and the TCP peer is the client. It is safe for concurrent use.
type Resolver struct {
	trusted []netip.Prefix
}

// New parses trusted proxies given as CIDR prefixes ("10.0.0.0/8") or single addresses
// ("127.0.0.1", "::1").
func New(trusted []string) (*Resolver, error) {
	r := &Resolver{}
	for _, s := range trusted {
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
	return r, nil
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

// ClientIP returns the client address of req. The peer address is returned when the peer
// is untrusted or no forwarding header names a hop. Forwarded (RFC 7239) is preferred over
// X-Forwarded-For when both are present. An unparsable hop ends the walk: the nearest
// trusted hop is returned, since nothing beyond it can be believed. X-Forwarded-For is
// walked in place, so the common cases do not allocate.
func (r *Resolver) ClientIP(req *http.Request) netip.Addr {
	peer := Peer(req)
	if !r.Trusted(peer) {
		return peer
	}
	if v := req.Header["Forwarded"]; len(v) > 0 {
		if els := ParseForwarded(strings.Join(v, ",")); len(els) > 0 {
			client := peer
			for i := len(els) - 1; i >= 0; i-- {
				var done bool
				if client, done = r.step(client, els[i].For); done {
					return client
				}
			}
			return client
		}
	}
	client := peer
	lines := req.Header["X-Forwarded-For"]
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
// Forwarded proto= or X-Forwarded-Proto says so; otherwise "http".
func (r *Resolver) Scheme(req *http.Request) string {
	if req.TLS != nil {
		return "https"
	}
	return scheme(req, r.Trusted(Peer(req)))
}

// Host returns the host the client asked for: the Host header, or from a trusted peer the
// Forwarded host= or X-Forwarded-Host value. Callers must still check it against an
// allow-list before using it in a URL.
func (r *Resolver) Host(req *http.Request) string {
	return host(req, r.Trusted(Peer(req)))
}

// HostScheme returns Host(req) and Scheme(req), parsing the peer address once.
func (r *Resolver) HostScheme(req *http.Request) (hostName, schemeName string) {
	trusted := r.Trusted(Peer(req))
	schemeName = "https"
	if req.TLS == nil {
		schemeName = scheme(req, trusted)
	}
	return host(req, trusted), schemeName
}

// scheme is Scheme for a request without TLS whose peer is trusted or not.
func scheme(req *http.Request, trusted bool) string {
	if !trusted {
		return "http"
	}
	if v := req.Header["Forwarded"]; len(v) > 0 {
		els := ParseForwarded(strings.Join(v, ","))
		if len(els) > 0 {
			if p := strings.ToLower(els[len(els)-1].Proto); p == "https" || p == "http" {
				return p
			}
		}
	}
	if v := first(req.Header["X-Forwarded-Proto"]); v != "" {
		// A chain of proxies appends; the value nearest to us is the last one.
		if strings.EqualFold(lastElement(v), "https") {
			return "https"
		}
	}
	return "http"
}

// host is Host for a request whose peer is trusted or not.
func host(req *http.Request, trusted bool) string {
	if trusted {
		if v := req.Header["Forwarded"]; len(v) > 0 {
			els := ParseForwarded(strings.Join(v, ","))
			if len(els) > 0 && els[len(els)-1].Host != "" {
				return els[len(els)-1].Host
			}
		}
		if v := first(req.Header["X-Forwarded-Host"]); v != "" {
			return lastElement(v)
		}
	}
	return req.Host
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

// first returns the first of a header's values, or "". Header names are looked up in the
// map directly in their canonical form, as http.Header.Get would after canonicalizing.
func first(v []string) string {
	if len(v) > 0 {
		return v[0]
	}
	return ""
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
