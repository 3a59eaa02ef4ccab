package reliability

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Test-only request headers the proxy turns into what it would know itself: the
// client's address (every test client is on loopback) and the scheme it terminated.
const (
	peerHeader   = "X-Test-Peer"
	schemeHeader = "X-Test-Scheme"
)

// startNginxLikeProxy runs a reverse proxy to target on loopback that forwards as nginx
// configured the usual way does: X-Forwarded-For gets the client appended
// ($proxy_add_x_forwarded_for), X-Forwarded-Proto is set to the scheme, Host is kept,
// and every other header a client sends, Forwarded and X-Forwarded-Host included,
// passes through untouched.
func startNginxLikeProxy(t *testing.T, target string) *httptest.Server {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	passThrough := []string{"Forwarded", "X-Forwarded-Host"}
	rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(u)
		pr.Out.Host = pr.In.Host
		// Rewrite starts from an outbound request without forwarding headers.
		for _, h := range passThrough {
			if v := pr.In.Header.Values(h); len(v) > 0 {
				pr.Out.Header[h] = v
			}
		}
		peer, scheme := pr.In.Header.Get(peerHeader), pr.In.Header.Get(schemeHeader)
		pr.Out.Header.Del(peerHeader)
		pr.Out.Header.Del(schemeHeader)
		chain := strings.Join(pr.In.Header.Values("X-Forwarded-For"), ", ")
		if chain != "" {
			chain += ", "
		}
		pr.Out.Header.Set("X-Forwarded-For", chain+peer)
		pr.Out.Header.Set("X-Forwarded-Proto", scheme)
	}}
	srv := httptest.NewServer(rp)
	t.Cleanup(srv.Close)
	return srv
}

// TestHostileForwardedHeaders runs a production backend behind a trusted loopback proxy
// that sets X-Forwarded-For and X-Forwarded-Proto (CLIENT_IP_HEADER's default) and
// passes the clients' other headers through, and sends what a client forges.
func TestHostileForwardedHeaders(t *testing.T) {
	sec := section(t, "Hostile traffic behind a trusted proxy",
		`A production backend (ALLOWED_HOSTS set, TRUSTED_PROXIES=127.0.0.1, CLIENT_IP_HEADER left at
X-Forwarded-For, HEALTH_DETAIL_CIDRS=127.0.0.1) behind a reverse proxy on loopback that appends
the client to X-Forwarded-For, sets X-Forwarded-Proto and passes every other header through,
as nginx does. Clients forge the headers the proxy does not set (Forwarded, X-Real-IP,
X-Forwarded-Host). Claims: rotating "Forwarded: for=" does not escape the login limit;
"Forwarded: for=127.0.0.1" does not unlock /health details (which the host itself, reaching the
backend directly, sees); "Forwarded: proto=http" over HTTPS causes no redirect; "Forwarded:
proto=http;host=evil.example" and X-Forwarded-Host over HTTP redirect to the allowed host only;
the access log names the client the proxy saw; a request refused by the default rate limit
("30 per minute" per client here) is counted in /metrics under its route pattern, and no request
of the test under "unmatched".`)
	st := startStack(t, false, map[string]string{
		"APP_ENV": "production", "ALLOWED_HOSTS": allowedHost, "TRUSTED_PROXIES": "127.0.0.1",
		"HEALTH_DETAIL_CIDRS": "127.0.0.1", "LOG_LEVEL": "info", "RATELIMIT_DEFAULT": "30 per minute",
		"METRICS_TOKEN": metricsToken,
	})
	proxy := startNginxLikeProxy(t, st.nexus.URL)
	viaProxy := newAPI(proxy.URL)
	t.Cleanup(viaProxy.close)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const client = "203.0.113.7"
	from := func(scheme string, hdr ...string) []string {
		return append([]string{"Host", allowedHost, peerHeader, client, schemeHeader, scheme}, hdr...)
	}
	check := func(name string, ok bool, got string) {
		verdict := "as claimed"
		if !ok {
			verdict = "NOT as claimed"
			t.Errorf("%s: %s", name, got)
		}
		sec.Addf(name, "%s (%s)", got, verdict)
	}

	// Login, "5 per minute" per client: production has no demo users, every attempt is a
	// wrong password until the limit answers.
	var statuses []int
	for i := range 8 {
		r := viaProxy.call(ctx, "POST", "/api/auth/login", "", "", `{"email":"eleve@nexus-reussite.com","password":"wrong-password"}`,
			from("https", "Forwarded", fmt.Sprintf("for=198.51.100.%d", i+1), "X-Real-IP", fmt.Sprintf("198.51.100.%d", i+1))...)
		statuses = append(statuses, r.status)
	}
	check("Rotating Forwarded: for= on login (8 attempts)", fmt.Sprint(statuses) == "[401 401 401 401 401 429 429 429]", fmt.Sprint(statuses))

	health := func(a *api, hdr ...string) (int, bool) {
		r := a.call(ctx, "GET", "/health", "", "", nil, hdr...)
		var body map[string]any
		_ = json.Unmarshal(r.body, &body)
		_, details := body["checks"]
		return r.status, details
	}
	status, details := health(viaProxy, from("https", "Forwarded", "for=127.0.0.1", "X-Real-IP", "127.0.0.1")...)
	check("/health with Forwarded: for=127.0.0.1", status == http.StatusOK && !details, fmt.Sprintf("%d, details shown: %v", status, details))
	status, details = health(st.api)
	check("/health from the host itself (control)", status == http.StatusOK && details, fmt.Sprintf("%d, details shown: %v", status, details))

	r := viaProxy.call(ctx, "GET", "/api/formulas", "", "", nil, from("https", "Forwarded", "proto=http")...)
	check("Forwarded: proto=http over HTTPS", r.status == http.StatusOK && r.header.Get("Strict-Transport-Security") != "",
		fmt.Sprintf("%d, HSTS %q", r.status, r.header.Get("Strict-Transport-Security")))
	for _, c := range []struct{ name, header, value string }{
		{"Forwarded: proto=http;host=evil.example over HTTP", "Forwarded", "proto=http;host=evil.example"},
		{"X-Forwarded-Host: evil.example over HTTP", "X-Forwarded-Host", "evil.example"},
	} {
		r := viaProxy.call(ctx, "GET", "/api/formulas", "", "", nil, from("http", c.header, c.value)...)
		loc := r.header.Get("Location")
		check(c.name, r.status == http.StatusPermanentRedirect && loc == "https://"+allowedHost+"/api/formulas", fmt.Sprintf("%d to %q", r.status, loc))
	}

	viaProxy.call(ctx, "GET", "/api/config", "", "", nil, from("https", "Forwarded", "for=192.0.2.66", "X-Real-IP", "192.0.2.66", "X-Request-ID", "forged-client-ip")...)
	var logged string
	_, found := pollUntil(5*time.Second, func() bool {
		for _, l := range st.nexus.logs.Lines(`"request_id":"forged-client-ip"`) {
			var line struct {
				Msg      string `json:"msg"`
				ClientIP string `json:"client_ip"`
			}
			if json.Unmarshal([]byte(l), &line) == nil && line.Msg == "http request" {
				logged = line.ClientIP
				return true
			}
		}
		return false
	})
	check("Access log client_ip with Forwarded: for=192.0.2.66", found && logged == client, fmt.Sprintf("%q", logged))

	// The default limit answers before the routes run; the Observer still names the route.
	var refusedAt int
	for i := 1; i <= 40 && refusedAt == 0; i++ {
		r := viaProxy.call(ctx, "GET", "/api/formulas/1", "", "", nil, "Host", allowedHost, peerHeader, "203.0.113.99", schemeHeader, "https")
		if r.status == http.StatusTooManyRequests {
			refusedAt = i
		}
	}
	metrics := st.api.must(t, http.StatusOK, "GET", "/metrics", "", metricsToken, nil).body
	counted := strings.Contains(string(metrics), `harden_http_requests_total{code="4xx",method="GET",route="GET /api/formulas/{id}"} 1`+"\n")
	unmatched := strings.Contains(string(metrics), `route="unmatched"`)
	check("429 of the default limit in /metrics", refusedAt == 31 && counted && !unmatched,
		fmt.Sprintf("refused at request %d; counted under GET /api/formulas/{id}: %v; any request counted as unmatched: %v", refusedAt, counted, unmatched))
}
