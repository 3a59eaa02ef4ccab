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

// IPKey returns the KeyFunc a Limiter built from cfg counts a client by when Config.Key
// gives no key: the client IP, resolved from cfg.TrustedProxies, cfg.ClientIPHeader and
// cfg.IPv6PrefixLen exactly as the limiter resolves it (the other fields are ignored). Use
// it to compose keys, such as CompositeKey(HeaderKey("X-Api-Key"), ip), that must name
// the same client as the limiter. Keys look like "ip:192.0.2.1" and
// "ip:2001:db8:1:2::/64"; a request without a usable address gets "ip:unknown". Errors
// wrap ErrInvalidConfig.
func IPKey(cfg Config) (KeyFunc, error) {
	k, err := newClientKey(cfg)
	if err != nil {
		return nil, err
	}
	return func(r *http.Request) string {
		var buf [64]byte
		return string(k.append(buf[:0], k.resolver.ClientIP(r)))
	}, nil
}

// clientKey names a client by its IP address: the resolver finds the address, and IPv6
// addresses are grouped by their first v6bits bits, since one subscriber usually holds a
// whole /64.
type clientKey struct {
	resolver *clientip.Resolver
	v6bits   int
}

// newClientKey reads the client address settings of cfg and applies their defaults.
func newClientKey(cfg Config) (clientKey, error) {
	bits := cfg.IPv6PrefixLen
	if bits == 0 {
		bits = 64
	}
	if bits < 1 || bits > 128 {
		return clientKey{}, fmt.Errorf("%w: IPv6PrefixLen %d out of range 1..128", ErrInvalidConfig, cfg.IPv6PrefixLen)
	}
	res, err := clientip.New(clientip.Config{TrustedProxies: cfg.TrustedProxies, Header: cfg.ClientIPHeader})
	if err != nil {
		return clientKey{}, fmt.Errorf("%w: TrustedProxies, ClientIPHeader: %w", ErrInvalidConfig, err)
	}
	return clientKey{resolver: res, v6bits: bits}, nil
}

// append appends the key of client address a to b: "ip:" and the address, or for IPv6
// its prefix of v6bits bits, or "ip:unknown" for the zero Addr.
func (k clientKey) append(b []byte, a netip.Addr) []byte {
	if !a.IsValid() {
		return append(b, "ip:unknown"...)
	}
	b = append(b, "ip:"...)
	if a.Is4() || k.v6bits == 128 {
		return a.AppendTo(b)
	}
	p, _ := a.Prefix(k.v6bits)
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
