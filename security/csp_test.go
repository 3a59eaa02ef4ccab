package security

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNonceInContextMatchesHeader(t *testing.T) {
	s := mustNew(t, Config{})
	var nonces []string
	h := s.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := Nonce(r.Context())
		nonces = append(nonces, n)
		_, _ = w.Write([]byte(`<script nonce="` + n + `"></script>`))
	}))
	seen := map[string]bool{}
	for range 50 {
		rec := serve(h, newReq(http.MethodGet, "https://a.example/", nil, withTLS()))
		n := nonces[len(nonces)-1]
		require.Len(t, n, 24)
		assert.False(t, seen[n], "nonce reused")
		seen[n] = true
		csp := rec.Header().Get("Content-Security-Policy")
		assert.Equal(t, 2, strings.Count(csp, "'nonce-"+n+"'"), csp)
	}
	assert.Empty(t, Nonce(newReq(http.MethodGet, "/", nil).Context()), "no middleware, no nonce")
}

func TestCSPWithoutNonce(t *testing.T) {
	s := mustNew(t, Config{CSP: CSPConfig{Policy: APICSP()}})
	var n string
	h := s.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { n = Nonce(r.Context()) }))
	rec := serve(h, newReq(http.MethodGet, "https://a.example/", nil, withTLS()))
	assert.Equal(t, "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'", rec.Header().Get("Content-Security-Policy"))
	assert.Empty(t, n)
}

func TestCSPReportOnlyAndReporting(t *testing.T) {
	s := mustNew(t, Config{CSP: CSPConfig{Policy: APICSP(), ReportOnly: true, ReportURI: "/csp-report"}})
	rec := serve(s.Handler(&okHandler{}), newReq(http.MethodGet, "https://a.example/", nil, withTLS()))
	assert.Empty(t, rec.Header().Values("Content-Security-Policy"))
	assert.Equal(t, "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; report-to csp; report-uri /csp-report",
		rec.Header().Get("Content-Security-Policy-Report-Only"))
	assert.Equal(t, `csp="/csp-report"`, rec.Header().Get("Reporting-Endpoints"))
}

func TestCSPDisabled(t *testing.T) {
	s := mustNew(t, Config{CSP: CSPConfig{Disable: true}})
	rec := serve(s.Handler(&okHandler{}), newReq(http.MethodGet, "https://a.example/", nil, withTLS()))
	assert.Empty(t, rec.Header().Values("Content-Security-Policy"))
	assert.Equal(t, "DENY", rec.Header().Get("X-Frame-Options"))
}

func TestWithCSPPerRoute(t *testing.T) {
	s := mustNew(t, Config{CSP: CSPConfig{Policy: APICSP(), ReportURI: "https://r.example/csp"}})
	var nonce string
	widget, err := s.WithCSP(DefaultCSP().With("frame-ancestors", "https://partner.example"),
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { nonce = Nonce(r.Context()) }))
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/widget", widget)
	mux.Handle("/", &okHandler{})
	h := s.Handler(mux)

	rec := serve(h, newReq(http.MethodGet, "https://a.example/widget", nil, withTLS()))
	csp := rec.Header().Get("Content-Security-Policy")
	require.Len(t, nonce, 24, "override with a nonce source makes a nonce available")
	assert.Contains(t, csp, "frame-ancestors https://partner.example;")
	assert.Contains(t, csp, "script-src 'self' 'nonce-"+nonce+"'")
	assert.Contains(t, csp, "report-uri https://r.example/csp")
	assert.Len(t, rec.Header().Values("Content-Security-Policy"), 1)

	rec = serve(h, newReq(http.MethodGet, "https://a.example/other", nil, withTLS()))
	assert.Equal(t, "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; report-to csp; report-uri https://r.example/csp",
		rec.Header().Get("Content-Security-Policy"))

	_, err = s.WithCSP(CSP{"script-src": {"'self'; evil"}}, widget)
	assert.ErrorIs(t, err, ErrInvalidConfig)
}

func TestCSPBuilder(t *testing.T) {
	base := DefaultCSP()
	c := base.With("IMG-SRC", "'self'", "https://cdn.example").Without("manifest-src").With("upgrade-insecure-requests")
	assert.Equal(t, []string{"'self'"}, base["img-src"], "With copies")
	assert.Contains(t, base, "manifest-src", "Without copies")
	assert.Equal(t, "default-src 'none'; base-uri 'none'; connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; img-src 'self' https://cdn.example; script-src 'self' 'nonce'; style-src 'self' 'nonce'; upgrade-insecure-requests", c.String())
	require.NoError(t, c.Validate())
	p, err := c.compile()
	require.NoError(t, err)
	assert.True(t, p.usesNonce())
	assert.Equal(t, strings.ReplaceAll(c.String(), "'nonce'", "'nonce-abc'"), p.render("abc"))
	p, err = APICSP().compile()
	require.NoError(t, err)
	assert.False(t, p.usesNonce())
	assert.Equal(t, APICSP().String(), p.render("ignored"))
}

func TestCSPValidateErrors(t *testing.T) {
	for name, c := range map[string]CSP{
		"empty":                  {},
		"upper-case directive":   {"Script-Src": {"'self'"}},
		"directive with space":   {"script src": {"'self'"}},
		"semicolon injection":    {"script-src": {"'self';", "img-src"}},
		"comma injection":        {"script-src": {"a,b"}},
		"newline":                {"script-src": {"a\nb"}},
		"non-ascii":              {"script-src": {"https://exämple.com"}},
		"empty source":           {"script-src": {""}},
		"none with others":       {"script-src": {"'none'", "'self'"}},
		"empty fetch list":       {"img-src": {}},
		"frame-ancestors inline": {"frame-ancestors": {"'unsafe-inline'"}},
		"report-to two groups":   {"report-to": {"a", "b"}},
		"upgrade with value":     {"upgrade-insecure-requests": {"1"}},
	} {
		assert.ErrorIs(t, c.Validate(), ErrInvalidConfig, name)
		_, err := New(Config{CSP: CSPConfig{Policy: c}})
		assert.ErrorIs(t, err, ErrInvalidConfig, name)
	}
	_, err := New(Config{CSP: CSPConfig{ReportURI: "/r; script-src *"}})
	assert.ErrorIs(t, err, ErrInvalidConfig)
}
