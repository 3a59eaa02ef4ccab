package ratelimit

import (
	"net/http"
	"net/netip"
	"strings"

	"github.com/nexus-reussite/harden/internal/clientip"
)

// clientIP returns what res.ClientIP(r) returns, without allocating in the
// common cases: an untrusted peer, and a trusted one naming the client in
// X-Forwarded-For. The X-Forwarded-For hops are walked from the right in place rather
// than split into a slice; requests carrying Forwarded go through the resolver.
func clientIP(res *clientip.Resolver, r *http.Request) netip.Addr {
	peer := clientip.Peer(r)
	if !res.Trusted(peer) {
		return peer
	}
	if len(r.Header["Forwarded"]) > 0 {
		return res.ClientIP(r)
	}
	client := peer
	lines := r.Header["X-Forwarded-For"]
	for i := len(lines) - 1; i >= 0; i-- {
		line := lines[i]
		for {
			comma := strings.LastIndexByte(line, ',')
			a := parseHop(line[comma+1:])
			if !a.IsValid() {
				return client // nothing beyond an unparsable hop can be believed
			}
			client = a
			if !res.Trusted(a) {
				return a
			}
			if comma < 0 {
				break
			}
			line = line[:comma]
		}
	}
	return client
}

// parseHop parses one X-Forwarded-For hop as the resolver does: "1.2.3.4",
// "1.2.3.4:80", "[::1]:80", "::1" or "[::1]", surrounding spaces ignored, zones dropped,
// IPv4-mapped IPv6 addresses unmapped. Anything else is the zero Addr.
func parseHop(s string) netip.Addr {
	s = strings.TrimSpace(s)
	if s == "" {
		return netip.Addr{}
	}
	host := s
	switch {
	case s[0] == '[':
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return netip.Addr{}
		}
		host = s[1:end]
	case strings.Count(s, ":") == 1:
		host = s[:strings.IndexByte(s, ':')]
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.WithZone("").Unmap()
}
