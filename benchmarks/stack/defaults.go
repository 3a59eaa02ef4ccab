package stack

import (
	"io"
	"net/http"

	"github.com/nexus-reussite/harden"
	"github.com/nexus-reussite/harden/cache"
	"github.com/nexus-reussite/harden/observe"
	"github.com/nexus-reussite/harden/ratelimit"
)

// Defaults is the stack a user gets from one harden.New call with nothing tuned: every
// package at its defaults behind trusted loopback proxies. Only two settings differ from
// the zero Config, neither for speed: access logs go to o.Log (observe's default logger,
// pointed at the benchmark's sink instead of standard output), and the rule keeps the
// default's three windows with limits no run reaches. With cached, the route is wrapped
// with the Stack's HTTPCache at its zero HTTPConfig.
func Defaults(body []byte, o Options, cached bool) (http.Handler, error) {
	w := o.Log
	if w == nil {
		w = io.Discard
	}
	rule, err := ratelimit.ParseRule(hardenRule)
	if err != nil {
		return nil, err
	}
	st, err := harden.New(harden.Config{
		TrustedProxies: []string{LoopbackProxy},
		Logger:         observe.NewJSONLogger(w, nil),
		Registerer:     o.registry(),
		RateLimit:      ratelimit.Config{Rule: rule},
	})
	if err != nil {
		return nil, err
	}
	h := Handler(body)
	if cached {
		hc, err := st.HTTPCache(cache.HTTPConfig{})
		if err != nil {
			return nil, err
		}
		h = hc.Handler(h)
	}
	return st.Handler(Mux(h)), nil
}
