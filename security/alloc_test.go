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

// requestCase is one kind of request through the middleware, for the allocation bound
// and the benchmark.
type requestCase struct {
	name string
	cfg  Config
	req  func() *http.Request
	code int
}

func requestCases() []requestCase {
	const origin = "https://app.example.com"
	return []requestCase{
		{"default policy over TLS", Config{}, tlsGET, http.StatusOK},
		{"default policy behind a proxy", Config{TrustedProxies: []string{"127.0.0.1"}}, proxiedGET, http.StatusOK},
		{"default policy with a report URI", Config{CSP: CSPConfig{ReportURI: "/api/csp-report/with/a/long/path/for/the/reports/endpoint"}}, tlsGET, http.StatusOK},
		{"static policy", Config{CSP: CSPConfig{Policy: APICSP()}}, tlsGET, http.StatusOK},
		{"static policy behind a proxy", Config{CSP: CSPConfig{Policy: APICSP()}, TrustedProxies: []string{"127.0.0.1"}}, proxiedGET, http.StatusOK},
		{"no policy", Config{CSP: CSPConfig{Disable: true}}, tlsGET, http.StatusOK},
		{"development profile over HTTP", Config{Profile: Development}, plainGET, http.StatusOK},
		{"credentialed CORS request", Config{CORS: CORS{Origins: []string{origin}, AllowCredentials: true}}, func() *http.Request {
			r := tlsGET()
			r.Header.Set("Origin", origin)
			return r
		}, http.StatusOK},
		{"CORS preflight", Config{CORS: CORS{Origins: []string{origin}}}, func() *http.Request {
			r := tlsGET()
			r.Method = http.MethodOptions
			r.Header.Set("Origin", origin)
			r.Header.Set("Access-Control-Request-Method", http.MethodPost)
			return r
		}, http.StatusNoContent},
		{"HTTPS redirect", Config{AllowedHosts: []string{"api.example.com"}}, plainGET, http.StatusPermanentRedirect},
		{"HTTPS required", Config{}, plainGET, http.StatusBadRequest},
		{"POST with a body", Config{}, func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, "https://api.example.com/api/formulas", strings.NewReader(`{}`))
			r.TLS = &tls.ConnectionState{}
			r.Header.Set("Sec-Fetch-Site", "same-origin")
			return r
		}, http.StatusOK},
	}
}

// handlerFor builds the middleware of c around a handler writing a small body, and checks
// one request answers as expected.
func (c requestCase) handlerFor(t testing.TB) (http.Handler, *http.Request, *testenv.HeaderSink) {
	c.cfg.Registerer = prometheus.NewRegistry()
	s := mustNew(t, c.cfg)
	h := s.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write(allocBody)
	}))
	r := c.req()
	w := testenv.NewHeaderSink()
	h.ServeHTTP(w, r)
	require.Equal(t, c.code, w.Code)
	if c.code == http.StatusOK && !c.cfg.CSP.Disable {
		require.NotEmpty(t, w.H.Get("Content-Security-Policy"))
	}
	return h, r, w
}

// maxRequestAllocs bounds the allocations of one request through the middleware. A
// request costs a handful (the per-request state, which also holds every header value the
// middleware sets; the request copy when the context must carry the state; the rendered
// CSP with its nonce; a body reader; a problem or redirect body), so the bound catches a
// change that allocates per header value or per directive without pinning the exact
// count, which varies with the Go release and the race detector. BenchmarkRequest
// reports the exact figures.
const maxRequestAllocs = 8

func TestRequestAllocationsBounded(t *testing.T) {
	for _, c := range requestCases() {
		t.Run(c.name, func(t *testing.T) {
			h, r, w := c.handlerFor(t)
			got := testing.AllocsPerRun(100, func() {
				clear(w.H)
				h.ServeHTTP(w, r)
			})
			assert.LessOrEqual(t, got, float64(maxRequestAllocs), "allocations per request")
		})
	}
}

// BenchmarkRequest is the cost of one request of each kind through the middleware,
// allocations included.
func BenchmarkRequest(b *testing.B) {
	for _, c := range requestCases() {
		b.Run(c.name, func(b *testing.B) {
			h, r, w := c.handlerFor(b)
			b.ReportAllocs()
			for b.Loop() {
				clear(w.H)
				h.ServeHTTP(w, r)
			}
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
