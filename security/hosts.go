package security

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// hostPattern is one AllowedHosts entry.
type hostPattern struct {
	name     string // lower-case host name or IP literal without brackets; suffix for wildcards (".example.com")
	port     string // "" matches any port
	wildcard bool
}

// hostList matches request hosts against AllowedHosts.
type hostList struct {
	patterns []hostPattern
	any      bool // AllowedHosts is ["*"]
}

// anyHost is the AllowedHosts entry that accepts every well-formed host.
const anyHost = "*"

func newHostList(entries []string, dev bool) (*hostList, error) {
	l := &hostList{}
	for _, e := range entries {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		if e == anyHost {
			l.any = true
			continue
		}
		wild := strings.HasPrefix(e, "*.")
		raw := e
		if wild {
			raw = e[2:]
		}
		name, port, ok := splitHost(raw)
		if !ok || (wild && (strings.Contains(name, ":") || isIPv4(name))) {
			return nil, fmt.Errorf("%w: allowed host %q is not a host name, host:port or *.domain", ErrInvalidConfig, e)
		}
		p := hostPattern{name: name, port: port, wildcard: wild}
		if wild {
			p.name = "." + name
		}
		l.patterns = append(l.patterns, p)
	}
	if l.any && len(l.patterns) > 0 {
		return nil, fmt.Errorf("%w: allowed host %q accepts every host; list it alone or list the hosts", ErrInvalidConfig, anyHost)
	}
	if dev && len(l.patterns) > 0 {
		for _, h := range []string{"localhost", "127.0.0.1", "::1"} {
			l.patterns = append(l.patterns, hostPattern{name: h})
		}
	}
	return l, nil
}

// redirects reports whether plain HTTP may be redirected to the request's host: only when
// AllowedHosts names the hosts, or is "*".
func (l *hostList) redirects() bool {
	return l.any || len(l.patterns) > 0
}

// match reports whether host (a Host header value) is allowed. Without patterns (no
// AllowedHosts, or "*") every syntactically valid host is allowed.
func (l *hostList) match(host string) bool {
	name, port, ok := splitHost(host)
	if !ok {
		return false
	}
	if len(l.patterns) == 0 {
		return true
	}
	for _, p := range l.patterns {
		if p.port != "" && p.port != port {
			continue
		}
		if p.wildcard {
			if len(name) > len(p.name) && strings.HasSuffix(name, p.name) {
				return true
			}
		} else if name == p.name {
			return true
		}
	}
	return false
}

// splitHost validates a Host value and returns its lower-case name (IPv6 without
// brackets) and port. It accepts DNS names (letters, digits, '-', '_', '.'; labels of
// 1..63 bytes; at most 253 bytes), IPv4 and bracketed IPv6 literals, each with an
// optional numeric port in 1..65535. Anything else — user info, paths, spaces, percent
// signs, empty labels — is refused.
func splitHost(h string) (name, port string, ok bool) {
	if h == "" || len(h) > 261 {
		return "", "", false
	}
	if h[0] == '[' {
		end := strings.IndexByte(h, ']')
		if end < 0 {
			return "", "", false
		}
		a, err := netip.ParseAddr(h[1:end])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return "", "", false
		}
		rest := h[end+1:]
		if rest != "" {
			if rest[0] != ':' || !validPort(rest[1:]) {
				return "", "", false
			}
			port = rest[1:]
		}
		return strings.ToLower(a.String()), port, true
	}
	name = h
	if i := strings.LastIndexByte(h, ':'); i >= 0 {
		name, port = h[:i], h[i+1:]
		if !validPort(port) {
			return "", "", false
		}
	}
	name = strings.TrimSuffix(name, ".")
	if !validDNSName(name) {
		return "", "", false
	}
	return strings.ToLower(name), port, true
}

func validPort(p string) bool {
	if p == "" || len(p) > 5 || p[0] == '0' {
		return false
	}
	n, err := strconv.Atoi(p)
	return err == nil && n > 0 && n <= 65535
}

func validDNSName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	label := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			if label == 0 {
				return false
			}
			label = 0
			continue
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
		default:
			return false
		}
		label++
		if label > 63 {
			return false
		}
	}
	return label > 0
}

func isIPv4(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.Is4()
}

// redirectHost builds the host part of an HTTPS redirect from a validated request host:
// the name with the configured HTTPS port (none for 443).
func redirectHost(host string, httpsPort int) (string, bool) {
	name, _, ok := splitHost(host)
	if !ok {
		return "", false
	}
	if strings.Contains(name, ":") {
		name = "[" + name + "]"
	}
	if httpsPort != 0 && httpsPort != 443 {
		name += ":" + strconv.Itoa(httpsPort)
	}
	return name, true
}
