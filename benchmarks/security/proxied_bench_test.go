package securitybench

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/nexus-reussite/harden/security"
	"github.com/unrolled/secure"
)

// proxiedRequest is the request of the stack benchmarks: a GET through a trusted loopback
// proxy that terminated TLS, with the client named in X-Forwarded-For.
func proxiedRequest() *http.Request {
	r := httptest.NewRequest(http.MethodGet, "http://api.example.com/api/formulas", nil)
	r.RemoteAddr = "127.0.0.1:40000"
	r.Header.Set("X-Forwarded-Proto", "https")
	r.Header.Set("X-Forwarded-For", "198.51.100.7")
	return r
}

// BenchmarkProxied is the per-request cost of security as the harden stack configures it
// (default headers and nonce CSP, the loopback proxy trusted), next to unrolled/secure
// with the same headers trusting X-Forwarded-Proto.
func BenchmarkProxied(b *testing.B) {
	r := proxiedRequest()
	b.Run("harden", func(b *testing.B) {
		run(b, hardenHandler(b, security.Config{TrustedProxies: []string{"127.0.0.1"}}), r, 0)
	})
	b.Run("unrolled-secure", func(b *testing.B) {
		opt := secureOptions(cspTemplate)
		opt.SSLProxyHeaders = map[string]string{"X-Forwarded-Proto": "https"}
		run(b, secure.New(opt).Handler(app()), r, 0)
	})
}
