package health

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/netip"
	"strings"

	"github.com/nexus-reussite/harden/internal/clientip"
)

// authorizer decides which requests see details: error strings, component ids, runtime
// facts. Everyone else gets the status alone.
type authorizer struct {
	custom    func(*http.Request) bool
	tokenHash [sha256.Size]byte
	hasToken  bool
	cidrs     []netip.Prefix
	resolver  *clientip.Resolver
}

func newAuthorizer(cfg Config) (authorizer, error) {
	a := authorizer{custom: cfg.Authorize}
	if cfg.Token != "" {
		if len(cfg.Token) < MinTokenLength {
			return a, fmt.Errorf("%w: Token shorter than %d bytes", ErrConfig, MinTokenLength)
		}
		a.tokenHash, a.hasToken = sha256.Sum256([]byte(cfg.Token)), true
	}
	for _, s := range cfg.DetailCIDRs {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		p, err := clientip.ParsePrefix(s)
		if err != nil {
			return a, fmt.Errorf("%w: DetailCIDRs: %w", ErrConfig, err)
		}
		a.cidrs = append(a.cidrs, p)
	}
	r, err := clientip.New(clientip.Config{TrustedProxies: cfg.TrustedProxies, Header: cfg.ClientIPHeader})
	if err != nil {
		return a, fmt.Errorf("%w: TrustedProxies, ClientIPHeader: %w", ErrConfig, err)
	}
	a.resolver = r
	return a, nil
}

// allowed reports whether r may see details.
func (a *authorizer) allowed(r *http.Request) bool {
	if a.custom != nil {
		return a.custom(r)
	}
	if a.hasToken {
		if tok, ok := bearer(r.Header.Get("Authorization")); ok {
			// Comparing fixed-size hashes keeps the time independent of the token's
			// length as well as its content.
			sum := sha256.Sum256([]byte(tok))
			if subtle.ConstantTimeCompare(sum[:], a.tokenHash[:]) == 1 {
				return true
			}
		}
	}
	if len(a.cidrs) > 0 {
		ip := a.clientIP(r)
		if !ip.IsValid() {
			return false
		}
		ip = ip.Unmap()
		for _, p := range a.cidrs {
			if p.Contains(ip) {
				return true
			}
		}
	}
	return false
}

// bearer extracts the token of an "Authorization: Bearer <token>" value. The scheme is
// case-insensitive (RFC 9110 section 11.1).
func bearer(v string) (string, bool) {
	const scheme = "bearer "
	if len(v) <= len(scheme) || !strings.EqualFold(v[:len(scheme)], scheme) {
		return "", false
	}
	tok := strings.TrimLeft(v[len(scheme):], " ")
	return tok, tok != ""
}

// clientIP is the resolver's client address. The common case, a peer that is no
// trusted proxy and so is the client itself, is answered without the resolver's
// general parsing, which allocates.
func (a *authorizer) clientIP(r *http.Request) netip.Addr {
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		if peer := ap.Addr().Unmap(); !a.resolver.Trusted(peer) {
			return peer.WithZone("")
		}
	}
	return a.resolver.ClientIP(r)
}
