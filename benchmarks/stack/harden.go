package stack

import (
	"net/http"

	"github.com/nexus-reussite/harden/cache"
	"github.com/nexus-reussite/harden/compress"
	"github.com/nexus-reussite/harden/observe"
	"github.com/nexus-reussite/harden/ratelimit"
	"github.com/nexus-reussite/harden/security"
)

// LoopbackProxy is the trusted proxy of both stacks: the load generator stands in for a
// TLS-terminating proxy on loopback and sends X-Forwarded-Proto: https.
const LoopbackProxy = "127.0.0.1"

// hardenRule keeps the three windows of the default rule but with limits no load run
// reaches, so every request is counted in three windows and admitted.
const hardenRule = "1000000000000 per day;100000000000 per hour;1000000000 per second"

// peerCSP is the policy the peer stack sends: APICSP with forms allowed to post to the
// same origin, static (no nonce) as a JSON endpoint needs.
var peerCSP = security.APICSP().With("form-action", "'self'")

// Harden is the harden stack with the same concerns and settings as Peer: observe
// (request ID, recovery, JSON access log through observe's JSON handler, RED metrics),
// security (production profile behind a trusted proxy, the peer's CSP), a three-window
// rate limit announcing itself with the X-RateLimit-* headers the peer sends, and
// compression at level 6 with a 500-byte minimum. With cached, an HTTP response cache (long tier) is put on the
// route, between the router and compression, so hits are served with their compressed
// bytes.
func Harden(body []byte, o Options, cached bool) (http.Handler, error) {
	reg := o.registry()
	obs, err := observe.New(observe.Config{Logger: o.hardenLogger(), Registerer: reg, TrustedProxies: []string{LoopbackProxy}})
	if err != nil {
		return nil, err
	}
	sec, err := security.New(security.Config{TrustedProxies: []string{LoopbackProxy}, CSP: security.CSPConfig{Policy: peerCSP}})
	if err != nil {
		return nil, err
	}
	rule, err := ratelimit.ParseRule(hardenRule)
	if err != nil {
		return nil, err
	}
	lim, err := ratelimit.New(ratelimit.Config{Rule: rule, TrustedProxies: []string{LoopbackProxy}, Registerer: reg, Headers: ratelimit.HeadersLegacy})
	if err != nil {
		return nil, err
	}
	comp, err := compress.New(compress.Config{Registerer: reg})
	if err != nil {
		return nil, err
	}
	var h http.Handler = comp.Handler(Mux(Handler(body)))
	if cached {
		mem, err := cache.NewMemory(cache.MemoryConfig{})
		if err != nil {
			return nil, err
		}
		c, err := cache.New(mem, cache.Config{Registerer: reg})
		if err != nil {
			return nil, err
		}
		hc, err := cache.NewHTTP(c, cache.HTTPConfig{Tier: cache.Long})
		if err != nil {
			return nil, err
		}
		h = Mux(hc.Handler(comp.Handler(Handler(body))))
	}
	return obs.Handler(sec.Handler(lim.Handler(h))), nil
}
