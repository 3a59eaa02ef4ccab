package security

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-reussite/harden/internal/testenv"
)

var allocBody = []byte(`{"id":42}`)

// TestRequestAllocations pins the allocations of a request through the middleware, so a
// change that adds one to the hot path fails here rather than in a benchmark nobody
// reads. An admitted request costs the per-request state (which also holds the context
// value, every header value the middleware sets and, with a nonce policy, the rendered
// CSP) and, when a nonce, WithCSP, a body limit or a forwarded host needs one, the
// request copy of r.WithContext. Behind a trusted proxy the shared resolver
// adds one for X-Forwarded-Proto; a request body adds http.MaxBytesReader's reader.
func TestRequestAllocations(t *testing.T) {
	const origin = "https://app.example.com"
	for _, tc := range []struct {
		name string
		cfg  Config
		req  func() *http.Request
		code int
		want float64
	}{
		{"default policy over TLS", Config{}, tlsGET, http.StatusOK, 2 + randAllocs},
		{"default policy behind a proxy", Config{TrustedProxies: []string{"127.0.0.1"}}, proxiedGET, http.StatusOK, 3 + randAllocs},
		{"default policy with a report URI", Config{CSP: CSPConfig{ReportURI: "/api/csp-report/with/a/long/path/for/the/reports/endpoint"}}, tlsGET, http.StatusOK, 2 + randAllocs},
		{"static policy", Config{CSP: CSPConfig{Policy: APICSP()}}, tlsGET, http.StatusOK, 1},
		{"static policy behind a proxy", Config{CSP: CSPConfig{Policy: APICSP()}, TrustedProxies: []string{"127.0.0.1"}}, proxiedGET, http.StatusOK, 2},
		{"no policy", Config{CSP: CSPConfig{Disable: true}}, tlsGET, http.StatusOK, 1},
		{"development profile over HTTP", Config{Profile: Development}, plainGET, http.StatusOK, 2 + randAllocs},
		{"credentialed CORS request", Config{CORS: CORS{Origins: []string{origin}, AllowCredentials: true}}, func() *http.Request {
			r := tlsGET()
			r.Header.Set("Origin", origin)
			return r
		}, http.StatusOK, 2 + randAllocs},
		{"CORS preflight", Config{CORS: CORS{Origins: []string{origin}}}, func() *http.Request {
			r := tlsGET()
			r.Method = http.MethodOptions
			r.Header.Set("Origin", origin)
			r.Header.Set("Access-Control-Request-Method", http.MethodPost)
			return r
		}, http.StatusNoContent, 1},
		{"HTTPS redirect", Config{}, plainGET, http.StatusPermanentRedirect, 2},
		{"POST with a body", Config{}, func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, "https://api.example.com/api/formulas", strings.NewReader(`{}`))
			r.TLS = &tls.ConnectionState{}
			r.Header.Set("Sec-Fetch-Site", "same-origin")
			return r
		}, http.StatusOK, 3 + randAllocs},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Registerer = prometheus.NewRegistry()
			s := mustNew(t, tc.cfg)
			h := s.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				_, _ = w.Write(allocBody)
			}))
			r := tc.req()
			w := testenv.NewHeaderSink()
			h.ServeHTTP(w, r)
			require.Equal(t, tc.code, w.Code)
			if tc.code == http.StatusOK && !tc.cfg.CSP.Disable {
				require.NotEmpty(t, w.H.Get("Content-Security-Policy"))
			}
			got := testing.AllocsPerRun(500, func() {
				clear(w.H)
				h.ServeHTTP(w, r)
			})
			assert.LessOrEqual(t, got, tc.want, "allocations per request")
		})
	}
}

func tlsGET() *http.Request {
	r := httptest.NewRequest(http.MethodGet, "https://api.example.com/api/formulas", nil)
	r.TLS = &tls.ConnectionState{}
	return r
}

func plainGET() *http.Request {
	return httptest.NewRequest(http.MethodGet, "http://api.example.com/api/formulas", nil)
}

func proxiedGET() *http.Request {
	r := plainGET()
	r.RemoteAddr = "127.0.0.1:40000"
	r.Header.Set("X-Forwarded-Proto", "https")
	r.Header.Set("X-Forwarded-For", "198.51.100.7")
	return r
}
