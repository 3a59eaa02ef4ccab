package app

import (
	"compress/gzip"
	"html"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestProductionChain checks what production turns on, through the real server: HTTPS
// redirect and HSTS, allowed hosts, CSP nonces matching the page, CSRF, CORS,
// compression, no Cache-Status, and probes reachable over plain HTTP. No demo data is
// created.
func TestProductionChain(t *testing.T) {
	s := newTestServer(t, sqliteBackend(t), map[string]string{
		"APP_ENV": "production", "SECRET_KEY": goodSecret, "JWT_SECRET_KEY": goodJWTSecret,
		"ALLOWED_HOSTS": "api.nexus.tn", "TRUSTED_PROXIES": "127.0.0.1", "CORS_ORIGINS": "https://app.nexus.tn",
		"METRICS_TOKEN": metricsToken,
	})
	host := "api.nexus.tn"
	viaProxy := []string{"Host", host, "X-Forwarded-Proto", "https"}

	// Plain HTTP is redirected; probes are not.
	r := s.request("GET", "/api/formulas", "", nil, "Host", host)
	if r.status != http.StatusPermanentRedirect || r.header.Get("Location") != "https://api.nexus.tn/api/formulas" {
		t.Fatalf("plain HTTP: %d Location %q", r.status, r.header.Get("Location"))
	}
	for _, p := range []string{"/live", "/ready", "/metrics"} {
		s.expect(http.StatusOK, "GET", p, metricsToken, nil)
	}
	// Unknown hosts are refused.
	s.expect(http.StatusBadRequest, "GET", "/api/formulas", "", nil, "Host", "evil.example", "X-Forwarded-Proto", "https")

	// Over HTTPS (terminated by the trusted proxy): HSTS and the headers.
	r = s.expect(http.StatusOK, "GET", "/api/formulas", "", nil, viaProxy...)
	if r.header.Get("Strict-Transport-Security") != "max-age=31536000; includeSubDomains" {
		t.Fatalf("HSTS %q", r.header.Get("Strict-Transport-Security"))
	}
	for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "Cross-Origin-Resource-Policy"} {
		if r.header.Get(h) == "" {
			t.Errorf("missing %s", h)
		}
	}
	// The second request is served from the cache, which production does not say.
	if again := s.expect(http.StatusOK, "GET", "/api/formulas", "", nil, viaProxy...); again.header.Get("Age") == "" || again.header.Get("Cache-Status") != "" || r.header.Get("Cache-Status") != "" {
		t.Fatalf("cached route in production: Age %q, Cache-Status %q then %q", again.header.Get("Age"), r.header.Get("Cache-Status"), again.header.Get("Cache-Status"))
	}
	// JSON is no document: the headers that govern only documents are left off it.
	for _, h := range []string{"Referrer-Policy", "X-Frame-Options", "Permissions-Policy", "Cross-Origin-Opener-Policy"} {
		if v := r.header.Get(h); v != "" {
			t.Errorf("JSON response carries %s: %s", h, v)
		}
	}

	// The page's nonces are the header's, and the policy allows no inline script
	// without it.
	r = s.expect(http.StatusOK, "GET", "/", "", nil, viaProxy...)
	for _, h := range []string{"Referrer-Policy", "X-Frame-Options", "Permissions-Policy", "Cross-Origin-Opener-Policy"} {
		if r.header.Get(h) == "" {
			t.Errorf("page misses %s", h)
		}
	}
	csp := r.header.Get("Content-Security-Policy")
	m := regexp.MustCompile(`'nonce-([A-Za-z0-9+/=_-]+)'`).FindStringSubmatch(csp)
	if m == nil || strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Fatalf("CSP %q", csp)
	}
	body := html.UnescapeString(string(r.body)) // html/template writes '+' as &#43; in attributes
	if strings.Count(body, `nonce="`+m[1]+`"`) != 2 || strings.Count(body, "<script") != 1 || strings.Count(body, "<style") != 1 {
		t.Fatalf("page nonces do not match the header nonce %s", m[1])
	}
	if !strings.Contains(csp, "report-uri "+cspReportPath) {
		t.Fatalf("CSP without report-uri: %q", csp)
	}
	r2 := s.expect(http.StatusOK, "GET", "/", "", nil, viaProxy...)
	if r2.header.Get("Content-Security-Policy") == csp {
		t.Fatal("nonce reused across responses")
	}

	// CSRF: a browser's cross-site POST is refused; the API client without Origin passes.
	s.expect(http.StatusForbidden, "POST", "/api/auth/login", "", map[string]string{"email": "a@b.tn", "password": "xxxxxxxx"},
		append(viaProxy, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")...)
	s.expect(http.StatusUnauthorized, "POST", "/api/auth/login", "", map[string]string{"email": "a@b.tn", "password": "xxxxxxxx"}, viaProxy...)
	// CORS: the configured origin gets a preflight answer with credentials.
	r = s.request("OPTIONS", "/api/students", "", nil, append(viaProxy, "Origin", "https://app.nexus.tn",
		"Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "authorization")...)
	if r.status >= 300 || r.header.Get("Access-Control-Allow-Origin") != "https://app.nexus.tn" || r.header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Fatalf("preflight: %d %v", r.status, r.header)
	}

	// Compression of a large enough JSON response.
	req, _ := http.NewRequest("GET", s.srv.URL+"/api/formulas", nil)
	req.Host = host
	req.Header.Set("X-Forwarded-Proto", "https")
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding %q", resp.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	if !strings.Contains(string(plain), "Groupe Réussite") {
		t.Fatalf("decompressed body %.100s", plain)
	}

	// Production creates no demo users.
	s.expect(http.StatusUnauthorized, "POST", "/api/auth/login", "", map[string]string{"email": demoAdmin, "password": demoPassword}, viaProxy...)
}

// TestDefaultRateLimitPerClient: the default rule applies per client IP, answers 429
// problem+json with Retry-After, and never touches the probes.
func TestDefaultRateLimitPerClient(t *testing.T) {
	s := newTestServer(t, sqliteBackend(t), map[string]string{"RATELIMIT_DEFAULT": "3 per minute", "TRUSTED_PROXIES": "127.0.0.1"})
	for i := 0; i < 3; i++ {
		s.expect(http.StatusOK, "GET", "/api/formulas", "", nil, "X-Forwarded-For", "203.0.113.7")
	}
	r := s.expect(http.StatusTooManyRequests, "GET", "/api/config", "", nil, "X-Forwarded-For", "203.0.113.7")
	if r.header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	// Another client behind the same proxy has its own budget.
	s.expect(http.StatusOK, "GET", "/api/formulas", "", nil, "X-Forwarded-For", "203.0.113.8")
	for i := 0; i < 10; i++ {
		s.expect(http.StatusOK, "GET", "/", "", nil, "X-Forwarded-For", "203.0.113.7") // the static page
		s.expect(http.StatusOK, "GET", "/ready", "", nil, "X-Forwarded-For", "203.0.113.7")
		s.expect(http.StatusOK, "GET", "/metrics", "", nil, "X-Forwarded-For", "203.0.113.7")
	}
}

// TestRegisterAndLoginRouteLimits: "3 per minute" on register and "5 per minute" on
// login, per client, on top of the default rule, and a new minute restores them.
func TestRegisterAndLoginRouteLimits(t *testing.T) {
	s := newTestServerOpts(t, sqliteBackend(t), nil, Options{})
	for i := 0; i < 3; i++ {
		s.expect(http.StatusCreated, "POST", "/api/auth/register", "", map[string]string{
			"email": "limite" + string(rune('a'+i)) + "@example.tn", "password": "long-enough-pw", "first_name": "L", "last_name": "M", "role": "parent",
		})
	}
	s.expect(http.StatusTooManyRequests, "POST", "/api/auth/register", "", map[string]string{
		"email": "limited@example.tn", "password": "long-enough-pw", "first_name": "L", "last_name": "M", "role": "parent",
	})
	for i := 0; i < 5; i++ {
		s.login(demoStudent, demoPassword)
	}
	r := s.expect(http.StatusTooManyRequests, "POST", "/api/auth/login", "", map[string]string{"email": demoStudent, "password": demoPassword})
	// The default limiter adds one item, for its tightest window; the login limiter, which
	// refused, that of its exhausted minute, whose reset is Retry-After.
	item := `"login-1m";r=0;t=` + r.header.Get("Retry-After")
	if !slices.Contains(r.header.Values("RateLimit"), item) || !slices.Contains(r.header.Values("RateLimit-Policy"), `"login-1m";q=5;w=60`) ||
		len(r.header.Values("RateLimit")) != 2 || len(r.header.Values("RateLimit-Policy")) != 2 ||
		strings.Contains(r.header.Get("RateLimit"), ",") || strings.Contains(r.header.Get("RateLimit-Policy"), ",") {
		t.Fatalf("429 without the exhausted login window %s: %v", item, r.header)
	}
	// Refresh and other routes are not under the login rule.
	s.expect(http.StatusOK, "GET", "/api/formulas", "", nil)
	s.clock.advance(time.Minute + time.Second)
	s.login(demoStudent, demoPassword)
}
