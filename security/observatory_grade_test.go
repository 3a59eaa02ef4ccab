package security

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/unrolled/secure"
)

// site serves handler on a plain and a TLS listener, the way the Observatory reaches a
// host on ports 80 and 443.
type site struct {
	plain, tls *httptest.Server
}

func startSite(t *testing.T, build func(httpsPort int) http.Handler) *site {
	t.Helper()
	s := &site{tls: httptest.NewUnstartedServer(nil), plain: httptest.NewUnstartedServer(nil)}
	s.tls.StartTLS()
	_, port, err := net.SplitHostPort(s.tls.Listener.Addr().String())
	require.NoError(t, err)
	p, _ := strconv.Atoi(port)
	h := build(p)
	s.tls.Config.Handler = h
	s.plain.Config.Handler = h
	s.plain.Start()
	t.Cleanup(s.plain.Close)
	t.Cleanup(s.tls.Close)
	return s
}

func (s *site) scan(t *testing.T, path string) obsScan {
	t.Helper()
	in, err := retrieve(s.tls.Client(), s.plain.URL+path, s.tls.URL+path)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, in.auto.StatusCode)
	return grade(in)
}

// app is a small application: an HTML page with a nonce'd inline script, a same-origin
// script and a session cookie, and a JSON API.
func app() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /page", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "s3cr3t", Path: "/"})
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = fmt.Fprintf(w, `<!doctype html><html><head><title>Nexus</title>
<link rel="stylesheet" href="/app.css"><script src="/app.js" defer></script>
<script nonce="%s">window.boot = true;</script></head><body><h1>Nexus Réussite</h1></body></html>`, Nonce(r.Context()))
	})
	mux.HandleFunc("GET /api/items", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"items":[]}`)
	})
	return mux
}

func TestObservatoryGradesDefaultProductionAPlus(t *testing.T) {
	st := startSite(t, func(httpsPort int) http.Handler {
		return mustNew(t, Config{AllowedHosts: []string{"127.0.0.1"}, HTTPSPort: httpsPort}).Handler(app())
	})
	for path, wantSRI := range map[string]string{
		"/page":      "sri-not-implemented-but-all-scripts-loaded-from-secure-origin",
		"/api/items": "sri-not-implemented-response-not-html",
	} {
		t.Run(path, func(t *testing.T) {
			scan := st.scan(t, path)
			for name, tr := range scan.Tests {
				t.Logf("%-30s %-62s %+d", name, tr.Result, tr.Modifier)
			}
			assert.Equal(t, "A+", scan.Grade)
			assert.GreaterOrEqual(t, scan.Score, 100)
			assert.Equal(t, "csp-implemented-with-no-unsafe-default-src-none", scan.Tests["content-security-policy"].Result, "full CSP marks")
			assert.Equal(t, "redirection-to-https", scan.Tests["redirection"].Result)
			assert.Equal(t, "hsts-implemented-max-age-at-least-six-months", scan.Tests["strict-transport-security"].Result)
			assert.Equal(t, "x-frame-options-implemented-via-csp", scan.Tests["x-frame-options"].Result)
			assert.Equal(t, "corp-implemented-with-same-origin", scan.Tests["cross-origin-resource-policy"].Result)
			assert.Equal(t, "cross-origin-resource-sharing-not-implemented", scan.Tests["cross-origin-resource-sharing"].Result)
			assert.Equal(t, wantSRI, scan.Tests["subresource-integrity"].Result)
			if path == "/page" {
				assert.Equal(t, "cookies-secure-with-httponly-sessions-and-samesite", scan.Tests["cookies"].Result)
				assert.Equal(t, "referrer-policy-private", scan.Tests["referrer-policy"].Result)
				assert.Equal(t, 135, scan.Score)
			} else {
				// JSON makes no requests, so its response carries no Referrer-Policy; the
				// Observatory awards that header 5 points, not a penalty when it is absent.
				assert.Equal(t, "cookies-not-found", scan.Tests["cookies"].Result)
				assert.Equal(t, "referrer-policy-not-implemented", scan.Tests["referrer-policy"].Result)
				assert.Zero(t, scan.Tests["referrer-policy"].Modifier)
				assert.Equal(t, 125, scan.Score)
			}
		})
	}
}

func TestObservatoryGradesCORSWithCredentials(t *testing.T) {
	// Credentialed CORS for a listed front end does not reflect arbitrary origins, so
	// the Observatory's probe origin gets nothing and the grade holds.
	st := startSite(t, func(p int) http.Handler {
		return mustNew(t, Config{AllowedHosts: []string{"127.0.0.1"}, HTTPSPort: p,
			CORS: CORS{Origins: []string{"https://app.example.com"}, AllowCredentials: true}}).Handler(app())
	})
	scan := st.scan(t, "/api/items")
	assert.Equal(t, "cross-origin-resource-sharing-not-implemented", scan.Tests["cross-origin-resource-sharing"].Result)
	assert.Equal(t, "A+", scan.Grade)
}

// The grader must be able to fail: the same application without protection, with
// unrolled/secure's zero options, and with a reflecting CORS setup.
func TestObservatoryGraderFailsUnprotectedSites(t *testing.T) {
	bare := startSite(t, func(int) http.Handler { return app() })
	scan := bare.scan(t, "/page")
	assert.Equal(t, "F", scan.Grade)
	// csp -25, cookies -20 (no Secure, no HSTS) -30 session no HttpOnly -40 session no
	// Secure: worst wins (-40), redirect -20, hsts -20, xcto -5, xfo -20.
	assert.Equal(t, "cookies-session-without-secure-flag", scan.Tests["cookies"].Result)
	assert.Equal(t, 0, scan.Score)
	scan = bare.scan(t, "/api/items")
	assert.Equal(t, 10, scan.Score, "100 -25 -20 -20 -5 -20")

	zero := startSite(t, func(int) http.Handler { return secure.New().Handler(app()) })
	assert.Equal(t, 10, zero.scan(t, "/api/items").Score)

	reflect := startSite(t, func(int) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
			w.Header().Set("Access-Control-Allow-Credentials", "true")
			app().ServeHTTP(w, r)
		})
	})
	assert.Equal(t, "cross-origin-resource-sharing-implemented-with-universal-access",
		reflect.scan(t, "/api/items").Tests["cross-origin-resource-sharing"].Result)
}

func TestObservatoryCSPCases(t *testing.T) {
	for policy, want := range map[string]string{
		"default-src 'none'": "csp-implemented-with-no-unsafe-default-src-none",
		"default-src 'self'": "csp-implemented-with-no-unsafe",
		"script-src 'self'":  "csp-implemented-with-unsafe-inline", // object-src unrestricted
		"default-src 'self'; script-src 'nonce-abc' 'unsafe-inline'":       "csp-implemented-with-no-unsafe",
		"default-src 'self'; script-src 'strict-dynamic'":                  "csp-header-invalid",
		"default-src 'self'; script-src 'nonce-a' 'strict-dynamic' https:": "csp-implemented-with-no-unsafe",
		"default-src 'self'; style-src 'unsafe-inline'":                    "csp-implemented-with-unsafe-inline-in-style-src-only",
		"default-src 'self'; script-src 'self' 'unsafe-eval'":              "csp-implemented-with-unsafe-eval",
		"default-src https:":                               "csp-implemented-with-unsafe-inline",
		"default-src 'self'; script-src data:":             "csp-implemented-with-unsafe-inline",
		"default-src 'self'; img-src http:":                "csp-implemented-with-insecure-scheme-in-passive-content-only",
		"default-src 'self' http://cdn.example":            "csp-implemented-with-insecure-scheme",
		"default-src 'self'; default-src 'none'":           "csp-header-invalid",
		"default-src 'self'; report-uri /a; report-uri /b": "csp-implemented-but-duplicate-directives",
		"x": "csp-header-invalid",
	} {
		in := &obsInput{auto: &http.Response{Header: http.Header{"Content-Security-Policy": {policy}}}, https: true}
		got, _ := obsCSP(in)
		assert.Equal(t, want, got, policy)
	}
	in := &obsInput{auto: &http.Response{Header: http.Header{"Content-Security-Policy-Report-Only": {"default-src 'none'"}}}}
	got, _ := obsCSP(in)
	assert.Equal(t, "csp-not-implemented-but-reporting-enabled", got)
}

func TestObservatoryHeaderCases(t *testing.T) {
	h := func(kv ...string) *obsInput {
		hd := http.Header{}
		for i := 0; i+1 < len(kv); i += 2 {
			hd.Add(kv[i], kv[i+1])
		}
		return &obsInput{auto: &http.Response{Header: hd}, https: true}
	}
	assert.Equal(t, "hsts-implemented-max-age-less-than-six-months", obsHSTS(h("Strict-Transport-Security", "max-age=86400")))
	assert.Equal(t, "hsts-header-invalid", obsHSTS(h("Strict-Transport-Security", "max-age=1, max-age=2")))
	assert.Equal(t, "hsts-header-invalid", obsHSTS(h("Strict-Transport-Security", "includeSubDomains")))
	assert.Equal(t, "referrer-policy-unsafe", obsReferrer(h("Referrer-Policy", "no-referrer, unsafe-url")))
	assert.Equal(t, "referrer-policy-header-invalid", obsReferrer(h("Referrer-Policy", "bogus")))
	assert.Equal(t, "x-content-type-options-header-invalid", obsXCTO(h("X-Content-Type-Options", "sniff")))
	assert.Equal(t, "x-frame-options-header-invalid", obsXFO(h("X-Frame-Options", "maybe"), nil))
	assert.Equal(t, "corp-header-invalid", obsCORP(h("Cross-Origin-Resource-Policy", "everyone")))
	assert.Equal(t, "cookies-samesite-flag-invalid", obsCookies(h("Set-Cookie", "a=1; Secure; SameSite=Maybe", "Strict-Transport-Security", "max-age=31536000")))
	assert.Equal(t, "cookies-without-secure-flag-but-protected-by-hsts", obsCookies(h("Set-Cookie", "a=1; SameSite=Lax", "Strict-Transport-Security", "max-age=31536000")))
	assert.Equal(t, "cookies-session-without-httponly-flag", obsCookies(h("Set-Cookie", "sessionid=1; Secure; SameSite=Lax")))
	assert.Equal(t, "cookies-anticsrf-without-samesite-flag", obsCookies(h("Set-Cookie", "csrftoken=1; Secure")))
	assert.Equal(t, "cookies-secure-with-httponly-sessions", obsCookies(h("Set-Cookie", "theme=1; Secure")))
	assert.Equal(t, "F", obsGrade(0))
	assert.Equal(t, "A+", obsGrade(135))
	assert.Equal(t, "A-", obsGrade(89))
	assert.Equal(t, "B", obsGrade(70))
}
