package observe

import (
	"bufio"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fullObserver has every feature that wraps the writer turned on.
func fullObserver(t *testing.T) (*Observer, *logSink) {
	sink, logger := newSinkLogger(slog.LevelInfo)
	return mustNew(t, Config{Logger: logger, Registerer: prometheus.NewRegistry()}), sink
}

func TestWriterFlushStreamsHTTP1AndHTTP2(t *testing.T) {
	for _, proto := range []string{"HTTP/1.1", "HTTP/2.0"} {
		t.Run(proto, func(t *testing.T) {
			o, sink := fullObserver(t)
			release := make(chan struct{})
			h := o.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				assert.Equal(t, proto, r.Proto)
				_, _ = io.WriteString(w, "first\n")
				w.(http.Flusher).Flush()
				<-release
				_, _ = io.WriteString(w, "second\n")
				assert.NoError(t, http.NewResponseController(w).Flush())
			}))
			srv := httptest.NewUnstartedServer(h)
			if proto == "HTTP/2.0" {
				srv.EnableHTTP2 = true
				srv.StartTLS()
			} else {
				srv.Start()
			}
			defer srv.Close()
			resp, err := srv.Client().Get(srv.URL)
			require.NoError(t, err)
			defer resp.Body.Close()
			require.Equal(t, proto, resp.Proto)
			br := bufio.NewReader(resp.Body)
			line, err := br.ReadString('\n')
			require.NoError(t, err)
			assert.Equal(t, "first\n", line, "first chunk arrives before the handler ends")
			close(release)
			rest, _ := io.ReadAll(br)
			assert.Equal(t, "second\n", string(rest))
			require.Eventually(t, func() bool { return len(sink.lines(t)) == 1 }, timeoutShort, tick)
			assert.EqualValues(t, 13, sink.lines(t)[0]["bytes"])
		})
	}
}

func TestWriterHijackHTTP1(t *testing.T) {
	o, sink := fullObserver(t)
	srv := httptest.NewServer(o.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, brw, err := w.(http.Hijacker).Hijack()
		if !assert.NoError(t, err) {
			return
		}
		defer c.Close()
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
		_ = brw.Flush()
		msg, _ := brw.ReadString('\n')
		_, _ = c.Write([]byte("echo:" + msg))
	})))
	defer srv.Close()
	conn, br := dialUpgrade(t, srv, "/ws", "echo")
	_, _ = io.WriteString(conn, "hi\n")
	got, _ := br.ReadString('\n')
	assert.Equal(t, "echo:hi\n", got)
	require.Eventually(t, func() bool { return len(sink.lines(t)) == 1 }, timeoutShort, tick)
	assert.EqualValues(t, 101, sink.lines(t)[0]["status"])
}

func TestWriterHijackUnsupportedOnHTTP2(t *testing.T) {
	o, _ := fullObserver(t)
	errc := make(chan error, 1)
	srv := httptest.NewUnstartedServer(o.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _, err := http.NewResponseController(w).Hijack()
		errc <- err
	})))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, "HTTP/2.0", resp.Proto)
	assert.True(t, errors.Is(<-errc, http.ErrNotSupported))
}

// ResponseController features the wrapper does not implement itself are reached through
// Unwrap.
func TestWriterResponseControllerThroughUnwrap(t *testing.T) {
	o, _ := fullObserver(t)
	errc := make(chan error, 3)
	srv := httptest.NewServer(o.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		errc <- rc.SetWriteDeadline(time.Now().Add(time.Minute))
		errc <- rc.SetReadDeadline(time.Now().Add(time.Minute))
		errc <- rc.EnableFullDuplex()
	})))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	require.NoError(t, err)
	resp.Body.Close()
	for range 3 {
		assert.NoError(t, <-errc)
	}
}

func TestWriterReadFromAndInformational(t *testing.T) {
	o, sink := fullObserver(t)
	srv := httptest.NewServer(o.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.WriteHeader(http.StatusAccepted)
		n, err := io.Copy(w, strings.NewReader(strings.Repeat("x", 1000)))
		assert.NoError(t, err)
		assert.EqualValues(t, 1000, n)
	})))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, 202, resp.StatusCode)
	assert.Len(t, body, 1000)
	require.Eventually(t, func() bool { return len(sink.lines(t)) == 1 }, timeoutShort, tick)
	assert.EqualValues(t, 202, sink.lines(t)[0]["status"], "103 is not the final status")
	assert.EqualValues(t, 1000, sink.lines(t)[0]["bytes"])
}

func TestWriterReadFromWithoutReaderFrom(t *testing.T) {
	var w responseWriter
	rec := httptest.NewRecorder()
	inner := struct{ http.ResponseWriter }{rec} // hides any ReadFrom
	w.reset(inner)
	n, err := w.ReadFrom(strings.NewReader("abc"))
	require.NoError(t, err)
	assert.EqualValues(t, 3, n)
	assert.Equal(t, "abc", rec.Body.String())
	assert.Equal(t, 200, w.status)
	assert.Equal(t, http.ResponseWriter(inner), w.Unwrap())
}

func TestHTTP2EndToEnd(t *testing.T) {
	o, sink := fullObserver(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /h2/{x}", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, r.Proto) })
	srv := httptest.NewUnstartedServer(o.Handler(mux))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/h2/a")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, "HTTP/2.0", string(body))
	assert.NotEmpty(t, resp.Header.Get("X-Request-ID"))
	require.Eventually(t, func() bool { return len(sink.lines(t)) == 1 }, timeoutShort, tick)
	assert.Equal(t, "GET /h2/{x}", sink.lines(t)[0]["route"])
}

// dialUpgrade sends an Upgrade request for path to srv over a raw connection and reads the
// 101 answer; the connection is closed when the test ends.
func dialUpgrade(t *testing.T, srv *httptest.Server, path, protocol string) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	_, _ = io.WriteString(conn, "GET "+path+" HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: "+protocol+"\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	return conn, br
}
