package security

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

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
	s := mustNew(t, Config{AllowedHosts: []string{"shop.example"}, RedirectStatus: http.StatusMovedPermanently, HTTPSPort: 8443})
	rec := serve(s.Handler(&okHandler{}), newReq(http.MethodGet, "http://shop.example:8080/x", nil))
	assert.Equal(t, http.StatusMovedPermanently, rec.Code)
	assert.Equal(t, "https://shop.example:8443/x", rec.Header().Get("Location"))
}

// Production without AllowedHosts has no host a redirect may name: plain HTTP gets a 400
// problem that says why, never a Location, whatever Host the request carries. HTTPS is
// served, so the zero Config stays usable behind TLS. (Before, the request's own Host was
// redirected to, so Host: evil.example got Location: https://evil.example/.)
func TestNoAllowedHostsNeverRedirects(t *testing.T) {
	var rejected *RejectError
	reg := prometheus.NewRegistry()
	var logs strings.Builder
	s := mustNew(t, Config{Registerer: reg, ExemptPaths: []string{"/live"}, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	assert.Contains(t, logs.String(), "AllowedHosts is empty", "New warns")
	assert.Contains(t, logs.String(), "400")
	for _, host := range []string{"evil.example", "api.example.com", "evil.example:8080", "127.0.0.1", "[::1]:80"} {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			next := &okHandler{}
			rec := serve(s.Handler(next), newReq(method, "http://x/login?next=/", nil, withHost(host)))
			isProblem(t, rec, http.StatusBadRequest)
			assert.Empty(t, rec.Header().Values("Location"), host)
			assert.Nil(t, next.got, "handler must not run")
			var p struct{ Title, Detail string }
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &p))
			assert.Equal(t, "HTTPS Required", p.Title)
			assert.Contains(t, p.Detail, "served over HTTPS")
			assert.Contains(t, p.Detail, "AllowedHosts")
			assert.NotContains(t, rec.Body.String(), host, "the body names no host either")
			assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
			assert.Empty(t, rec.Header().Get("Strict-Transport-Security"), "no HSTS over plain HTTP")
		}
	}
	assert.Equal(t, 10.0, testutil.ToFloat64(s.metrics.rejected.WithLabelValues("https_required")))
	assert.Zero(t, testutil.ToFloat64(s.metrics.redirects))

	// Through a trusted proxy reporting plain HTTP and a forwarded host: still no redirect.
	s = mustNew(t, Config{TrustedProxies: []string{"10.0.0.0/8"}, TrustForwardedHost: true})
	rec := serve(s.Handler(&okHandler{}), newReq(http.MethodGet, "http://internal/", nil, withRemote("10.0.0.1:1"),
		withHeader("X-Forwarded-Proto", "http"), withHeader("X-Forwarded-Host", "evil.example")))
	isProblem(t, rec, http.StatusBadRequest)
	assert.Empty(t, rec.Header().Get("Location"))

	// OnReject sees the sentinel.
	s = mustNew(t, Config{OnReject: func(w http.ResponseWriter, _ *http.Request, err *RejectError) {
		rejected = err
		w.WriteHeader(err.Status)
	}})
	rec = serve(s.Handler(&okHandler{}), newReq(http.MethodGet, "http://evil.example/", nil))
	assert.Equal(t, http.StatusBadRequest, rec.Code)
	require.NotNil(t, rejected)
	assert.ErrorIs(t, rejected, ErrHTTPSRequired)
	assert.Equal(t, "HTTPS Required", rejected.Title)

	// The zero Config serves HTTPS for any well-formed host, and exempt paths and the
	// Development profile over plain HTTP.
	s = mustNew(t, Config{ExemptPaths: []string{"/live"}})
	for _, r := range []*http.Request{
		newReq(http.MethodGet, "https://evil.example/", nil, withTLS()),
		newReq(http.MethodGet, "http://10.0.0.5:5000/live", nil),
	} {
		assert.Equal(t, http.StatusOK, serve(s.Handler(&okHandler{}), r).Code, r.URL.String())
	}
	s = mustNew(t, Config{Profile: Development})
	assert.Equal(t, http.StatusOK, serve(s.Handler(&okHandler{}), newReq(http.MethodGet, "http://localhost:5000/", nil)).Code)
}

// AllowedHosts ["*"] is the explicit "any host": every well-formed host is served and
// plain HTTP is redirected to the host the request named, but never to a malformed one
// and, without TrustForwardedHost, never to a host a client forwarded.
func TestAnyHostRedirectsToTheRequestHost(t *testing.T) {
	var logs strings.Builder
	s := mustNew(t, Config{AllowedHosts: []string{" * "}, TrustedProxies: []string{"10.0.0.0/8"},
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	assert.Empty(t, logs.String(), "no warning: any host was asked for")
	rec := serve(s.Handler(&okHandler{}), newReq(http.MethodGet, "http://shop.example:8080/a?b=1", nil))
	assert.Equal(t, http.StatusPermanentRedirect, rec.Code)
	assert.Equal(t, "https://shop.example/a?b=1", rec.Header().Get("Location"))
	rec = serve(s.Handler(&okHandler{}), newReq(http.MethodGet, "http://shop.example/", nil, withRemote("10.0.0.1:1"),
		withHeader("X-Forwarded-Proto", "http"), withHeader("X-Forwarded-Host", "evil.example"), withHeader("Forwarded", "host=evil.example")))
	assert.Equal(t, "https://shop.example/", rec.Header().Get("Location"))
	rec = serve(s.Handler(&okHandler{}), newReq(http.MethodGet, "https://anything.example/", nil, withTLS()))
	assert.Equal(t, http.StatusOK, rec.Code)
	for _, bad := range []string{"evil.example/x", "a b", "evil.example:0", "evil.example:99999", "evil..example", "[::1", "%65vil.example", `evil.example\`,
		strings.Repeat("a", 64) + ".example", strings.Repeat("a.", 130) + "example", "evil.example:80:80", "evil.example:", "[fe80::1%25eth0]",
		"api.example.com@evil.example", ""} {
		rec = serve(s.Handler(&okHandler{}), newReq(http.MethodGet, "http://x/", nil, withHost(bad)))
		assert.Equal(t, http.StatusBadRequest, rec.Code, bad)
		assert.Empty(t, rec.Header().Get("Location"), bad)
	}

	_, err := New(Config{AllowedHosts: []string{"*", "api.example.com"}})
	assert.ErrorIs(t, err, ErrInvalidConfig, "* mixed with hosts is ambiguous")
}

func TestAllowedHostPorts(t *testing.T) {
	s := mustNew(t, Config{AllowedHosts: []string{"api.example.com:8443"}})
	rec := serve(s.Handler(&okHandler{}), newReq(http.MethodGet, "https://api.example.com:8443/", nil, withTLS()))
	assert.Equal(t, http.StatusOK, rec.Code)
	rec = serve(s.Handler(&okHandler{}), newReq(http.MethodGet, "https://api.example.com:9443/", nil, withTLS()))
	assert.Equal(t, http.StatusBadRequest, rec.Code)
}
