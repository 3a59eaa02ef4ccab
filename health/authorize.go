package health

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
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
	// forwarding lists the canonical names of the headers a proxy sets: a request from
	// an untrusted peer that carries one came through a proxy nobody listed.
	forwarding []string
}

func newAuthorizer(cfg Config) (authorizer, error) {
	a := authorizer{custom: cfg.Authorize}
	if cfg.Token != "" {
		if len(cfg.Token) < minTokenLength {
			return a, fmt.Errorf("%w: Token shorter than %d bytes", ErrInvalidConfig, minTokenLength)
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
			return a, fmt.Errorf("%w: DetailCIDRs: %w", ErrInvalidConfig, err)
		}
		a.cidrs = append(a.cidrs, p)
	}
	r, err := clientip.New(clientip.Config{TrustedProxies: cfg.TrustedProxies, Header: cfg.ClientIPHeader})
	if err != nil {
		return a, fmt.Errorf("%w: TrustedProxies, ClientIPHeader: %w", ErrInvalidConfig, err)
	}
	a.resolver = r
	a.forwarding = []string{"X-Forwarded-For", "Forwarded", "X-Real-Ip", "Via"}
	if h := r.Header(); !slices.Contains(a.forwarding, h) {
		a.forwarding = append(a.forwarding, h)
	}
	return a, nil
}

// allowed reports whether r may see details.
func (a *authorizer) allowed(r *http.Request) bool {
	if a.custom != nil {
		return a.custom(r)
	}
	return a.tokenAllowed(r) || a.networkAllowed(r)
}

// tokenAllowed reports whether r carries the configured bearer token.
func (a *authorizer) tokenAllowed(r *http.Request) bool {
	if !a.hasToken {
		return false
	}
	tok, ok := bearer(r.Header.Get("Authorization"))
	if !ok {
		return false
	}
	// Comparing fixed-size hashes keeps the time independent of the token's length as
	// well as its content.
	sum := sha256.Sum256([]byte(tok))
	return subtle.ConstantTimeCompare(sum[:], a.tokenHash[:]) == 1
}

// networkAllowed reports whether r's client is in DetailCIDRs. Behind a trusted proxy the
// client is the one the proxy forwards. Any other peer is the client only when the
// request says nothing of a forwarder: a proxy that is not trusted, on the same host
// say, would otherwise lend its own address to every visitor.
func (a *authorizer) networkAllowed(r *http.Request) bool {
	if len(a.cidrs) == 0 {
		return false
	}
	peer := clientip.Peer(r)
	if a.resolver.Trusted(peer) {
		return a.inCIDRs(a.resolver.ClientIP(r))
	}
	return a.inCIDRs(peer) && !a.forwarded(r.Header)
}

func (a *authorizer) inCIDRs(ip netip.Addr) bool {
	if !ip.IsValid() {
		return false
	}
	ip = ip.Unmap()
	for _, p := range a.cidrs {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// forwarded reports whether h carries a header only a proxy sets.
func (a *authorizer) forwarded(h http.Header) bool {
	for _, name := range a.forwarding {
		if _, ok := h[name]; ok {
			return true
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
