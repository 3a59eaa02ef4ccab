package app

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// proxyFamily is a CLIENT_IP_HEADER setting: the headers a trusted proxy sets for a
// client, and the ones a client adds of its own that such a proxy passes through.
type proxyFamily struct {
	header string // CLIENT_IP_HEADER
	// proxied returns the header pairs the proxy sends for client, having received the
	// request over scheme, after the client's own spoof headers; the spoof's value of
	// the family's own header is kept in front when the proxy appends to it.
	proxied func(client, scheme string, spoof map[string]string) []string
}

// proxyFamilies are the three kinds of CLIENT_IP_HEADER: a chain the proxy appends to
// (X-Forwarded-For as nginx's $proxy_add_x_forwarded_for, Forwarded as RFC 7239), and a
// single address the proxy overwrites (X-Real-IP).
var proxyFamilies = []proxyFamily{
	{"X-Forwarded-For", func(client, scheme string, spoof map[string]string) []string {
		return withSpoof(spoof, "X-Forwarded-For", appendHop(spoof["X-Forwarded-For"], client), "X-Forwarded-Proto", scheme)
	}},
	{"Forwarded", func(client, scheme string, spoof map[string]string) []string {
		return withSpoof(spoof, "Forwarded", appendHop(spoof["Forwarded"], "for="+client+";proto="+scheme))
	}},
	{"X-Real-IP", func(client, scheme string, spoof map[string]string) []string {
		return withSpoof(spoof, "X-Real-IP", client, "X-Forwarded-Proto", scheme)
	}},
}

// appendHop appends hop to a comma-separated chain.
func appendHop(chain, hop string) string {
	if chain == "" {
		return hop
	}
	return chain + ", " + hop
}

// withSpoof returns the spoof headers the proxy passes through (those it does not set)
// followed by the proxy's own pairs.
func withSpoof(spoof map[string]string, own ...string) []string {
	var out []string
	for k, v := range spoof {
		set := false
		for i := 0; i < len(own); i += 2 {
			set = set || strings.EqualFold(own[i], k)
		}
		if !set {
			out = append(out, k, v)
		}
	}
	return append(out, own...)
}

// spoofAll is what a client forges: its address (and, for Forwarded, a scheme and host)
// in every forwarding header.
func spoofAll(addr string) map[string]string {
	return map[string]string{
		"X-Forwarded-For": addr, "Forwarded": "for=" + addr + ";proto=http;host=evil.example", "X-Real-IP": addr,
		"CF-Connecting-IP": addr, "True-Client-IP": addr, "X-Forwarded-Proto": "http", "X-Forwarded-Host": "evil.example",
	}
}

// TestForwardingHeadersOfOneFamily runs the backend behind a trusted loopback proxy
// with each CLIENT_IP_HEADER, the proxy naming the client 203.0.113.7 in that family's
// header, and the client forging every other forwarding header. The client cannot
// escape the login limit by rotating its forged address, cannot see /health details by
// forging a loopback address, gets no redirect loop from a forged proto=http and no
// redirect to a forged host, and its forged address is not the access log's client_ip.
func TestForwardingHeadersOfOneFamily(t *testing.T) {
	const client = "203.0.113.7"
	for _, fam := range proxyFamilies {
		t.Run(fam.header, func(t *testing.T) {
			s := newTestServerOpts(t, sqliteBackend(t), map[string]string{
				"APP_ENV": "production", "SECRET_KEY": goodSecret, "JWT_SECRET_KEY": goodJWTSecret,
				"ALLOWED_HOSTS": "api.nexus.tn", "TRUSTED_PROXIES": "127.0.0.1", "CLIENT_IP_HEADER": fam.header, "METRICS_ADDR": ":9090",
				// Host-local tools see details: the trusted proxy's own address is listed.
				"HEALTH_DETAIL_CIDRS": "127.0.0.1",
			}, Options{})
			via := func(scheme string, spoof map[string]string) []string {
				return append([]string{"Host", "api.nexus.tn"}, fam.proxied(client, scheme, spoof)...)
			}

			// Login: "5 per minute" per client, whatever the client forges.
			for i := range 7 {
				want := http.StatusUnauthorized
				if i >= 5 {
					want = http.StatusTooManyRequests
				}
				s.expect(want, "POST", "/api/auth/login", "", map[string]string{"email": demoAdmin, "password": "wrong-password"},
					via("https", spoofAll(fmt.Sprintf("198.51.100.%d", i+1)))...)
			}
			// The default limit also counts the real client: another client is not
			// limited by the first one's login attempts.
			s.expect(http.StatusUnauthorized, "POST", "/api/auth/login", "", map[string]string{"email": demoAdmin, "password": "wrong-password"},
				append([]string{"Host", "api.nexus.tn"}, fam.proxied("203.0.113.8", "https", nil)...)...)

			// /health: a forged loopback address gets the status alone; the host itself
			// (no proxy in between) sees the checks.
			h := s.expect(http.StatusOK, "GET", "/health", "", nil, via("https", spoofAll("127.0.0.1"))...).json(t)
			if _, ok := h["checks"]; ok || len(h) != 1 {
				t.Errorf("/health with a forged loopback address: %v", h)
			}
			if h := s.expect(http.StatusOK, "GET", "/health", "", nil).json(t); h["checks"] == nil {
				t.Errorf("/health from the host itself: %v", h)
			}

			// HTTPS at the proxy: a forged proto=http does not loop the client back.
			r := s.expect(http.StatusOK, "GET", "/api/formulas", "", nil, via("https", spoofAll("198.51.100.50"))...)
			if r.header.Get("Strict-Transport-Security") == "" {
				t.Error("no HSTS over HTTPS at the proxy")
			}
			// Plain HTTP at the proxy: redirected to the listed host, never the forged one.
			r = s.expect(http.StatusPermanentRedirect, "GET", "/api/formulas", "", nil, via("http", spoofAll("198.51.100.51"))...)
			if loc := r.header.Get("Location"); loc != "https://api.nexus.tn/api/formulas" {
				t.Errorf("redirect to %q", loc)
			}

			// The access log names the client the proxy saw.
			s.expect(http.StatusOK, "GET", "/api/config", "", nil, append(via("https", spoofAll("192.0.2.66")), "X-Request-ID", "spoof-"+fam.header)...)
			line := accessLine(t, s, "spoof-"+fam.header)
			if line["client_ip"] != client {
				t.Errorf("access log client_ip %v, want %s: %v", line["client_ip"], client, line)
			}
		})
	}
}

// accessLine returns the access log line of the request with the given ID.
func accessLine(t *testing.T, s *testServer, requestID string) map[string]any {
	t.Helper()
	for _, l := range strings.Split(s.logs.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == "http request" && m["request_id"] == requestID {
			return m
		}
	}
	t.Fatalf("no access log line for request %s", requestID)
	return nil
}

// TestTrustForwardedHost: with TRUST_FORWARDED_HOST the host the trusted proxy forwards
// is the one checked and redirected to; without it, X-Forwarded-Host is ignored.
func TestTrustForwardedHost(t *testing.T) {
	prod := map[string]string{
		"APP_ENV": "production", "SECRET_KEY": goodSecret, "JWT_SECRET_KEY": goodJWTSecret,
		"ALLOWED_HOSTS": "api.nexus.tn", "TRUSTED_PROXIES": "127.0.0.1", "METRICS_ADDR": ":9090",
	}
	trusting := newTestServer(t, sqliteBackend(t), merge(prod, map[string]string{"TRUST_FORWARDED_HOST": "true"}))
	r := trusting.expect(http.StatusPermanentRedirect, "GET", "/api/formulas", "", nil,
		"Host", "10.0.0.5:5000", "X-Forwarded-Host", "api.nexus.tn", "X-Forwarded-For", "203.0.113.7", "X-Forwarded-Proto", "http")
	if loc := r.header.Get("Location"); loc != "https://api.nexus.tn/api/formulas" {
		t.Errorf("redirect to %q", loc)
	}
	trusting.expect(http.StatusBadRequest, "GET", "/api/formulas", "", nil,
		"Host", "api.nexus.tn", "X-Forwarded-Host", "evil.example", "X-Forwarded-For", "203.0.113.7", "X-Forwarded-Proto", "https")

	plain := newTestServer(t, sqliteBackend(t), prod)
	plain.expect(http.StatusOK, "GET", "/api/formulas", "", nil,
		"Host", "api.nexus.tn", "X-Forwarded-Host", "evil.example", "X-Forwarded-For", "203.0.113.7", "X-Forwarded-Proto", "https")
	plain.expect(http.StatusBadRequest, "GET", "/api/formulas", "", nil,
		"Host", "10.0.0.5:5000", "X-Forwarded-Host", "api.nexus.tn", "X-Forwarded-For", "203.0.113.7", "X-Forwarded-Proto", "https")
}

// merge returns the union of maps, later ones winning.
func merge(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// TestHealthDetailsNeedTokenOrNetwork: by default nobody sees the details of /health,
// loopback included; HEALTH_TOKEN unlocks them, and a wrong token does not.
func TestHealthDetailsNeedTokenOrNetwork(t *testing.T) {
	s := newTestServer(t, sqliteBackend(t), nil)
	for _, tok := range []string{"", "wrong-token-of-enough-length"} {
		h := s.expect(http.StatusOK, "GET", "/health", tok, nil).json(t)
		if len(h) != 1 || h["status"] != "pass" {
			t.Errorf("/health from loopback with token %q: %v", tok, h)
		}
	}
	h := s.expect(http.StatusOK, "GET", "/health", healthToken, nil).json(t)
	checks, _ := h["checks"].(map[string]any)
	if _, ok := checks["database"]; !ok {
		t.Errorf("/health with HEALTH_TOKEN: %v", h)
	}
}

// TestRejectionsCountedUnderTheirRoute: a request refused by the default rate limit
// (before the routes run) is logged and counted under its route pattern, and so are the
// probes, never as "unmatched".
func TestRejectionsCountedUnderTheirRoute(t *testing.T) {
	s := newTestServer(t, sqliteBackend(t), map[string]string{"RATELIMIT_DEFAULT": "2 per minute"})
	for range 2 {
		s.expect(http.StatusOK, "GET", "/api/formulas/1", "", nil)
	}
	s.expect(http.StatusTooManyRequests, "GET", "/api/formulas/1", "", nil, "X-Request-ID", "limited-1")
	if route := accessLine(t, s, "limited-1")["route"]; route != "GET /api/formulas/{id}" {
		t.Errorf("429 logged under route %v", route)
	}
	s.expect(http.StatusOK, "GET", "/live", "", nil)
	s.expect(http.StatusMethodNotAllowed, "POST", "/metrics", "", nil)
	m := string(s.expect(http.StatusOK, "GET", "/metrics", "", nil).body)
	for _, want := range []string{
		`harden_http_requests_total{code="4xx",method="GET",route="GET /api/formulas/{id}"} 1`,
		`harden_http_requests_total{code="2xx",method="GET",route="GET /api/formulas/{id}"} 2`,
		`harden_http_requests_total{code="2xx",method="GET",route="/live"} 1`,
		`harden_http_requests_total{code="4xx",method="POST",route="/metrics"} 1`,
	} {
		if !strings.Contains(m, want+"\n") {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(m, `route="unmatched"`) {
		t.Errorf("a request was counted as unmatched:\n%s", grepLines(m, "harden_http_requests_total"))
	}
}

// grepLines returns the lines of s that contain substr.
func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
