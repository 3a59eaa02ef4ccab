package health

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
)

// detailShown probes /health and /ready of h with mods and reports whether either
// answer carried more than the status; it fails the test when the two disagree.
func detailShown(t *testing.T, h *Health, mods ...func(*http.Request)) bool {
	t.Helper()
	var shown [2]bool
	for i, path := range []string{"/health", "/ready"} {
		body := strings.TrimSpace(probe(h.Handler(nil), path, mods...).Body.String())
		shown[i] = body != `{"status":"pass"}` && body != `{"status":"fail"}`
		if shown[i] && !strings.Contains(body, "checks") {
			t.Fatalf("%s: unexpected body %s", path, body)
		}
	}
	if shown[0] != shown[1] {
		t.Fatalf("/health shows details: %v, /ready: %v", shown[0], shown[1])
	}
	return shown[0]
}

func withHeader(name, value string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set(name, value) }
}

func failingCheck() []Check {
	return []Check{{Name: "db", Func: func(context.Context) error { return errors.New(secret) }}}
}

// The zero Config shows details to nobody: not to loopback, not to a private network.
func TestZeroConfigShowsNoDetails(t *testing.T) {
	h := mustNew(t, Config{Checks: failingCheck()})
	h.Start(t.Context())
	for _, addr := range []string{"127.0.0.1:4000", "[::1]:4000", "10.0.0.1:4000", "192.168.1.1:4000"} {
		if detailShown(t, h, fromAddr(addr)) {
			t.Errorf("zero Config shows details to %s", addr)
		}
	}
}

// A proxy on the same host that is not listed in TrustedProxies lends its loopback
// address to every visitor. Loopback in DetailCIDRs must not then unlock details for a
// request that says it was forwarded.
func TestUntrustedForwarderGetsNoDetails(t *testing.T) {
	h := mustNew(t, Config{
		Checks:         failingCheck(),
		DetailCIDRs:    []string{"127.0.0.1", "::1"},
		ClientIPHeader: "CF-Connecting-IP",
	})
	h.Start(t.Context())
	if !detailShown(t, h, fromAddr("127.0.0.1:4000")) {
		t.Fatal("a direct request from a listed address gets no details")
	}
	for _, hdr := range [][2]string{
		{"X-Forwarded-For", "203.0.113.9"},
		{"X-Forwarded-For", "127.0.0.1"},
		{"Forwarded", "for=203.0.113.9"},
		{"X-Real-IP", "203.0.113.9"},
		{"Via", "1.1 nginx"},
		{"CF-Connecting-IP", "203.0.113.9"},
		{"X-Forwarded-For", ""},
	} {
		for _, addr := range []string{"127.0.0.1:4000", "[::1]:4000"} {
			if detailShown(t, h, fromAddr(addr), withHeader(hdr[0], hdr[1])) {
				t.Errorf("%s: %s from an untrusted %s shows details", hdr[0], hdr[1], addr)
			}
		}
	}
}

// Behind a trusted proxy only the configured header family names the client: a
// client's own header of another family, naming a listed network, unlocks nothing.
func TestClientIPHeaderFamily(t *testing.T) {
	const proxy = "192.0.2.1:4000"
	tests := []struct {
		family  string
		headers [][2]string
		detail  bool
	}{
		{"", [][2]string{{"X-Forwarded-For", "127.0.0.1"}}, true},
		{"", [][2]string{{"X-Forwarded-For", "203.0.113.7"}, {"Forwarded", "for=127.0.0.1"}}, false},
		{"", [][2]string{{"Forwarded", "for=127.0.0.1"}}, false},
		{"", [][2]string{{"X-Forwarded-For", "203.0.113.7"}, {"X-Real-IP", "127.0.0.1"}}, false},
		{"", [][2]string{{"X-Real-IP", "127.0.0.1"}}, false},
		{"", [][2]string{{"X-Forwarded-For", "127.0.0.1, 203.0.113.7"}}, false},
		{"Forwarded", [][2]string{{"Forwarded", "for=127.0.0.1"}}, true},
		{"Forwarded", [][2]string{{"Forwarded", `for="127.0.0.1:5555";proto=https`}}, true},
		{"Forwarded", [][2]string{{"Forwarded", "for=203.0.113.7"}, {"X-Forwarded-For", "127.0.0.1"}}, false},
		{"Forwarded", [][2]string{{"X-Forwarded-For", "127.0.0.1"}}, false},
		{"Forwarded", [][2]string{{"Forwarded", "for=127.0.0.1, for=203.0.113.7"}}, false},
		{"X-Real-IP", [][2]string{{"X-Real-IP", "127.0.0.1"}}, true},
		{"X-Real-IP", [][2]string{{"X-Real-IP", "203.0.113.7"}, {"X-Forwarded-For", "127.0.0.1"}}, false},
		{"X-Real-IP", [][2]string{{"Forwarded", "for=127.0.0.1"}}, false},
		{"X-Real-IP", [][2]string{{"X-Forwarded-For", "127.0.0.1"}}, false},
	}
	for _, tt := range tests {
		h := mustNew(t, Config{
			Checks:         failingCheck(),
			DetailCIDRs:    []string{"127.0.0.0/8"},
			TrustedProxies: []string{"192.0.2.1"},
			ClientIPHeader: tt.family,
		})
		h.Start(t.Context())
		mods := []func(*http.Request){fromAddr(proxy)}
		for _, hv := range tt.headers {
			mods = append(mods, withHeader(hv[0], hv[1]))
		}
		if got := detailShown(t, h, mods...); got != tt.detail {
			t.Errorf("family %q, headers %q: details shown = %v, want %v", tt.family, tt.headers, got, tt.detail)
		}
	}
}
