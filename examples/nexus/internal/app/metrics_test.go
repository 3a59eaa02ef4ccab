package app

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// metricsToken is METRICS_TOKEN of the production test servers.
const metricsToken = "metrics-token-for-tests-0123456789"

// productionEnv is a valid production environment with extra settings.
func productionEnv(extra map[string]string) map[string]string {
	env := map[string]string{"APP_ENV": "production", "SECRET_KEY": goodSecret, "JWT_SECRET_KEY": goodJWTSecret, "ALLOWED_HOSTS": "api.nexus.tn"}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// TestMetricsTokenInProduction: with METRICS_TOKEN, /metrics answers 401 problem+json
// to any request without the token, whatever host or address it claims, and the metrics
// to the scraper sending it.
func TestMetricsTokenInProduction(t *testing.T) {
	s := newTestServer(t, sqliteBackend(t), productionEnv(map[string]string{"METRICS_TOKEN": metricsToken, "TRUSTED_PROXIES": "127.0.0.1"}))
	for _, tok := range []string{"", "wrong-token-of-the-same-size-0123", metricsToken[:len(metricsToken)-1], metricsToken + "x"} {
		for _, hdr := range [][]string{nil, {"Host", "api.nexus.tn", "X-Forwarded-Proto", "https"}, {"X-Forwarded-For", "127.0.0.1"}} {
			r := s.expect(http.StatusUnauthorized, "GET", "/metrics", tok, nil, hdr...)
			if r.header.Get("WWW-Authenticate") != `Bearer realm="metrics"` || strings.Contains(string(r.body), "go_goroutines") {
				t.Fatalf("token %q, headers %v: %v %s", tok, hdr, r.header, r.body)
			}
		}
	}
	r := s.expect(http.StatusOK, "GET", "/metrics", metricsToken, nil)
	if !strings.Contains(string(r.body), "go_goroutines") || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("metrics: %v %.200s", r.header, r.body)
	}
	// The other probes stay open to the orchestrator.
	s.expect(http.StatusOK, "GET", "/live", "", nil)
	s.expect(http.StatusOK, "GET", "/ready", "", nil)
}

// TestMetricsAddrInProduction: with METRICS_ADDR the API's listener answers /metrics 404
// and the metrics listener serves them, behind METRICS_TOKEN when it is set too.
func TestMetricsAddrInProduction(t *testing.T) {
	for _, withToken := range []bool{false, true} {
		env := map[string]string{"METRICS_ADDR": "127.0.0.1:9090"}
		if withToken {
			env["METRICS_TOKEN"] = metricsToken
		}
		env["TRUSTED_PROXIES"] = "127.0.0.1"
		s := newTestServer(t, sqliteBackend(t), productionEnv(env))
		viaIngress := []string{"Host", "api.nexus.tn", "X-Forwarded-Proto", "https"}
		s.expect(http.StatusNotFound, "GET", "/metrics", "", nil, viaIngress...)
		s.expect(http.StatusNotFound, "GET", "/metrics", metricsToken, nil, viaIngress...)

		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.app.ServeMetrics(ctx, ln) }()
		get := func(tok string) (int, string) {
			req, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+"/metrics", nil)
			if tok != "" {
				req.Header.Set("Authorization", "Bearer "+tok)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(body)
		}
		code, body := get("")
		if withToken && code != http.StatusUnauthorized || !withToken && (code != http.StatusOK || !strings.Contains(body, "go_goroutines")) {
			t.Fatalf("token %v, no token sent: %d %.200s", withToken, code, body)
		}
		if code, body = get(metricsToken); code != http.StatusOK || !strings.Contains(body, "harden_http_requests_total") {
			t.Fatalf("token %v, token sent: %d %.200s", withToken, code, body)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("metrics server: %v", err)
		}
	}
}
