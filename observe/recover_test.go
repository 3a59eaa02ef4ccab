package observe

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRecoverBeforeWriteIsProblem500(t *testing.T) {
	sink, logger := newSinkLogger(slog.LevelInfo)
	reg := prometheus.NewRegistry()
	o := mustNew(t, Config{Logger: logger, Registerer: reg})
	mux := http.NewServeMux()
	mux.HandleFunc("POST /boom", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Set-Cookie", "session=half-done")
		w.Header().Set("Content-Type", "text/html")
		panic("kaboom")
	})
	srv := httptest.NewServer(o.Handler(mux))
	defer srv.Close()

	req, _ := http.NewRequest("POST", srv.URL+"/boom", strings.NewReader("x"))
	req.Header.Set("X-Request-ID", "rid-9")
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, 500, resp.StatusCode)
	assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
	assert.Equal(t, "rid-9", resp.Header.Get("X-Request-ID"))
	assert.Empty(t, resp.Header.Get("Set-Cookie"), "headers set before the panic are dropped")
	var body map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	assert.EqualValues(t, 500, body["status"])
	assert.Equal(t, "rid-9", body["request_id"])
	assert.NotContains(t, strings.ToLower(body["detail"].(string)), "kaboom", "no panic text to the client")

	lines := sink.lines(t)
	require.Len(t, lines, 1, "one line per request: the stack is logged once")
	assert.Equal(t, "ERROR", lines[0]["level"])
	assert.Equal(t, "kaboom", lines[0]["panic"])
	assert.Contains(t, lines[0]["stack"], "recover_test.go")
	assert.EqualValues(t, 500, lines[0]["status"])
	assert.Equal(t, "POST /boom", lines[0]["route"])

	fams := scrape(t, o.MetricsHandler())
	v, ok := sample(fams, MetricPanics, lbl("method", "POST", "route", "POST /boom"))
	assert.True(t, ok)
	assert.Equal(t, 1.0, v)
	v, _ = sample(fams, MetricRequests, lbl("method", "POST", "route", "POST /boom", "code", "5xx"))
	assert.Equal(t, 1.0, v)
	v, ok = sample(fams, MetricInFlight, lbl())
	assert.True(t, ok)
	assert.Equal(t, 0.0, v)
}

// After the headers went out the status cannot change: nothing more is written and the
// connection is aborted so the client does not take a truncated body for a whole one.
func TestRecoverAfterWriteAbortsConnection(t *testing.T) {
	sink, logger := newSinkLogger(slog.LevelInfo)
	o := mustNew(t, Config{Logger: logger})
	srv := httptest.NewUnstartedServer(o.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "partial")
		http.NewResponseController(w).Flush()
		panic(errors.New("late failure"))
	})))
	srv.Config.ErrorLog = nil
	srv.Start()
	defer srv.Close()

	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	require.NoError(t, err)
	raw, _ := io.ReadAll(conn) // returns when the server closes the connection
	text := string(raw)
	assert.Equal(t, 1, strings.Count(text, "HTTP/1.1 "), "exactly one status line:\n%s", text)
	assert.Contains(t, text, "HTTP/1.1 200 OK")
	assert.True(t, strings.HasSuffix(text, "partial"), "nothing written after the panic:\n%q", text)
	assert.NotContains(t, text, "problem+json")

	lines := sink.lines(t)
	require.Len(t, lines, 1)
	assert.Equal(t, "late failure", lines[0]["panic"])
	assert.EqualValues(t, 200, lines[0]["status"])
}

func TestRecoverErrAbortHandlerIsRepanicked(t *testing.T) {
	sink, logger := newSinkLogger(slog.LevelInfo)
	o := mustNew(t, Config{Logger: logger})
	h := o.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic(http.ErrAbortHandler)
	}))
	rec := httptest.NewRecorder()
	assert.PanicsWithValue(t, http.ErrAbortHandler, func() {
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	})
	assert.False(t, rec.Flushed)
	assert.Empty(t, rec.Body.String(), "no 500 body for an aborted handler")
	lines := sink.lines(t)
	require.Len(t, lines, 1)
	assert.NotContains(t, lines[0], "stack")
	assert.Equal(t, true, lines[0]["aborted"])
}

func TestRecoverCustomPanicHandler(t *testing.T) {
	o := mustNew(t, Config{PanicHandler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
		_, _ = io.WriteString(w, "id="+RequestID(r.Context()))
	})})
	h := o.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(1) }))
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("X-Request-ID", "r2")
	h.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusTeapot, rec.Code)
	assert.Equal(t, "id=r2", rec.Body.String())
}

func TestRecoverAfterHijackDoesNotWrite(t *testing.T) {
	sink, logger := newSinkLogger(slog.LevelInfo)
	o := mustNew(t, Config{Logger: logger})
	srv := httptest.NewServer(o.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\nbye")
		_ = brw.Flush()
		_ = c.Close()
		panic("after hijack")
	})))
	defer srv.Close()
	_, br := dialUpgrade(t, srv, "/", "x")
	rest, _ := io.ReadAll(br)
	assert.Equal(t, "bye", string(rest), "nothing written after the hijacked handler panicked")
	require.Eventually(t, func() bool { return len(sink.lines(t)) == 1 }, timeoutShort, tick)
	assert.EqualValues(t, 101, sink.lines(t)[0]["status"])
}
