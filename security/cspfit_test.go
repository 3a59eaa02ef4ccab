package security

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	defaultPolicyNoNonce = "default-src 'none'; base-uri 'none'; connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; img-src 'self'; manifest-src 'self'; script-src 'self'; style-src 'self'"
	apiPolicy            = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

func typed(contentType string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		_, _ = w.Write([]byte("x"))
	})
}

// With the default policy, a response no browser renders as a document or runs as a
// worker gets APICSP; documents, scripts (a worker takes its policy from its script), and responses whose type net/http will sniff, keep the full policy.
func TestDefaultPolicyFitsTheResponse(t *testing.T) {
	s := mustNew(t, Config{})
	for ct, want := range map[string]string{
		"application/json":                  apiPolicy,
		"application/problem+json":          apiPolicy,
		"text/css; charset=utf-8":           apiPolicy,
		"image/png":                         apiPolicy,
		"text/html; charset=utf-8":          defaultPolicyNoNonce,
		"TEXT/HTML":                         defaultPolicyNoNonce,
		"application/xhtml+xml":             defaultPolicyNoNonce,
		"image/svg+xml":                     defaultPolicyNoNonce,
		"application/atom+xml":              defaultPolicyNoNonce,
		"application/pdf":                   defaultPolicyNoNonce,
		"text/javascript; charset=utf-8":    defaultPolicyNoNonce,
		"application/x-JavaScript":          defaultPolicyNoNonce,
		"":                                  defaultPolicyNoNonce,
		"html":                              defaultPolicyNoNonce,
		" text/html ; charset=windows-1252": defaultPolicyNoNonce,
	} {
		rec := serve(s.Handler(typed(ct)), newReq(http.MethodGet, "https://api.example.com/x", nil, withTLS()))
		assert.Equal(t, want, rec.Header().Get("Content-Security-Policy"), "Content-Type %q", ct)
	}
}

// A policy the service chose is sent as it is on every response, and so is a route's own.
func TestChosenPolicyIsNeverSwapped(t *testing.T) {
	s := mustNew(t, Config{CSP: CSPConfig{Policy: DefaultCSP()}})
	rec := serve(s.Handler(typed("application/json")), newReq(http.MethodGet, "https://api.example.com/x", nil, withTLS()))
	assert.Equal(t, defaultPolicyNoNonce, rec.Header().Get("Content-Security-Policy"))

	s = mustNew(t, Config{})
	route, err := s.WithCSP(DefaultCSP().With("img-src", "https:"), typed("application/json"))
	require.NoError(t, err)
	rec = serve(s.Handler(route), newReq(http.MethodGet, "https://api.example.com/x", nil, withTLS()))
	assert.Contains(t, rec.Header().Get("Content-Security-Policy"), "img-src https:")
}

// A header slice the handler shares between responses (a cache replaying stored headers)
// is replaced, never written in place.
func TestFitPolicyLeavesSharedSlicesAlone(t *testing.T) {
	s := mustNew(t, Config{})
	stored := []string{defaultPolicyNoNonce}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Security-Policy"] = stored
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
	})
	rec := serve(s.Handler(h), newReq(http.MethodGet, "https://api.example.com/x", nil, withTLS()))
	assert.Equal(t, apiPolicy, rec.Header().Get("Content-Security-Policy"))
	assert.Equal(t, []string{defaultPolicyNoNonce}, stored)
}

// A page that asked for a nonce keeps it whatever it claims to be.
func TestNoncePolicyIsNeverSwapped(t *testing.T) {
	s := mustNew(t, Config{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = Nonce(r.Context())
		w.Header().Set("Content-Type", "application/json")
	})
	rec := serve(s.Handler(h), newReq(http.MethodGet, "https://api.example.com/x", nil, withTLS()))
	assert.Contains(t, rec.Header().Get("Content-Security-Policy"), "'nonce-")
}
