package ratelimit_test

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-reussite/harden/ratelimit"
)

// attempts sends n requests from the trusted proxy 10.0.0.1, each with the headers
// hdr(i) returns, and returns the status codes.
func attempts(h http.Handler, n int, hdr func(i int) []string) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = do(h, "GET", "/login", "10.0.0.1:4000", hdr(i)...).Code
	}
	return out
}

// TestForwardedRotationCannotEscape: behind a proxy that appends to X-Forwarded-For (the
// default family) and passes a client's own Forwarded header through, a new
// "Forwarded: for=" per attempt does not make a new client.
func TestForwardedRotationCannotEscape(t *testing.T) {
	l := newLimiter(t, ratelimit.Config{Rule: ratelimit.MustParseRule("2 per minute"), TrustedProxies: []string{"10.0.0.0/8"}})
	got := attempts(l.Handler(okHandler), 6, func(i int) []string {
		return []string{
			"Forwarded", "for=203.0.113." + strconv.Itoa(i+1), // the client's
			"X-Forwarded-For", "198.51.100.7", // the proxy's
		}
	})
	assert.Equal(t, []int{200, 200, 429, 429, 429, 429}, got)
	// Without an X-Forwarded-For, the proxy itself is the client: still one counter.
	got = attempts(l.Handler(okHandler), 3, func(i int) []string { return []string{"Forwarded", "for=203.0.113." + strconv.Itoa(i+1)} })
	assert.Equal(t, []int{200, 200, 429}, got)
}

// TestRealIPRotationCannotEscape: X-Real-IP is a header of another family when the proxy
// sets X-Forwarded-For, so a client's own never names it.
func TestRealIPRotationCannotEscape(t *testing.T) {
	l := newLimiter(t, ratelimit.Config{
		Rule: ratelimit.MustParseRule("2 per minute"), TrustedProxies: []string{"10.0.0.0/8"}, ClientIPHeader: "X-Forwarded-For",
	})
	got := attempts(l.Handler(okHandler), 5, func(i int) []string {
		return []string{"X-Real-IP", "203.0.113." + strconv.Itoa(i+1), "X-Forwarded-For", "198.51.100.7"}
	})
	assert.Equal(t, []int{200, 200, 429, 429, 429}, got)
}

// TestForwardedFamilyIgnoresForgedXForwardedFor: behind a proxy that sets RFC 7239
// Forwarded, a client's X-Forwarded-For, new at every attempt, is ignored, while the
// proxy's Forwarded still tells clients apart.
func TestForwardedFamilyIgnoresForgedXForwardedFor(t *testing.T) {
	l := newLimiter(t, ratelimit.Config{
		Rule: ratelimit.MustParseRule("2 per minute"), TrustedProxies: []string{"10.0.0.0/8"}, ClientIPHeader: "Forwarded",
	})
	h := l.Handler(okHandler)
	got := attempts(h, 5, func(i int) []string {
		return []string{"X-Forwarded-For", "203.0.113." + strconv.Itoa(i+1), "X-Real-IP", "203.0.114." + strconv.Itoa(i+1), "Forwarded", "for=198.51.100.7"}
	})
	assert.Equal(t, []int{200, 200, 429, 429, 429}, got)
	assert.Equal(t, []int{200}, attempts(h, 1, func(int) []string { return []string{"Forwarded", "for=198.51.100.8"} }), "another client")
}

// TestComposedKeyResolvesLikeTheLimiter: a key composed with IPKey of the limiter's
// Config follows the limiter's header family, so a forged header of another family
// cannot mint new keys through it.
func TestComposedKeyResolvesLikeTheLimiter(t *testing.T) {
	cfg := ratelimit.Config{
		Rule: ratelimit.MustParseRule("2 per minute"), TrustedProxies: []string{"10.0.0.0/8"}, ClientIPHeader: "Forwarded",
	}
	ip, err := ratelimit.IPKey(cfg)
	require.NoError(t, err)
	cfg.Key = ratelimit.CompositeKey(ratelimit.HeaderKey("X-Api-Key"), ip)
	h := newLimiter(t, cfg).Handler(okHandler)
	got := attempts(h, 4, func(i int) []string {
		return []string{"X-Api-Key", "k1", "X-Forwarded-For", "203.0.113." + strconv.Itoa(i+1), "Forwarded", "for=198.51.100.7"}
	})
	assert.Equal(t, []int{200, 200, 429, 429}, got)
	assert.Equal(t, []int{200}, attempts(h, 1, func(int) []string {
		return []string{"X-Api-Key", "k1", "Forwarded", "for=198.51.100.8"}
	}), "the same API key from another client counts apart")
}

// TestHeaderValuesNotShared serves responses whose every header value an outer
// middleware then overwrites in place, and shows the next responses unaffected: no
// header value slice outlives its response or is shared with another.
func TestHeaderValuesNotShared(t *testing.T) {
	lim := newLimiter(t, ratelimit.Config{Rule: ratelimit.MustParseRule("20 per minute;100 per hour")})
	login, err := lim.With("login", ratelimit.MustParseRule("3 per minute"))
	require.NoError(t, err)
	closed := newLimiter(t, ratelimit.Config{Store: stoppedStore(t), FailClosed: true})
	mux := http.NewServeMux()
	mux.Handle("/login", login.Handler(okHandler))
	mux.Handle("/", okHandler)
	for name, h := range map[string]http.Handler{"limiter": lim.Handler(mux), "fail closed": closed.Handler(okHandler)} {
		t.Run(name, func(t *testing.T) {
			var prev http.Header
			var got []int
			for i := range 4 {
				w := do(h, "GET", "/login", "192.0.2.1:1")
				got = append(got, w.Code)
				for k, v := range w.Header() {
					for j, s := range v {
						require.NotEqual(t, "x", s, "response %d: %s[%d] was written by an earlier response", i, k, j)
					}
				}
				if prev != nil {
					for _, k := range []string{"Ratelimit-Policy", "Ratelimit", "X-Ratelimit-Limit", "Content-Type"} {
						assert.Equal(t, len(prev[k]), len(w.Header()[k]), k)
					}
				}
				prev = w.Header().Clone()
				for _, v := range w.Header() {
					for j := range v {
						v[j] = "x"
					}
				}
			}
			if name == "limiter" {
				assert.Equal(t, []int{200, 200, 200, 429}, got, "admitted and rejected responses")
			}
		})
	}
}
