package security

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var noncePolicy = regexp.MustCompile(`^default-src 'none'; base-uri 'none'; connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; img-src 'self'; manifest-src 'self'; script-src 'self' 'nonce-([A-Za-z0-9+/]{22}==)'; style-src 'self' 'nonce-([A-Za-z0-9+/]{22}==)'$`)

// A page that asks for a nonce gets it in the policy; asking twice gives the same one.
func TestNonceDrawnWhenAsked(t *testing.T) {
	s := mustNew(t, Config{})
	var got [2]string
	h := s.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got[0], got[1] = Nonce(r.Context()), Nonce(r.Context())
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, `<script nonce="`+got[0]+`"></script>`)
	}))
	rec := serve(h, newReq(http.MethodGet, "https://api.example.com/", nil, withTLS()))
	m := noncePolicy.FindStringSubmatch(rec.Header().Get("Content-Security-Policy"))
	require.NotNil(t, m, rec.Header().Get("Content-Security-Policy"))
	assert.Equal(t, m[1], m[2])
	assert.Equal(t, m[1], got[0])
	assert.Equal(t, got[0], got[1])

	rec2 := serve(h, newReq(http.MethodGet, "https://api.example.com/", nil, withTLS()))
	m2 := noncePolicy.FindStringSubmatch(rec2.Header().Get("Content-Security-Policy"))
	require.NotNil(t, m2)
	assert.NotEqual(t, m[1], m2[1], "every response draws its own nonce")
}

// Once the header is written the policy cannot change: Nonce returns "" rather than a
// nonce no header allows.
func TestNonceAfterHeaderWritten(t *testing.T) {
	s := mustNew(t, Config{})
	var late string
	h := s.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		late = Nonce(r.Context())
	}))
	rec := serve(h, newReq(http.MethodGet, "https://api.example.com/", nil, withTLS()))
	assert.Empty(t, late)
	assert.NotContains(t, rec.Header().Get("Content-Security-Policy"), "nonce-")
}

// The policy sent without nonce is never weaker than the nonce one: 'unsafe-inline',
// which browsers ignore beside a nonce, goes with it, and a directive left empty is 'none'.
func TestPolicyWithoutNonceStaysStrict(t *testing.T) {
	policy := CSP{
		"default-src": {"'self'"},
		"script-src":  {NonceSource, "'unsafe-inline'", "'strict-dynamic'"},
		"style-src":   {NonceSource},
		"img-src":     {"'self'", "'unsafe-inline'"},
	}
	s := mustNew(t, Config{CSP: CSPConfig{Policy: policy}})
	plain := serve(s.Handler(&okHandler{}), newReq(http.MethodGet, "https://api.example.com/", nil, withTLS()))
	assert.Equal(t, "default-src 'self'; img-src 'self' 'unsafe-inline'; script-src 'strict-dynamic'; style-src 'none'",
		plain.Header().Get("Content-Security-Policy"))

	page := serve(s.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = Nonce(r.Context())
	})), newReq(http.MethodGet, "https://api.example.com/", nil, withTLS()))
	v := page.Header().Get("Content-Security-Policy")
	assert.Regexp(t, `script-src 'nonce-[A-Za-z0-9+/]{22}==' 'unsafe-inline' 'strict-dynamic'; style-src 'nonce-`, v)
	assert.Equal(t, 2, strings.Count(v, "'nonce-"))
}

// A route's own policy through WithCSP follows the same rule.
func TestWithCSPNonceOnDemand(t *testing.T) {
	s := mustNew(t, Config{})
	widget := CSP{"default-src": {"'none'"}, "script-src": {NonceSource, "https://cdn.example"}, "frame-ancestors": {"https://partner.example"}}
	var nonce string
	asks, err := s.WithCSP(widget, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { nonce = Nonce(r.Context()) }))
	require.NoError(t, err)
	silent, err := s.WithCSP(widget, &okHandler{})
	require.NoError(t, err)

	rec := serve(s.Handler(asks), newReq(http.MethodGet, "https://api.example.com/w", nil, withTLS()))
	require.NotEmpty(t, nonce)
	assert.Equal(t, "default-src 'none'; frame-ancestors https://partner.example; script-src 'nonce-"+nonce+"' https://cdn.example",
		rec.Header().Get("Content-Security-Policy"))
	rec = serve(s.Handler(silent), newReq(http.MethodGet, "https://api.example.com/w", nil, withTLS()))
	assert.Equal(t, "default-src 'none'; frame-ancestors https://partner.example; script-src https://cdn.example",
		rec.Header().Get("Content-Security-Policy"))
}
