package security

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFlushStreamsThroughMiddleware(t *testing.T) {
	s := mustNew(t, Config{Profile: Development})
	release := make(chan struct{})
	srv := httptest.NewServer(s.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Set-Cookie", "a=1")
		_, _ = io.WriteString(w, "first\n")
		require.NoError(t, http.NewResponseController(w).Flush())
		<-release
		_, _ = io.WriteString(w, "second\n")
	})))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, "a=1; HttpOnly; SameSite=Lax", resp.Header.Get("Set-Cookie"))
	br := bufio.NewReader(resp.Body)
	line, err := br.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "first\n", line, "first chunk arrived before the handler finished")
	close(release)
	line, err = br.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "second\n", line)
}

func TestHijackThroughMiddleware(t *testing.T) {
	s := mustNew(t, Config{Profile: Development})
	srv := httptest.NewServer(s.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, isHijacker := w.(http.Hijacker)
		require.True(t, isHijacker)
		conn, rw, err := http.NewResponseController(w).Hijack()
		require.NoError(t, err)
		defer conn.Close()
		_, _ = rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
		_ = rw.Flush()
		msg, _ := rw.ReadString('\n')
		_, _ = rw.WriteString("echo:" + msg)
		_ = rw.Flush()
	})))
	defer srv.Close()
	conn, err := dialTCP(srv.Listener.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	_, _ = io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\nhello\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	line, err := br.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "echo:hello\n", line)
}

func TestHTTP2AndDeadlinesThroughMiddleware(t *testing.T) {
	s := mustNew(t, Config{})
	srv := httptest.NewUnstartedServer(nil)
	srv.EnableHTTP2 = true
	srv.Config.Handler = s.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		require.NoError(t, rc.SetWriteDeadline(time.Now().Add(time.Minute)))
		_, _ = io.WriteString(w, r.Proto)
		require.NoError(t, rc.Flush())
		_, _, err := rc.Hijack()
		assert.Error(t, err, "HTTP/2 connections cannot be hijacked")
	}))
	srv.StartTLS()
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	assert.Equal(t, "HTTP/2.0", string(body))
	assert.Equal(t, "max-age=31536000; includeSubDomains", resp.Header.Get("Strict-Transport-Security"))
}

func TestWriterDetails(t *testing.T) {
	s := mustNew(t, Config{})
	var inner http.ResponseWriter
	rec := httptest.NewRecorder()
	s.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inner = w.(interface{ Unwrap() http.ResponseWriter }).Unwrap()
		w.Header().Add("Set-Cookie", "a=1")
		w.WriteHeader(http.StatusTeapot)
		w.WriteHeader(http.StatusOK) // superfluous: ignored as net/http does
	})).ServeHTTP(rec, newReq(http.MethodGet, "https://a.example/", nil, withTLS()))
	assert.Same(t, rec, inner)
	assert.Equal(t, http.StatusTeapot, rec.Code)
	assert.Equal(t, "a=1; Secure; HttpOnly; SameSite=Lax", rec.Header().Get("Set-Cookie"))
}

func TestEarlyHintsPassThrough(t *testing.T) {
	s := mustNew(t, Config{Profile: Development})
	srv := httptest.NewServer(s.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Link", "</app.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Add("Set-Cookie", "a=1")
		w.WriteHeader(http.StatusCreated)
	})))
	defer srv.Close()
	var got1xx []int
	ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
		Got1xxResponse: func(code int, _ textproto.MIMEHeader) error { got1xx = append(got1xx, code); return nil },
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	require.NoError(t, err)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, []int{http.StatusEarlyHints}, got1xx)
	assert.Equal(t, http.StatusCreated, resp.StatusCode)
	assert.Equal(t, "a=1; HttpOnly; SameSite=Lax", resp.Header.Get("Set-Cookie"))
}

// TestConcurrentRequests drives many requests at once through one middleware over a real
// listener; with -race it proves the shared precomputed header values are never written.
func TestConcurrentRequests(t *testing.T) {
	s := mustNew(t, Config{Profile: Development, CORS: CORS{Origins: []string{"https://app.example.com"}, AllowCredentials: true}})
	srv := httptest.NewServer(s.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Add("Vary", "Accept")
		h.Add("Cross-Origin-Resource-Policy", "same-site")
		h.Add("Access-Control-Allow-Origin", "x")
		h.Add("Set-Cookie", "a=1")
		_, _ = io.WriteString(w, Nonce(r.Context()))
	})))
	defer srv.Close()
	var wg sync.WaitGroup
	nonces := make(chan string, 200)
	for range 8 {
		wg.Go(func() {
			for range 25 {
				req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
				req.Header.Set("Origin", "https://app.example.com")
				resp, err := srv.Client().Do(req)
				if !assert.NoError(t, err) {
					return
				}
				b, _ := io.ReadAll(resp.Body)
				_ = resp.Body.Close()
				assert.Equal(t, []string{"same-origin", "same-site"}, resp.Header.Values("Cross-Origin-Resource-Policy"))
				assert.Equal(t, []string{"Origin", "Accept"}, resp.Header.Values("Vary"))
				nonces <- string(b)
			}
		})
	}
	wg.Wait()
	close(nonces)
	seen := map[string]bool{}
	for n := range nonces {
		assert.False(t, seen[n], "nonce repeated across concurrent requests")
		seen[n] = true
	}
	assert.Len(t, seen, 200)
}
