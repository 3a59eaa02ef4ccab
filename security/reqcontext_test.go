package security

import (
	"context"
	"fmt"
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

// A policy longer than the room kept in the request state is rendered on its own, with
// the same nonce in the header and in the context.
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
	require.Greater(t, len(csp), cspInline)
	require.Len(t, nonce, nonceLen)
	assert.Equal(t, 2, strings.Count(csp, "'nonce-"+nonce+"'"), csp)
	assert.Equal(t, pol.MustCompile().Render(nonce), csp)
}

// TestNonceStateSizes covers both inline CSP buffers: the default policy fits the small
// one, with a report URI it needs the larger one; either way the header carries the
// context's nonce and equals the policy rendered with it.
func TestNonceStateSizes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   CSPConfig
		small bool
	}{
		{"default", CSPConfig{}, true},
		{"report uri", CSPConfig{ReportURI: "https://reports.example.com/csp/endpoint/for/this/application"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := mustNew(t, Config{CSP: tc.cfg})
			assert.Equal(t, tc.small, s.smallCSP)
			var nonce string
			h := s.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { nonce = Nonce(r.Context()) }))
			rec := serve(h, newReq(http.MethodGet, "https://a.example/", nil, withTLS()))
			csp := rec.Header().Get("Content-Security-Policy")
			if tc.small {
				require.LessOrEqual(t, len(csp), cspSmall)
			} else {
				require.Greater(t, len(csp), cspSmall)
				require.LessOrEqual(t, len(csp), cspInline)
			}
			require.Len(t, nonce, nonceLen)
			assert.Equal(t, s.policy.renderedLen(), len(csp))
			assert.Equal(t, s.policy.Render(nonce), csp)
		})
	}
}
