package security

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDefaultHeadersOverHTTPS(t *testing.T) {
	s := mustNew(t, Config{})
	rec := serve(s.Handler(&okHandler{}), newReq(http.MethodGet, "https://api.example.com/x", nil, withTLS()))
	require.Equal(t, http.StatusOK, rec.Code)
	h := rec.Header()
	want := map[string]string{
		"Strict-Transport-Security":    "max-age=31536000; includeSubDomains",
		"Referrer-Policy":              "strict-origin-when-cross-origin",
		"Permissions-Policy":           "camera=(), geolocation=(), microphone=()",
		"X-Content-Type-Options":       "nosniff",
		"X-Frame-Options":              "DENY",
		"Cross-Origin-Opener-Policy":   "same-origin",
		"Cross-Origin-Resource-Policy": "same-origin",
	}
	for k, v := range want {
		assert.Equal(t, []string{v}, h.Values(k), k)
	}
	// okHandler never asks for a nonce: the policy goes without one.
	assert.Equal(t, "default-src 'none'; base-uri 'none'; connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; img-src 'self'; manifest-src 'self'; script-src 'self'; style-src 'self'",
		h.Get("Content-Security-Policy"))
	for _, absent := range []string{"Cross-Origin-Embedder-Policy", "X-Xss-Protection", "Content-Security-Policy-Report-Only",
		"Reporting-Endpoints", "Access-Control-Allow-Origin", "Vary"} {
		assert.Empty(t, h.Values(absent), absent)
	}
}

func TestHSTSOnlyOverHTTPS(t *testing.T) {
	s := mustNew(t, Config{ExemptPaths: []string{"/live"}})
	rec := serve(s.Handler(&okHandler{}), newReq(http.MethodGet, "http://api.example.com/live", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Empty(t, rec.Header().Get("Strict-Transport-Security"))
	assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
}

func TestHSTSOptions(t *testing.T) {
	for _, tc := range []struct {
		hsts HSTS
		want string
	}{
		{HSTS{Preload: true}, "max-age=31536000; includeSubDomains; preload"},
		{HSTS{ExcludeSubdomains: true, MaxAge: 24 * time.Hour}, "max-age=86400"},
		{HSTS{MaxAge: -1}, ""},
	} {
		s := mustNew(t, Config{HSTS: tc.hsts})
		rec := serve(s.Handler(&okHandler{}), newReq(http.MethodGet, "https://a.example/", nil, withTLS()))
		assert.Equal(t, tc.want, rec.Header().Get("Strict-Transport-Security"))
	}
}

func TestDevelopmentProfile(t *testing.T) {
	s := mustNew(t, Config{Profile: Development, AllowedHosts: []string{"api.example.com"}})
	for _, host := range []string{"localhost:5000", "127.0.0.1:5000", "[::1]:5000", "api.example.com"} {
		rec := serve(s.Handler(&okHandler{}), newReq(http.MethodGet, "http://x/", nil, withHost(host)))
		require.Equal(t, http.StatusOK, rec.Code, host)
		assert.Empty(t, rec.Header().Get("Strict-Transport-Security"))
		assert.NotEmpty(t, rec.Header().Get("Content-Security-Policy"))
	}
	rec := serve(s.Handler(&okHandler{}), newReq(http.MethodGet, "https://x/", nil, withHost("api.example.com"), withTLS()))
	assert.Empty(t, rec.Header().Get("Strict-Transport-Security"), "no HSTS in development even over TLS")
	rec = serve(s.Handler(&okHandler{}), newReq(http.MethodGet, "http://x/", nil, withHost("evil.example")))
	isProblem(t, rec, http.StatusBadRequest)
}

func TestCustomHeaders(t *testing.T) {
	s := mustNew(t, Config{Headers: Headers{
		ReferrerPolicy:            "no-referrer",
		PermissionsPolicy:         "geolocation=(self)",
		FrameOptions:              Omit,
		CrossOriginOpenerPolicy:   Omit,
		CrossOriginResourcePolicy: "same-site",
		CrossOriginEmbedderPolicy: "require-corp",
	}})
	h := serve(s.Handler(&okHandler{}), newReq(http.MethodGet, "https://a.example/", nil, withTLS())).Header()
	assert.Equal(t, "no-referrer", h.Get("Referrer-Policy"))
	assert.Equal(t, "geolocation=(self)", h.Get("Permissions-Policy"))
	assert.Empty(t, h.Values("X-Frame-Options"))
	assert.Empty(t, h.Values("Cross-Origin-Opener-Policy"))
	assert.Equal(t, "same-site", h.Get("Cross-Origin-Resource-Policy"))
	assert.Equal(t, "require-corp", h.Get("Cross-Origin-Embedder-Policy"))
}

func TestHandlerMayOverrideHeaders(t *testing.T) {
	s := mustNew(t, Config{})
	h := s.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Frame-Options", "SAMEORIGIN")
		w.Header().Add("Referrer-Policy", "no-referrer")
	}))
	rec := serve(h, newReq(http.MethodGet, "https://a.example/", nil, withTLS()))
	assert.Equal(t, []string{"SAMEORIGIN"}, rec.Header().Values("X-Frame-Options"))
	assert.Equal(t, []string{"no-referrer"}, rec.Header().Values("Referrer-Policy"), "the handler's value alone")
	assert.Equal(t, "same-origin", rec.Header().Get("Cross-Origin-Opener-Policy"), "the others are added")
	rec = serve(s.Handler(&okHandler{}), newReq(http.MethodGet, "https://a.example/", nil, withTLS()))
	assert.Equal(t, []string{"strict-origin-when-cross-origin"}, rec.Header().Values("Referrer-Policy"))
}

// The headers that govern only documents are added as the header is written, so a
// handler replaces one by setting its own value; deleting it beforehand does nothing.
func TestDocumentHeadersAddedWhenTheHeaderIsWritten(t *testing.T) {
	s := mustNew(t, Config{})
	var before []string
	h := s.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		before = w.Header().Values("Permissions-Policy")
		w.Header().Del("X-Frame-Options")
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<p>hi</p>"))
	}))
	rec := serve(h, newReq(http.MethodGet, "https://a.example/", nil, withTLS()))
	assert.Empty(t, before)
	assert.Equal(t, "DENY", rec.Header().Get("X-Frame-Options"))
	assert.Equal(t, "camera=(), geolocation=(), microphone=()", rec.Header().Get("Permissions-Policy"))

	// A handler that writes nothing answers an empty 200 after it returns: no type, so
	// every header.
	rec = serve(s.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})), newReq(http.MethodGet, "https://a.example/", nil, withTLS()))
	for k, v := range documentOnly {
		assert.Equal(t, v, rec.Header().Get(k), k)
	}
}

func TestHeaderValuesNotSharedBetweenRequests(t *testing.T) {
	s := mustNew(t, Config{CORS: CORS{Origins: []string{"https://app.example.com"}, AllowCredentials: true}})
	h := s.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, k := range []string{"X-Content-Type-Options", "Access-Control-Allow-Credentials", "Vary", "Strict-Transport-Security"} {
			w.Header()[k][0] = "tampered"
		}
	}))
	req := func() *http.Request {
		return newReq(http.MethodGet, "https://a.example/", nil, withTLS(), withHeader("Origin", "https://app.example.com"))
	}
	serve(h, req())
	rec := serve(s.Handler(&okHandler{}), req())
	assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
	assert.Equal(t, "true", rec.Header().Get("Access-Control-Allow-Credentials"))
	assert.Equal(t, "Origin", rec.Header().Get("Vary"))
	assert.Equal(t, "max-age=31536000; includeSubDomains", rec.Header().Get("Strict-Transport-Security"))
}

// No header value the middleware sets is shared with another response: an outer
// middleware that writes every value of one response in place, after the middleware
// returned, leaves the next response of each kind (served, redirected, refused,
// preflight, per-route CSP) unaffected.
func TestHeaderValuesWrittenInPlaceByAnOuterMiddleware(t *testing.T) {
	s := mustNew(t, Config{AllowedHosts: []string{"a.example"}, CSP: CSPConfig{ReportURI: "/csp"},
		CORS: CORS{Origins: []string{"https://app.example.com"}, AllowCredentials: true, ExposeHeaders: []string{"X-Total"}}})
	widget, err := s.WithCSP(APICSP(), &okHandler{})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/widget", widget)
	mux.Handle("/", &okHandler{})
	inner := s.Handler(mux)
	tamper := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inner.ServeHTTP(w, r)
		for _, v := range w.Header() {
			for i := range v {
				v[i] = "tampered"
			}
		}
	})
	cors := func(r *http.Request) *http.Request {
		r.Header.Set("Origin", "https://app.example.com")
		return r
	}
	for name, req := range map[string]func() *http.Request{
		"served":   func() *http.Request { return cors(newReq(http.MethodGet, "https://a.example/", nil, withTLS())) },
		"widget":   func() *http.Request { return newReq(http.MethodGet, "https://a.example/widget", nil, withTLS()) },
		"redirect": func() *http.Request { return newReq(http.MethodGet, "http://a.example/x", nil) },
		"bad host": func() *http.Request { return newReq(http.MethodGet, "https://evil.example/", nil, withTLS()) },
		"csrf": func() *http.Request {
			return newReq(http.MethodPost, "https://a.example/", nil, withTLS(), withHeader("Sec-Fetch-Site", "cross-site"))
		},
		"preflight": func() *http.Request {
			return cors(newReq(http.MethodOptions, "https://a.example/", nil, withTLS(), withHeader("Access-Control-Request-Method", "PUT")))
		},
	} {
		t.Run(name, func(t *testing.T) {
			want := serve(inner, req()).Header()
			require.NotEmpty(t, want)
			serve(tamper, req())
			got := serve(inner, req()).Header()
			for k := range want {
				if k == "Content-Security-Policy" {
					continue // carries a fresh nonce
				}
				assert.Equal(t, want[k], got[k], k)
			}
			for k, v := range got {
				assert.NotContains(t, v, "tampered", k)
			}
		})
	}
}
