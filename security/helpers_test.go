package security

import (
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// okHandler answers 200 "ok" and records the request it saw.
type okHandler struct {
	got *http.Request
}

func (h *okHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.got = r
	_, _ = io.WriteString(w, "ok")
}

func mustNew(t testing.TB, cfg Config) *Security {
	t.Helper()
	s, err := New(cfg)
	require.NoError(t, err)
	return s
}

type reqOpt func(*http.Request)

func withTLS() reqOpt { return func(r *http.Request) { r.TLS = &tls.ConnectionState{} } }

func withRemote(a string) reqOpt { return func(r *http.Request) { r.RemoteAddr = a } }

func withHost(h string) reqOpt { return func(r *http.Request) { r.Host = h } }

func withHeader(k, v string) reqOpt { return func(r *http.Request) { r.Header.Add(k, v) } }

func newReq(method, target string, body io.Reader, opts ...reqOpt) *http.Request {
	r := httptest.NewRequest(method, target, body)
	r.RemoteAddr = "203.0.113.7:40000"
	for _, o := range opts {
		o(r)
	}
	return r
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

// isProblem asserts a problem+json response with the given status.
func isProblem(t *testing.T, rec *httptest.ResponseRecorder, status int) {
	t.Helper()
	require.Equal(t, status, rec.Code, rec.Body.String())
	require.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
	require.True(t, strings.Contains(rec.Body.String(), `"status":`), rec.Body.String())
}

func dialTCP(addr string) (net.Conn, error) { return net.DialTimeout("tcp", addr, 5*time.Second) }

// mustCompile compiles c or fails the test.
func mustCompile(t *testing.T, c CSP) *policy {
	t.Helper()
	p, err := c.compile()
	if err != nil {
		t.Fatal(err)
	}
	return p
}
