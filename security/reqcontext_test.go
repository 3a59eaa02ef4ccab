package security

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type parentKey struct{}

// The context handed to the next handler is its parent with the request state added:
// parent values, deadline and cancellation all come through, and what a handler keeps
// stays valid after the request.
func TestRequestContextKeepsParent(t *testing.T) {
	s := mustNew(t, Config{})
	deadline := time.Now().Add(time.Hour)
	parent, cancel := context.WithDeadline(context.WithValue(context.Background(), parentKey{}, "v"), deadline)
	var kept context.Context
	var nonce string
	h := s.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kept, nonce = r.Context(), Nonce(r.Context())
	}))
	rec := serve(h, newReq(http.MethodGet, "https://a.example/", nil, withTLS()).WithContext(parent))
	require.Equal(t, http.StatusOK, rec.Code)
	require.Len(t, nonce, nonceLen)

	assert.Equal(t, "v", kept.Value(parentKey{}))
	assert.Nil(t, kept.Value("missing"))
	got, ok := kept.Deadline()
	assert.True(t, ok)
	assert.True(t, got.Equal(deadline))
	assert.Contains(t, fmt.Sprint(kept), "WithValue(security.ctxKey)")

	child, stop := context.WithCancel(kept)
	defer stop()
	assert.NoError(t, kept.Err())
	cancel()
	select {
	case <-child.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("cancelling the parent did not reach a context derived from the request's")
	}
	assert.ErrorIs(t, kept.Err(), context.Canceled)

	// A second request does not touch what the first one's handler kept.
	first, firstNonce := kept, nonce
	serve(h, newReq(http.MethodGet, "https://a.example/", nil, withTLS()))
	assert.NotEqual(t, firstNonce, nonce, "a new request drew a new nonce")
	assert.Equal(t, firstNonce, Nonce(first))
	assert.Contains(t, rec.Header().Get("Content-Security-Policy"), "'nonce-"+firstNonce+"'")
}

// A long policy with two nonce sources carries the same nonce in the header, twice, and
// in the context.
func TestNonceWithLongPolicy(t *testing.T) {
	var hosts []string
	for i := range 40 {
		hosts = append(hosts, fmt.Sprintf("https://cdn%d.example.com", i))
	}
	pol := DefaultCSP().With("script-src", append([]string{"'self'", NonceSource}, hosts...)...)
	s := mustNew(t, Config{CSP: CSPConfig{Policy: pol}})
	var nonce string
	h := s.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { nonce = Nonce(r.Context()) }))
	rec := serve(h, newReq(http.MethodGet, "https://a.example/", nil, withTLS()))
	csp := rec.Header().Get("Content-Security-Policy")
	require.Len(t, nonce, nonceLen)
	assert.Equal(t, 2, strings.Count(csp, "'nonce-"+nonce+"'"), csp)
	p, err := pol.compile()
	require.NoError(t, err)
	assert.Equal(t, p.render(nonce), csp)
}

// TestNonceRendering checks the header against the policy rendered with the context's
// nonce, with and without the reporting directives.
func TestNonceRendering(t *testing.T) {
	for _, cfg := range []CSPConfig{{}, {ReportURI: "https://reports.example.com/csp/endpoint/for/this/application"}} {
		s := mustNew(t, Config{CSP: cfg})
		var nonce string
		h := s.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { nonce = Nonce(r.Context()) }))
		rec := serve(h, newReq(http.MethodGet, "https://a.example/", nil, withTLS()))
		csp := rec.Header().Get("Content-Security-Policy")
		require.Len(t, nonce, nonceLen)
		assert.Equal(t, s.policy.renderedLen(nonceLen), len(csp))
		assert.Equal(t, s.policy.render(nonce), csp)
	}
}

// The request is copied only when something needs the copy. A static policy on a GET
// hands the caller's request through; a nonce policy, a WithCSP handler, a limited body
// or a forwarded host each make a copy, and the caller's request is never written.
func TestRequestCopiedOnlyWhenNeeded(t *testing.T) {
	static := CSPConfig{Policy: APICSP()}
	var seen *http.Request
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r
		_, _ = io.Copy(io.Discard, r.Body)
	})
	for _, tc := range []struct {
		name   string
		cfg    Config
		req    func() *http.Request
		copied bool
	}{
		{"static policy, GET", Config{CSP: static}, func() *http.Request {
			return newReq(http.MethodGet, "https://a.example/", nil, withTLS())
		}, false},
		{"static policy, POST without a body", Config{CSP: static}, func() *http.Request {
			return newReq(http.MethodPost, "https://a.example/", nil, withTLS(), withHeader("Sec-Fetch-Site", "same-origin"))
		}, false},
		{"nonce policy", Config{}, func() *http.Request {
			return newReq(http.MethodGet, "https://a.example/", nil, withTLS())
		}, true},
		{"static policy, body", Config{CSP: static}, func() *http.Request {
			return newReq(http.MethodPost, "https://a.example/", strings.NewReader("{}"), withTLS(), withHeader("Sec-Fetch-Site", "same-origin"))
		}, true},
		{"static policy, forwarded host", Config{CSP: static, TrustedProxies: []string{"192.0.2.1"}, TrustForwardedHost: true, AllowedHosts: []string{"public.example"}}, func() *http.Request {
			return newReq(http.MethodPost, "http://internal:8080/", nil, withRemote("192.0.2.1:1234"),
				withHeader("X-Forwarded-Proto", "https"), withHeader("X-Forwarded-Host", "public.example"),
				withHeader("Origin", "https://public.example"))
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := mustNew(t, tc.cfg).Handler(inner)
			r := tc.req()
			host, ctx := r.Host, r.Context()
			seen = nil
			rec := serve(h, r)
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			require.NotNil(t, seen)
			assert.Equal(t, tc.copied, seen != r)
			assert.Equal(t, host, r.Host, "the caller's request is not written")
			assert.Equal(t, ctx, r.Context())
			assert.Equal(t, "", Nonce(ctx))
		})
	}

	// Once a WithCSP handler exists, requests carry the state it needs even with a
	// static base policy.
	s := mustNew(t, Config{CSP: static})
	var nonce string
	widget, err := s.WithCSP(DefaultCSP(), http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		nonce = Nonce(r.Context())
	}))
	require.NoError(t, err)
	rec := serve(s.Handler(widget), newReq(http.MethodGet, "https://a.example/", nil, withTLS()))
	require.Len(t, nonce, nonceLen)
	assert.Contains(t, rec.Header().Get("Content-Security-Policy"), "'nonce-"+nonce+"'")
}
