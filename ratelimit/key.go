package ratelimit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/netip"
	"strings"

	"github.com/nexus-reussite/harden/internal/clientip"
)

// KeyFunc names the client a request is counted against. An empty string means the
// function has no key for this request; a Limiter then counts the request against the
// client IP, so a missing header or anonymous user can never escape the limit.
type KeyFunc func(r *http.Request) string

// IPKey returns a KeyFunc keyed by client IP: the TCP peer, or, when the peer is one of
// trustedProxies (CIDRs or addresses), the first untrusted hop of X-Forwarded-For
// walked from the right. Headers from untrusted peers are ignored.
// IPv6 addresses are grouped by their first ipv6PrefixLen bits (0 means 64), since one
// subscriber usually holds a whole /64. Keys look like "ip:192.0.2.1" and
// "ip:2001:db8:1:2::/64"; a request without a usable address gets "ip:unknown".
func IPKey(trustedProxies []string, ipv6PrefixLen int) (KeyFunc, error) {
	res, err := clientip.New(clientip.Config{TrustedProxies: trustedProxies})
	if err != nil {
		return nil, fmt.Errorf("%w: trusted proxies: %w", ErrInvalidConfig, err)
	}
	if ipv6PrefixLen == 0 {
		ipv6PrefixLen = 64
	}
	if ipv6PrefixLen < 1 || ipv6PrefixLen > 128 {
		return nil, fmt.Errorf("%w: IPv6 prefix length %d out of range 1..128", ErrInvalidConfig, ipv6PrefixLen)
	}
	return func(r *http.Request) string {
		return ipKey(res.ClientIP(r), ipv6PrefixLen)
	}, nil
}

func ipKey(a netip.Addr, v6bits int) string {
	var buf [64]byte
	return string(appendIPKey(buf[:0], a, v6bits))
}

// appendIPKey appends the key of client address a to b: "ip:" and the address, or for
// IPv6 its prefix of v6bits bits (1 to 128), or "ip:unknown" for the zero Addr.
func appendIPKey(b []byte, a netip.Addr, v6bits int) []byte {
	if !a.IsValid() {
		return append(b, "ip:unknown"...)
	}
	b = append(b, "ip:"...)
	if a.Is4() || v6bits == 128 {
		return a.AppendTo(b)
	}
	p, _ := a.Prefix(v6bits)
	return p.AppendTo(b)
}

// HeaderKey returns a KeyFunc keyed by the value of a request header, typically an API
// key. The value is hashed (SHA-256) so secrets never reach the store; keys look like
// "hdr:X-Api-Key:<32 hex digits>". A missing or empty header gives "".
func HeaderKey(header string) KeyFunc {
	canon := http.CanonicalHeaderKey(header)
	return func(r *http.Request) string {
		v := r.Header.Get(canon)
		if v == "" {
			return ""
		}
		sum := sha256.Sum256([]byte(v))
		return "hdr:" + canon + ":" + hex.EncodeToString(sum[:16])
	}
}

// ContextKey returns a KeyFunc keyed by a value the application put in the request
// context, such as the authenticated user ID: kind + ":" + get(ctx). An empty value
// gives "".
func ContextKey(kind string, get func(ctx context.Context) string) KeyFunc {
	return func(r *http.Request) string {
		v := get(r.Context())
		if v == "" {
			return ""
		}
		return kind + ":" + v
	}
}

// FirstKey returns a KeyFunc giving the first non-empty key of fns: for example the user
// ID when logged in, else the API key, else "".
func FirstKey(fns ...KeyFunc) KeyFunc {
	return func(r *http.Request) string {
		for _, f := range fns {
			if k := f(r); k != "" {
				return k
			}
		}
		return ""
	}
}

// CompositeKey returns a KeyFunc joining the keys of all fns with "|" (for example API
// key and client IP), or "" when any of them is empty.
func CompositeKey(fns ...KeyFunc) KeyFunc {
	return func(r *http.Request) string {
		parts := make([]string, len(fns))
		for i, f := range fns {
			if parts[i] = f(r); parts[i] == "" {
				return ""
			}
		}
		return strings.Join(parts, "|")
	}
}
