package security

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// jsonHandler decodes the body and answers 400 on any error, as handlers usually do.
func jsonHandler(w http.ResponseWriter, r *http.Request) {
	var v map[string]any
	if err := json.NewDecoder(r.Body).Decode(&v); err != nil {
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Add("Set-Cookie", "a=1")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, "bad json: "+err.Error())
		return
	}
	_, _ = io.WriteString(w, "ok")
}

func TestBodyLimitByContentLength(t *testing.T) {
	s := mustNew(t, Config{MaxBodyBytes: 64})
	next := &okHandler{}
	rec := serve(s.Handler(next), newReq(http.MethodPost, "https://a.example/", strings.NewReader(strings.Repeat("x", 65)), withTLS()))
	isProblem(t, rec, http.StatusRequestEntityTooLarge)
	assert.Nil(t, next.got)
	rec = serve(s.Handler(http.HandlerFunc(jsonHandler)), newReq(http.MethodPost, "https://a.example/", strings.NewReader(`{"a":"`+strings.Repeat("x", 50)+`"}`), withTLS()))
	assert.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
}

// chunked hides the length so only reading finds the overflow.
type chunked struct{ io.Reader }

func TestBodyLimitWhileReading(t *testing.T) {
	s := mustNew(t, Config{MaxBodyBytes: 64})
	big := `{"a":"` + strings.Repeat("x", 500) + `"}`

	r := newReq(http.MethodPost, "https://a.example/", chunked{strings.NewReader(big)}, withTLS())
	r.ContentLength = -1
	rec := serve(s.Handler(http.HandlerFunc(jsonHandler)), r)
	isProblem(t, rec, http.StatusRequestEntityTooLarge)
	assert.NotContains(t, rec.Body.String(), "bad json", "the handler's error body is replaced")
	assert.Equal(t, "a=1; Secure; HttpOnly; SameSite=Lax", rec.Header().Get("Set-Cookie"))

	// A handler that ignores the error and writes nothing still yields 413.
	r = newReq(http.MethodPost, "https://a.example/", chunked{strings.NewReader(big)}, withTLS())
	r.ContentLength = -1
	var readErr error
	rec = serve(s.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, readErr = io.ReadAll(r.Body)
	})), r)
	var mbe *http.MaxBytesError
	require.True(t, errors.As(readErr, &mbe), "handlers see *http.MaxBytesError")
	isProblem(t, rec, http.StatusRequestEntityTooLarge)

	// A handler that succeeds anyway keeps its answer.
	r = newReq(http.MethodPost, "https://a.example/", chunked{strings.NewReader(big)}, withTLS())
	r.ContentLength = -1
	rec = serve(s.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		w.WriteHeader(http.StatusAccepted)
	})), r)
	assert.Equal(t, http.StatusAccepted, rec.Code)
}

func TestBodyLimitDefaultAndUnlimited(t *testing.T) {
	s := mustNew(t, Config{})
	r := newReq(http.MethodPost, "https://a.example/", bytes.NewReader(nil), withTLS())
	r.ContentLength = DefaultMaxBodyBytes + 1
	isProblem(t, serve(s.Handler(&okHandler{}), r), http.StatusRequestEntityTooLarge)
	r.ContentLength = DefaultMaxBodyBytes
	assert.Equal(t, http.StatusOK, serve(s.Handler(&okHandler{}), r).Code)

	s = mustNew(t, Config{MaxBodyBytes: -1})
	r = newReq(http.MethodPost, "https://a.example/", chunked{strings.NewReader(strings.Repeat("x", 1<<20))}, withTLS())
	r.ContentLength = 1 << 40
	var n int64
	rec := serve(s.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { n, _ = io.Copy(io.Discard, r.Body) })), r)
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, int64(1<<20), n)
}

func TestBodyLimitOverRealServer(t *testing.T) {
	s := mustNew(t, Config{MaxBodyBytes: 1024, Profile: Development})
	srv := httptest.NewServer(s.Handler(http.HandlerFunc(jsonHandler)))
	defer srv.Close()
	// Streamed (chunked) upload: the server does not know the size in advance.
	pr, pw := io.Pipe()
	go func() {
		_, _ = io.WriteString(pw, `{"a":"`+strings.Repeat("x", 1<<20)+`"}`)
		_ = pw.Close()
	}()
	req, err := http.NewRequest(http.MethodPost, srv.URL, pr)
	require.NoError(t, err)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
	assert.Contains(t, string(body), `"status":413`)
}

func TestOnReject(t *testing.T) {
	var got *RejectError
	s := mustNew(t, Config{MaxBodyBytes: 1, AllowedHosts: []string{"a.example"},
		OnReject: func(w http.ResponseWriter, r *http.Request, e *RejectError) {
			got = e
			w.WriteHeader(e.Status)
			_, _ = io.WriteString(w, "custom")
		}})
	rec := serve(s.Handler(&okHandler{}), newReq(http.MethodPost, "https://a.example/", strings.NewReader("xx"), withTLS()))
	assert.Equal(t, "custom", rec.Body.String())
	assert.ErrorIs(t, got, ErrBodyTooLarge)
	assert.Equal(t, 413, rec.Code)
	serve(s.Handler(&okHandler{}), newReq(http.MethodGet, "https://b.example/", nil, withTLS()))
	assert.ErrorIs(t, got, ErrBadHost)
	assert.Contains(t, got.Error(), "host not allowed")
}

func TestLimitedBodyClose(t *testing.T) {
	s := mustNew(t, Config{})
	var closeErr error
	rec := serve(s.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		closeErr = r.Body.Close()
	})), newReq(http.MethodPost, "https://a.example/", strings.NewReader("{}"), withTLS()))
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.NoError(t, closeErr)
}
