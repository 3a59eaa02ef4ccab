package security

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The headers that govern only documents, and the value the zero Config gives each.
var documentOnly = map[string]string{
	"Permissions-Policy":         "camera=(), geolocation=(), microphone=()",
	"Cross-Origin-Opener-Policy": "same-origin",
	"X-Frame-Options":            "DENY",
	"Referrer-Policy":            "strict-origin-when-cross-origin",
}

// respond answers with status and Content-Type ct (none when empty) through s.
func respond(s *Security, status int, ct string, edit func(http.Header)) http.Header {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ct != "" {
			w.Header().Set("Content-Type", ct)
		}
		if edit != nil {
			edit(w.Header())
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte("x"))
	})
	return serve(s.Handler(h), newReq(http.MethodGet, "https://api.example.com/x", nil, withTLS())).Header()
}

// A response no browser renders as a document carries the headers that protect it, and
// none of those that govern only documents.
func TestDocumentHeadersLeftOffOtherResponses(t *testing.T) {
	s := mustNew(t, Config{})
	for _, ct := range []string{"application/json", "application/problem+json; charset=utf-8", "image/png", "font/woff2"} {
		h := respond(s, http.StatusOK, ct, nil)
		for k := range documentOnly {
			assert.NotContains(t, h, k, "%s on %s", k, ct)
		}
		assert.Equal(t, "nosniff", h.Get("X-Content-Type-Options"), ct)
		assert.Equal(t, "same-origin", h.Get("Cross-Origin-Resource-Policy"), ct)
		assert.Equal(t, "max-age=31536000; includeSubDomains", h.Get("Strict-Transport-Security"), ct)
		assert.Equal(t, apiPolicy, h.Get("Content-Security-Policy"), ct)
	}
}

// Documents, scripts (a worker takes its policies from its script's response) and
// responses whose type net/http will sniff keep every header.
func TestDocumentsKeepEveryHeader(t *testing.T) {
	s := mustNew(t, Config{})
	for _, ct := range []string{"text/html; charset=utf-8", "image/svg+xml", "application/pdf", "text/javascript", "application/atom+xml", ""} {
		h := respond(s, http.StatusOK, ct, nil)
		for k, v := range documentOnly {
			assert.Equal(t, v, h.Get(k), "%s on %q", k, ct)
		}
	}
}

// Referrer-Policy governs the requests a stylesheet makes and the request that follows
// a redirect, so it stays on both.
func TestReferrerPolicyKeptWhereItGovernsRequests(t *testing.T) {
	s := mustNew(t, Config{Headers: Headers{ReferrerPolicy: "no-referrer"}})
	h := respond(s, http.StatusOK, "text/css; charset=utf-8", nil)
	assert.Equal(t, "no-referrer", h.Get("Referrer-Policy"))
	assert.NotContains(t, h, "Permissions-Policy")

	for _, code := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		h = respond(s, code, "application/json", func(h http.Header) { h.Set("Location", "/next") })
		assert.Equal(t, "no-referrer", h.Get("Referrer-Policy"), code)
	}
	h = respond(s, http.StatusNotFound, "application/problem+json", nil)
	assert.NotContains(t, h, "Referrer-Policy")

	// The middleware's own HTTPS redirect too.
	s = mustNew(t, Config{AllowedHosts: []string{"api.example.com"}, Headers: Headers{ReferrerPolicy: "no-referrer"}})
	rec := serve(s.Handler(typed("text/plain")), newReq(http.MethodGet, "http://api.example.com/x", nil))
	assert.Equal(t, http.StatusPermanentRedirect, rec.Code)
	assert.Equal(t, "no-referrer", rec.Header().Get("Referrer-Policy"))
}

// X-Frame-Options goes only where an enforced policy of the response forbids framing.
func TestFrameOptionsKeptWithoutEnforcedFrameAncestors(t *testing.T) {
	for name, tc := range map[string]struct {
		cfg  Config
		edit func(http.Header)
		keep bool
	}{
		"default policy":                   {cfg: Config{}},
		"chosen policy with the directive": {cfg: Config{CSP: CSPConfig{Policy: CSP{"default-src": {"'self'"}, "frame-ancestors": {"'self'"}}}}},
		"chosen policy without it":         {cfg: Config{CSP: CSPConfig{Policy: CSP{"default-src": {"'self'"}}}}, keep: true},
		"report-only policy":               {cfg: Config{CSP: CSPConfig{ReportOnly: true}}, keep: true},
		"no policy":                        {cfg: Config{CSP: CSPConfig{Disable: true}}, keep: true},
		"handler's policy without it": {cfg: Config{}, keep: true, edit: func(h http.Header) {
			h.Set("Content-Security-Policy", "default-src 'none'")
		}},
		"handler's policy with it, in capitals, after a tab": {cfg: Config{}, edit: func(h http.Header) {
			h.Set("Content-Security-Policy", "default-src 'none';FRAME-ANCESTORS\t'none'")
		}},
		"report-only policy, enforced by the handler in the same words": {cfg: Config{CSP: CSPConfig{ReportOnly: true}}, edit: func(h http.Header) {
			h.Set("Content-Security-Policy", mustCompile(t, APICSP()).static)
		}},
		"chosen policy without it, its text enforced with a second policy": {cfg: Config{CSP: CSPConfig{Policy: CSP{"default-src": {"'self'"}}}}, edit: func(h http.Header) {
			h.Add("Content-Security-Policy", "frame-ancestors 'self'")
		}},
	} {
		h := respond(mustNew(t, tc.cfg), http.StatusOK, "application/json", tc.edit)
		if tc.keep {
			assert.Equal(t, "DENY", h.Get("X-Frame-Options"), name)
		} else {
			assert.NotContains(t, h, "X-Frame-Options", name)
		}
	}
}

// A compiled policy knows whether it has frame-ancestors, which spares the fitting a scan
// of its text: the answer is the scanner's.
func TestPolicyKnowsItsFraming(t *testing.T) {
	for _, c := range []CSP{
		DefaultCSP(), APICSP(),
		{"default-src": {"'self'"}},
		{"default-src": {"'self'"}, "frame-ancestors": {"'self'"}},
		{"script-src": {NonceSource, "'strict-dynamic'"}, "frame-ancestors": {"'none'"}},
		{"frame-src": {"'none'"}, "child-src": {"'self'"}},
	} {
		p := mustCompile(t, c)
		assert.Equal(t, framingForbidden([]string{p.static}), p.framing, p.static)
	}
}

// A value the handler set is its own, even one equal to the default: fitting removes only
// what the middleware set.
func TestHandlerHeadersAreNotFitted(t *testing.T) {
	s := mustNew(t, Config{Headers: Headers{CrossOriginEmbedderPolicy: "require-corp"}})
	h := respond(s, http.StatusOK, "application/json", func(h http.Header) {
		h.Set("Permissions-Policy", "camera=(self)")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
	})
	assert.Equal(t, "camera=(self)", h.Get("Permissions-Policy"))
	assert.Equal(t, "no-referrer", h.Get("Referrer-Policy"))
	assert.Equal(t, "DENY", h.Get("X-Frame-Options"))
	assert.NotContains(t, h, "Cross-Origin-Embedder-Policy")
	assert.NotContains(t, h, "Cross-Origin-Opener-Policy")

	h = respond(s, http.StatusOK, "text/html", nil)
	assert.Equal(t, "require-corp", h.Get("Cross-Origin-Embedder-Policy"))
}
