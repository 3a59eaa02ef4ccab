package security

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCSRF(t *testing.T) {
	s := mustNew(t, Config{
		TrustedProxies:     []string{"10.0.0.0/8"},
		TrustForwardedHost: true,
		CORS:               CORS{Origins: []string{"https://app.example.com", "https://*.example.org"}, AllowCredentials: true},
		CSRF:               CSRF{TrustedOrigins: []string{"https://admin.example.net/"}, BypassPatterns: []string{"POST /hooks/"}},
	})
	tests := []struct {
		name   string
		method string
		path   string
		opts   []reqOpt
		ok     bool
	}{
		{"bearer API client without browser headers", "POST", "/api", []reqOpt{withHeader("Authorization", "Bearer t")}, true},
		{"cross-site form post", "POST", "/api", []reqOpt{withHeader("Sec-Fetch-Site", "cross-site"), withHeader("Origin", "https://evil.com")}, false},
		{"same-site but cross-origin", "DELETE", "/api", []reqOpt{withHeader("Sec-Fetch-Site", "same-site"), withHeader("Origin", "https://other.example.com")}, false},
		{"same-origin fetch", "POST", "/api", []reqOpt{withHeader("Sec-Fetch-Site", "same-origin"), withHeader("Origin", "https://api.example.com")}, true},
		{"user navigation", "POST", "/api", []reqOpt{withHeader("Sec-Fetch-Site", "none")}, true},
		{"old browser, origin matches host", "POST", "/api", []reqOpt{withHeader("Origin", "https://api.example.com")}, true},
		{"old browser, foreign origin", "PUT", "/api", []reqOpt{withHeader("Origin", "https://evil.com")}, false},
		{"safe method cross-site", "GET", "/api", []reqOpt{withHeader("Sec-Fetch-Site", "cross-site"), withHeader("Origin", "https://evil.com")}, true},
		{"CORS origin with bearer", "POST", "/api", []reqOpt{withHeader("Sec-Fetch-Site", "same-site"), withHeader("Origin", "https://app.example.com"), withHeader("Authorization", "Bearer t")}, true},
		{"CORS wildcard origin", "PATCH", "/api", []reqOpt{withHeader("Sec-Fetch-Site", "cross-site"), withHeader("Origin", "https://x.example.org")}, true},
		{"CSRF trusted origin", "POST", "/api", []reqOpt{withHeader("Sec-Fetch-Site", "cross-site"), withHeader("Origin", "https://admin.example.net")}, true},
		{"bypass pattern", "POST", "/hooks/stripe", []reqOpt{withHeader("Sec-Fetch-Site", "cross-site"), withHeader("Origin", "https://stripe.example")}, true},
		{"bypass pattern other method", "PUT", "/hooks/stripe", []reqOpt{withHeader("Sec-Fetch-Site", "cross-site"), withHeader("Origin", "https://stripe.example")}, false},
		{"proxy rewrote Host, origin matches forwarded host", "POST", "/api", []reqOpt{withRemote("10.0.0.2:1"), withHost("backend:5000"),
			withHeader("X-Forwarded-Proto", "https"), withHeader("X-Forwarded-Host", "api.example.com"), withHeader("Origin", "https://api.example.com")}, true},
		{"forwarded host from stranger not believed", "POST", "/api", []reqOpt{withHost("backend:5000"),
			withHeader("X-Forwarded-Host", "api.example.com"), withHeader("Origin", "https://api.example.com")}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			next := &okHandler{}
			opts := append([]reqOpt{withTLS(), withHost("api.example.com")}, tc.opts...)
			rec := serve(s.Handler(next), newReq(tc.method, "https://api.example.com"+tc.path, strings.NewReader("{}"), opts...))
			if tc.ok {
				assert.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
				require.NotNil(t, next.got)
				return
			}
			isProblem(t, rec, http.StatusForbidden)
			assert.Nil(t, next.got)
			assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
		})
	}
}

func TestCSRFDisabledAndHostRestored(t *testing.T) {
	s := mustNew(t, Config{CSRF: CSRF{Disable: true}})
	rec := serve(s.Handler(&okHandler{}), newReq(http.MethodPost, "https://a.example/", nil, withTLS(),
		withHeader("Sec-Fetch-Site", "cross-site"), withHeader("Origin", "https://evil.com")))
	assert.Equal(t, http.StatusOK, rec.Code)

	s = mustNew(t, Config{TrustedProxies: []string{"127.0.0.1"}})
	next := &okHandler{}
	serve(s.Handler(next), newReq(http.MethodPost, "https://a.example/", nil, withTLS(), withRemote("127.0.0.1:1"),
		withHost("backend:5000"), withHeader("X-Forwarded-Host", "a.example")))
	require.NotNil(t, next.got)
	assert.Equal(t, "backend:5000", next.got.Host, "the handler sees the original Host")
}

func TestCSRFConfigErrors(t *testing.T) {
	_, err := New(Config{CSRF: CSRF{TrustedOrigins: []string{"https://a.example/path"}}})
	assert.ErrorIs(t, err, ErrInvalidConfig)
	_, err = New(Config{CSRF: CSRF{BypassPatterns: []string{"POST /a/{x"}}})
	assert.ErrorIs(t, err, ErrInvalidConfig)
	_, err = New(Config{CSRF: CSRF{BypassPatterns: []string{"/a", "/a"}}})
	assert.ErrorIs(t, err, ErrInvalidConfig)
}

// TestBrowserLikeClientsOverRealServer runs the middleware behind a real listener with a
// CORS front end, a cross-site attacker and a bearer-token API client.
func TestBrowserLikeClientsOverRealServer(t *testing.T) {
	var writes int
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/items", func(w http.ResponseWriter, r *http.Request) {
		writes++
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"ok":true}`)
	})
	var s *Security
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.Handler(mux).ServeHTTP(w, r) }))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "https://")
	s = mustNew(t, Config{AllowedHosts: []string{host}, CORS: CORS{Origins: []string{"https://app.example.com"}, AllowCredentials: true}})
	client := srv.Client()

	do := func(hdr ...string) *http.Response {
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/api/items", strings.NewReader(`{"n":1}`))
		require.NoError(t, err)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := client.Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return resp
	}
	resp := do("Authorization", "Bearer abc", "Content-Type", "application/json")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	resp = do("Origin", "https://app.example.com", "Sec-Fetch-Site", "cross-site", "Cookie", "session=1")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "https://app.example.com", resp.Header.Get("Access-Control-Allow-Origin"))
	resp = do("Origin", "https://evil.com", "Sec-Fetch-Site", "cross-site", "Cookie", "session=1")
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
	assert.Equal(t, 2, writes, "the forged request never reached the handler")
}
