package security

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCORSPreflightMatrix(t *testing.T) {
	s := mustNew(t, Config{CORS: CORS{
		Origins:          []string{"https://app.example.com", "https://*.example.org", "http://localhost:3000/"},
		AllowCredentials: true,
		ExposeHeaders:    []string{"X-Request-ID", "RateLimit-Remaining"},
	}})
	tests := []struct {
		origin, method, headers string
		ok                      bool
	}{
		{"https://app.example.com", "POST", "content-type", true},
		{"https://app.example.com", "DELETE", "Authorization, Content-Type", true},
		{"https://app.example.com", "PUT", "", true},
		{"https://a.example.org", "PATCH", "x-request-id", true},
		{"https://deep.a.example.org", "GET", "", true},
		{"http://localhost:3000", "POST", "content-type", true},
		{"https://example.org", "POST", "", false},                 // apex not covered by wildcard
		{"http://a.example.org", "POST", "", false},                // scheme must match
		{"https://a.example.org:8443", "POST", "", false},          // port must match
		{"https://evil.com", "POST", "", false},                    // not listed
		{"https://app.example.com.evil.com", "POST", "", false},    // suffix trick
		{"https://evilexample.org", "POST", "", false},             // label boundary
		{"null", "POST", "", false},                                // opaque origin
		{"https://app.example.com", "TRACE", "", false},            // method not allowed
		{"https://app.example.com", "POST", "x-secret", false},     // header not allowed
		{"https://app.example.com", "POST", "content-type,", true}, // empty entries tolerated
		{"HTTPS://APP.EXAMPLE.COM", "POST", "", false},             // browsers serialise lower-case
		{"https://a.example.org.", "POST", "", false},              // trailing dot is another origin
	}
	for _, tc := range tests {
		t.Run(tc.origin+" "+tc.method+" "+tc.headers, func(t *testing.T) {
			next := &okHandler{}
			opts := []reqOpt{withTLS(), withHeader("Origin", tc.origin), withHeader("Access-Control-Request-Method", tc.method)}
			if tc.headers != "" {
				opts = append(opts, withHeader("Access-Control-Request-Headers", tc.headers))
			}
			rec := serve(s.Handler(next), newReq(http.MethodOptions, "https://api.example.com/x", nil, opts...))
			assert.Nil(t, next.got, "preflight never reaches the handler")
			h := rec.Header()
			assert.Equal(t, "Origin, Access-Control-Request-Method, Access-Control-Request-Headers", h.Get("Vary"))
			if !tc.ok {
				isProblem(t, rec, http.StatusForbidden)
				assert.Empty(t, h.Values("Access-Control-Allow-Origin"))
				assert.Empty(t, h.Values("Access-Control-Allow-Credentials"))
				return
			}
			require.Equal(t, http.StatusNoContent, rec.Code)
			assert.Equal(t, tc.origin, h.Get("Access-Control-Allow-Origin"))
			assert.Equal(t, "true", h.Get("Access-Control-Allow-Credentials"))
			assert.Equal(t, "GET, HEAD, POST, PUT, PATCH, DELETE", h.Get("Access-Control-Allow-Methods"))
			assert.Equal(t, "Accept, Accept-Language, Authorization, Content-Language, Content-Type, X-Request-ID, X-Requested-With", h.Get("Access-Control-Allow-Headers"))
			assert.Equal(t, "3600", h.Get("Access-Control-Max-Age"))
		})
	}
}

func TestCORSActualRequests(t *testing.T) {
	s := mustNew(t, Config{CORS: CORS{
		Origins: []string{"https://app.example.com"}, AllowCredentials: true, ExposeHeaders: []string{"X-Request-ID"},
	}})
	rec := serve(s.Handler(&okHandler{}), newReq(http.MethodGet, "https://api.example.com/", nil, withTLS(), withHeader("Origin", "https://app.example.com")))
	h := rec.Header()
	assert.Equal(t, "https://app.example.com", h.Get("Access-Control-Allow-Origin"))
	assert.Equal(t, "true", h.Get("Access-Control-Allow-Credentials"))
	assert.Equal(t, "X-Request-ID", h.Get("Access-Control-Expose-Headers"))
	assert.Equal(t, "Origin", h.Get("Vary"))

	rec = serve(s.Handler(&okHandler{}), newReq(http.MethodGet, "https://api.example.com/", nil, withTLS(), withHeader("Origin", "https://evil.com")))
	assert.Equal(t, http.StatusOK, rec.Code, "simple GET still served; the browser hides it")
	assert.Empty(t, rec.Header().Values("Access-Control-Allow-Origin"))
	assert.Empty(t, rec.Header().Values("Access-Control-Allow-Credentials"))
	assert.Equal(t, "Origin", rec.Header().Get("Vary"))

	// A handler's own Vary is kept.
	rec = serve(s.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Accept-Encoding")
	})), newReq(http.MethodGet, "https://api.example.com/", nil, withTLS()))
	assert.Equal(t, []string{"Origin", "Accept-Encoding"}, rec.Header().Values("Vary"))
}

func TestCORSPublicStar(t *testing.T) {
	s := mustNew(t, Config{CORS: CORS{Origins: []string{"*"}, MaxAge: -1}})
	rec := serve(s.Handler(&okHandler{}), newReq(http.MethodOptions, "https://api.example.com/", nil, withTLS(),
		withHeader("Origin", "https://any.example"), withHeader("Access-Control-Request-Method", "GET")))
	require.Equal(t, http.StatusNoContent, rec.Code)
	assert.Equal(t, "*", rec.Header().Get("Access-Control-Allow-Origin"))
	assert.Empty(t, rec.Header().Values("Access-Control-Allow-Credentials"))
	assert.Empty(t, rec.Header().Values("Access-Control-Max-Age"))
}

func TestCORSOptions(t *testing.T) {
	s := mustNew(t, Config{CORS: CORS{Origins: []string{"https://app.example.com"}, Methods: []string{"GET", "POST"},
		Headers: []string{"X-Custom"}, MaxAge: 10 * time.Minute}})
	rec := serve(s.Handler(&okHandler{}), newReq(http.MethodOptions, "https://api.example.com/", nil, withTLS(),
		withHeader("Origin", "https://app.example.com"), withHeader("Access-Control-Request-Method", "POST"),
		withHeader("Access-Control-Request-Headers", "x-custom")))
	require.Equal(t, http.StatusNoContent, rec.Code)
	assert.Equal(t, "GET, POST", rec.Header().Get("Access-Control-Allow-Methods"))
	assert.Equal(t, "X-Custom", rec.Header().Get("Access-Control-Allow-Headers"))
	assert.Equal(t, "600", rec.Header().Get("Access-Control-Max-Age"))
	assert.Empty(t, rec.Header().Values("Access-Control-Allow-Credentials"))

	// OPTIONS without the preflight headers is an ordinary request.
	next := &okHandler{}
	rec = serve(s.Handler(next), newReq(http.MethodOptions, "https://api.example.com/", nil, withTLS(), withHeader("Origin", "https://app.example.com")))
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.NotNil(t, next.got)
}

func TestCORSConfigErrors(t *testing.T) {
	for name, c := range map[string]CORS{
		"star with credentials": {Origins: []string{"*"}, AllowCredentials: true},
		"no scheme":             {Origins: []string{"app.example.com"}},
		"path":                  {Origins: []string{"https://app.example.com/path"}},
		"bare wildcard":         {Origins: []string{"https://*"}},
		"tld wildcard":          {Origins: []string{"https://*.com"}},
		"mid wildcard":          {Origins: []string{"https://a.*.example.com"}},
		"bad method":            {Origins: []string{"https://a.example"}, Methods: []string{"GET POST"}},
		"bad header":            {Origins: []string{"https://a.example"}, Headers: []string{"X:Y"}},
		"bad expose":            {Origins: []string{"https://a.example"}, ExposeHeaders: []string{"a b"}},
	} {
		_, err := New(Config{CORS: c})
		assert.ErrorIs(t, err, ErrInvalidConfig, name)
	}
}

func TestCORSKeepsOuterVary(t *testing.T) {
	s := mustNew(t, Config{CORS: CORS{Origins: []string{"https://app.example.com"}}})
	outer := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Vary", "Accept-Encoding")
			next.ServeHTTP(w, r)
		})
	}
	rec := serve(outer(s.Handler(&okHandler{})), newReq(http.MethodGet, "https://a.example/", nil, withTLS()))
	assert.Equal(t, []string{"Accept-Encoding", "Origin"}, rec.Header().Values("Vary"))
	rec = serve(outer(s.Handler(&okHandler{})), newReq(http.MethodOptions, "https://a.example/", nil, withTLS(),
		withHeader("Origin", "https://app.example.com"), withHeader("Access-Control-Request-Method", "PUT")))
	assert.Equal(t, []string{"Accept-Encoding", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"}, rec.Header().Values("Vary"))
}
