package health

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/nexus-reussite/harden/internal/clientip"
)

// FuzzDetailHiding sends hostile Authorization, RemoteAddr, X-Forwarded-For, Forwarded
// and X-Real-IP values. The error text reaches a caller only with the token or from the
// allowed address: directly with no forwarding header, or named in X-Forwarded-For by
// the trusted proxy. Forwarded and X-Real-IP, outside the configured family, never
// unlock anything. Everyone else gets exactly {"status":"fail"}.
func FuzzDetailHiding(f *testing.F) {
	const token = "fuzz-token-0123456789"
	allowed := netip.MustParseAddr("192.0.2.7")
	proxy := netip.MustParseAddr("172.16.0.1")
	f.Add("Bearer "+token, "203.0.113.1:1", "", "", "")
	f.Add("bearer  "+token, "203.0.113.1:1", "", "", "")
	f.Add("Bearer "+token+" ", "203.0.113.1:1", "", "", "")
	f.Add("", "192.0.2.7:1", "", "", "")
	f.Add("", "192.0.2.7:1", "203.0.113.1", "", "")
	f.Add("", "[::ffff:192.0.2.7]:1", "", "", "")
	f.Add("", "172.16.0.1:1", "192.0.2.7", "", "")
	f.Add("", "172.16.0.1:1", "192.0.2.7, 198.51.100.1", "", "")
	f.Add("", "172.16.0.1:1", "", `for="192.0.2.7:80"`, "")
	f.Add("", "172.16.0.1:1", "198.51.100.1", "for=192.0.2.7", "192.0.2.7")
	f.Add("", "203.0.113.1:1", "192.0.2.7", `for=192.0.2.7`, "")
	f.Add("Basic "+token, "garbage", "\x00", "for=", "\x00")
	h, err := New(Config{
		Token:          token,
		DetailCIDRs:    []string{allowed.String()},
		TrustedProxies: []string{proxy.String()},
		Checks: []Check{{Name: "db", Func: func(context.Context) error {
			return errors.New("SECRET-host.internal refused")
		}}},
	})
	if err != nil {
		f.Fatal(err)
	}
	h.Start(context.Background())
	resolver, err := clientip.New(clientip.Config{TrustedProxies: []string{proxy.String()}})
	if err != nil {
		f.Fatal(err)
	}
	srv := h.Handler(nil)
	f.Fuzz(func(t *testing.T, auth, remote, xff, fwd, realIP string) {
		r := httptest.NewRequest(http.MethodGet, "/health", nil)
		r.RemoteAddr = remote
		r.Header["Authorization"] = []string{auth}
		for name, v := range map[string]string{"X-Forwarded-For": xff, "Forwarded": fwd, "X-Real-Ip": realIP} {
			if v != "" {
				r.Header[name] = []string{v}
			}
		}
		// The same request without the headers of other families.
		plain := r.Clone(r.Context())
		delete(plain.Header, "Forwarded")
		delete(plain.Header, "X-Real-Ip")
		for _, path := range []string{"/ready", "/health"} {
			r.URL.Path, plain.URL.Path = path, path
			shown := detailsIn(t, srv, r)
			if !shown {
				continue
			}
			if strings.Contains(auth, token) {
				continue
			}
			if resolver.ClientIP(r).Unmap() != allowed {
				t.Fatalf("%s: details leaked to remote=%q xff=%q fwd=%q real=%q", path, remote, xff, fwd, realIP)
			}
			if !resolver.Trusted(clientip.Peer(r)) && (xff != "" || fwd != "" || realIP != "") {
				t.Fatalf("%s: details for a request forwarded by an untrusted peer: remote=%q xff=%q fwd=%q real=%q", path, remote, xff, fwd, realIP)
			}
			if !detailsIn(t, srv, plain) {
				t.Fatalf("%s: Forwarded %q or X-Real-IP %q unlocked details", path, fwd, realIP)
			}
		}
	})
}

// detailsIn serves r and reports whether the answer went beyond the public status.
func detailsIn(t *testing.T, srv http.Handler, r *http.Request) bool {
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, r)
	if w.Code != http.StatusServiceUnavailable {
		t.Fatalf("%s: code %d", r.URL.Path, w.Code)
	}
	body := w.Body.String()
	if strings.Contains(body, "SECRET") {
		return true
	}
	if body != `{"status":"fail"}`+"\n" {
		t.Fatalf("%s: public body %q", r.URL.Path, body)
	}
	return false
}
