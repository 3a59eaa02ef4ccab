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

// FuzzDetailHiding sends hostile Authorization, RemoteAddr, X-Forwarded-For and
// Forwarded values: the error text reaches a caller only with the token or from the
// allowed address (directly or through the trusted proxy); everyone else gets exactly
// {"status":"fail"}.
func FuzzDetailHiding(f *testing.F) {
	const token = "fuzz-token-0123456789"
	allowed := netip.MustParseAddr("192.0.2.7")
	f.Add("Bearer "+token, "203.0.113.1:1", "", "")
	f.Add("bearer  "+token, "203.0.113.1:1", "", "")
	f.Add("Bearer "+token+" ", "203.0.113.1:1", "", "")
	f.Add("", "192.0.2.7:1", "", "")
	f.Add("", "[::ffff:192.0.2.7]:1", "", "")
	f.Add("", "172.16.0.1:1", "192.0.2.7", "")
	f.Add("", "172.16.0.1:1", "192.0.2.7, 198.51.100.1", "")
	f.Add("", "172.16.0.1:1", "", `for="192.0.2.7:80"`)
	f.Add("", "203.0.113.1:1", "192.0.2.7", `for=192.0.2.7`)
	f.Add("Basic "+token, "garbage", "\x00", "for=")
	h, err := New(Config{
		Token:          token,
		DetailCIDRs:    []string{"192.0.2.7"},
		TrustedProxies: []string{"172.16.0.1"},
		Checks: []Check{{Name: "db", Func: func(context.Context) error {
			return errors.New("SECRET-host.internal refused")
		}}},
	})
	if err != nil {
		f.Fatal(err)
	}
	h.Start(context.Background())
	resolver, err := clientip.New(clientip.Config{TrustedProxies: []string{"172.16.0.1"}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, auth, remote, xff, fwd string) {
		r := httptest.NewRequest(http.MethodGet, "/health", nil)
		r.RemoteAddr = remote
		r.Header["Authorization"] = []string{auth}
		r.Header["X-Forwarded-For"] = []string{xff}
		r.Header["Forwarded"] = []string{fwd}
		for _, path := range []string{"/ready", "/health"} {
			w := httptest.NewRecorder()
			r.URL.Path = path
			h.Handler(nil).ServeHTTP(w, r)
			if w.Code != http.StatusServiceUnavailable {
				t.Fatalf("%s: code %d", path, w.Code)
			}
			body := w.Body.String()
			if !strings.Contains(body, "SECRET") {
				if body != `{"status":"fail"}`+"\n" {
					t.Fatalf("%s: public body %q", path, body)
				}
				continue
			}
			if !strings.Contains(auth, token) && resolver.ClientIP(r).Unmap() != allowed {
				t.Fatalf("%s: details leaked to auth=%q remote=%q xff=%q fwd=%q", path, auth, remote, xff, fwd)
			}
		}
	})
}
