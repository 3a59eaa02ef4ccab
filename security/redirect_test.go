package security

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHTTPSRedirectAndHosts(t *testing.T) {
	s := mustNew(t, Config{
		AllowedHosts:       []string{"api.example.com", "*.example.org", "[2001:db8::1]"},
		TrustedProxies:     []string{"10.0.0.0/8"},
		TrustForwardedHost: true,
		ExemptPaths:        []string{"/live", "/ready", "/probes/"},
	})
	const proxy, stranger = "10.1.2.3:5555", "198.51.100.9:5555"
	tests := []struct {
		name     string
		target   string
		opts     []reqOpt
		status   int
		location string
	}{
		{"plain http redirected with 308, path and query kept", "http://api.example.com/a/b?x=1&y=%20", nil, 308, "https://api.example.com/a/b?x=1&y=%20"},
		{"port of the plain listener dropped", "http://api.example.com:8080/", nil, 308, "https://api.example.com/"},
		{"host case folded", "http://API.Example.COM/", nil, 308, "https://api.example.com/"},
		{"wildcard subdomain", "http://a.b.example.org/", nil, 308, "https://a.b.example.org/"},
		{"wildcard excludes apex", "http://example.org/", nil, 400, ""},
		{"ipv6 literal", "http://x/", []reqOpt{withHost("[2001:db8::1]:80")}, 308, "https://[2001:db8::1]/"},
		{"hostile host refused, no redirect", "http://evil.example/", nil, 400, ""},
		{"suffix trick refused", "http://api.example.com.evil.example/", nil, 400, ""},
		{"userinfo host refused", "http://x/", []reqOpt{withHost("api.example.com@evil.example")}, 400, ""},
		{"host with path refused", "http://x/", []reqOpt{withHost("api.example.com/evil")}, 400, ""},
		{"empty host refused", "http://x/", []reqOpt{withHost("")}, 400, ""},
		{"double slash path stays on host", "http://api.example.com//evil.example/x", nil, 308, "https://api.example.com//evil.example/x"},
		{"untrusted X-Forwarded-Proto ignored", "http://api.example.com/", []reqOpt{withRemote(stranger), withHeader("X-Forwarded-Proto", "https")}, 308, "https://api.example.com/"},
		{"untrusted Forwarded ignored", "http://api.example.com/", []reqOpt{withRemote(stranger), withHeader("Forwarded", "proto=https")}, 308, "https://api.example.com/"},
		{"untrusted X-Forwarded-Host ignored", "http://api.example.com/", []reqOpt{withRemote(stranger), withHeader("X-Forwarded-Host", "evil.example")}, 308, "https://api.example.com/"},
		{"trusted X-Forwarded-Proto https served", "http://api.example.com/", []reqOpt{withRemote(proxy), withHeader("X-Forwarded-Proto", "https")}, 200, ""},
		{"Forwarded outside the configured family ignored", "http://api.example.com/", []reqOpt{withRemote(proxy), withHeader("Forwarded", "for=1.2.3.4;proto=https")}, 308, "https://api.example.com/"},
		{"trusted proxy saying http redirected", "http://internal:5000/p", []reqOpt{withRemote(proxy), withHeader("X-Forwarded-Proto", "http"), withHeader("X-Forwarded-Host", "api.example.com")}, 308, "https://api.example.com/p"},
		{"trusted X-Forwarded-Host must be allowed", "http://api.example.com/", []reqOpt{withRemote(proxy), withHeader("X-Forwarded-Proto", "https"), withHeader("X-Forwarded-Host", "evil.example")}, 400, ""},
		{"client-prepended proto ignored", "http://api.example.com/", []reqOpt{withRemote(proxy), withHeader("X-Forwarded-Proto", "https, http")}, 308, "https://api.example.com/"},
		{"probe not redirected nor host-checked", "http://10.0.0.5:5000/live", nil, 200, ""},
		{"probe subtree exempt", "http://10.0.0.5:5000/probes/db", nil, 200, ""},
		{"dot-dot does not reach exemption", "http://evil.example/live/../admin", nil, 400, ""},
		{"exempt path on good host still plain", "http://api.example.com/ready", nil, 200, ""},
		{"TLS served directly", "https://api.example.com/", []reqOpt{withTLS()}, 200, ""},
		{"POST redirected with 308", "http://api.example.com/form", nil, 308, "https://api.example.com/form"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			next := &okHandler{}
			method := http.MethodGet
			if tc.name == "POST redirected with 308" {
				method = http.MethodPost
			}
			rec := serve(s.Handler(next), newReq(method, tc.target, nil, tc.opts...))
			require.Equal(t, tc.status, rec.Code, rec.Body.String())
			assert.Equal(t, tc.location, rec.Header().Get("Location"))
			switch tc.status {
			case 400:
				isProblem(t, rec, 400)
				assert.Nil(t, next.got, "handler must not run")
			case 308:
				assert.Nil(t, next.got, "handler must not run")
				assert.Empty(t, rec.Header().Get("Strict-Transport-Security"), "no HSTS over http")
				assert.Empty(t, rec.Body.String())
			case 200:
				require.NotNil(t, next.got)
			}
		})
	}
}

func TestRedirectOptions(t *testing.T) {
	s := mustNew(t, Config{RedirectStatus: http.StatusMovedPermanently, HTTPSPort: 8443})
	rec := serve(s.Handler(&okHandler{}), newReq(http.MethodGet, "http://shop.example:8080/x", nil))
	assert.Equal(t, http.StatusMovedPermanently, rec.Code)
	assert.Equal(t, "https://shop.example:8443/x", rec.Header().Get("Location"))

	// No AllowedHosts: the request host is used, but only when syntactically a host.
	s = mustNew(t, Config{})
	rec = serve(s.Handler(&okHandler{}), newReq(http.MethodGet, "http://shop.example/", nil))
	assert.Equal(t, "https://shop.example/", rec.Header().Get("Location"))
	for _, bad := range []string{"evil.example/x", "a b", "evil.example:0", "evil.example:99999", "evil..example", "[::1", "%65vil.example", `evil.example\`,
		strings.Repeat("a", 64) + ".example", strings.Repeat("a.", 130) + "example", "evil.example:80:80", "evil.example:", "[fe80::1%25eth0]"} {
		rec = serve(s.Handler(&okHandler{}), newReq(http.MethodGet, "http://x/", nil, withHost(bad)))
		assert.Equal(t, http.StatusBadRequest, rec.Code, bad)
		assert.Empty(t, rec.Header().Get("Location"), bad)
	}
}

func TestAllowedHostPorts(t *testing.T) {
	s := mustNew(t, Config{AllowedHosts: []string{"api.example.com:8443"}})
	rec := serve(s.Handler(&okHandler{}), newReq(http.MethodGet, "https://api.example.com:8443/", nil, withTLS()))
	assert.Equal(t, http.StatusOK, rec.Code)
	rec = serve(s.Handler(&okHandler{}), newReq(http.MethodGet, "https://api.example.com:9443/", nil, withTLS()))
	assert.Equal(t, http.StatusBadRequest, rec.Code)
}
