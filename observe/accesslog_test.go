package observe

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/slogtest"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAccessLogFields(t *testing.T) {
	sink, logger := newSinkLogger(slog.LevelInfo)
	o := mustNew(t, Config{Logger: logger, TrustedProxies: []string{"10.0.0.0/8"}})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		Logger(r.Context()).Info("loading item", "id", r.PathValue("id"))
		_, _ = io.WriteString(w, "hello")
	})
	h := o.Handler(mux)

	req := httptest.NewRequest("GET", "/items/42?q=1", nil)
	req.RemoteAddr = "10.1.2.3:5555"
	req.Header.Set("X-Forwarded-For", "203.0.113.9, 10.9.9.9")
	req.Header.Set("User-Agent", "probe/1.0")
	req.Header.Set("X-Request-ID", "req-1")
	req.Header.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	h.ServeHTTP(httptest.NewRecorder(), req)

	lines := sink.lines(t)
	require.Len(t, lines, 2)
	handlerLine, access := lines[0], lines[1]
	assert.Equal(t, "loading item", handlerLine["msg"])
	assert.Equal(t, "req-1", handlerLine["request_id"])
	assert.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", handlerLine["trace_id"])
	assert.Equal(t, "42", handlerLine["id"])

	assert.Equal(t, "http request", access["msg"])
	assert.Equal(t, "INFO", access["level"])
	assert.Equal(t, "GET", access["method"])
	assert.Equal(t, "GET /items/{id}", access["route"])
	assert.Equal(t, "/items/42", access["path"])
	assert.EqualValues(t, 200, access["status"])
	assert.EqualValues(t, 5, access["bytes"])
	assert.Contains(t, access, "duration_ms")
	assert.Equal(t, "req-1", access["request_id"])
	assert.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", access["trace_id"])
	assert.Equal(t, "203.0.113.9", access["client_ip"], "trusted proxy hop skipped")
	assert.Equal(t, "probe/1.0", access["user_agent"])
	assert.NotContains(t, access, "stack")
}

func TestAccessLogUntrustedPeerForwardedForIgnored(t *testing.T) {
	sink, logger := newSinkLogger(slog.LevelInfo)
	o := mustNew(t, Config{Logger: logger, TrustedProxies: []string{"10.0.0.0/8"}})
	h := o.Handler(http.NotFoundHandler())
	req := httptest.NewRequest("GET", "/", nil)
	req.RemoteAddr = "198.51.100.7:1234"
	req.Header.Set("X-Forwarded-For", "1.1.1.1")
	h.ServeHTTP(httptest.NewRecorder(), req)
	lines := sink.lines(t)
	require.Len(t, lines, 1)
	assert.Equal(t, "198.51.100.7", lines[0]["client_ip"])
	assert.Equal(t, "unmatched", lines[0]["route"])
}

func TestAccessLogLevelByStatusAndSkipPaths(t *testing.T) {
	sink, logger := newSinkLogger(slog.LevelDebug)
	o := mustNew(t, Config{Logger: logger, SkipPaths: []string{"/live", "/ready"}})
	h := o.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ready":
			w.WriteHeader(http.StatusServiceUnavailable)
		case "/missing":
			w.WriteHeader(http.StatusNotFound)
		case "/moved":
			w.WriteHeader(http.StatusFound)
		}
	}))
	for _, p := range []string{"/live", "/ready", "/missing", "/moved", "/ok"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", p, nil))
	}
	got := map[string]string{}
	for _, l := range sink.lines(t) {
		got[l["path"].(string)] = l["level"].(string)
	}
	assert.Equal(t, map[string]string{
		"/ready":   "ERROR", // skipped path, but failures are always logged
		"/missing": "WARN",
		"/moved":   "INFO",
		"/ok":      "INFO",
	}, got)
}

func TestAccessLogRespectsLevel(t *testing.T) {
	sink, logger := newSinkLogger(slog.LevelWarn)
	o := mustNew(t, Config{Logger: logger})
	h := o.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/bad" {
			w.WriteHeader(http.StatusBadRequest)
		}
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/ok", nil))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/bad", nil))
	lines := sink.lines(t)
	require.Len(t, lines, 1)
	assert.Equal(t, "/bad", lines[0]["path"])
}

// The duration is measured on the injected clock; inside a synctest bubble time.Sleep
// advances the fake clock exactly, so the logged duration is exact.
func TestAccessLogDurationSynctest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sink, logger := newSinkLogger(slog.LevelInfo)
		o := mustNew(t, Config{Logger: logger})
		h := o.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
			time.Sleep(1500 * time.Millisecond)
		}))
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
		lines := sink.lines(t)
		require.Len(t, lines, 1)
		assert.EqualValues(t, 1500, lines[0]["duration_ms"])
	})
}

func TestAccessLogInjectedClock(t *testing.T) {
	sink, logger := newSinkLogger(slog.LevelInfo)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	calls := 0
	o := mustNew(t, Config{Logger: logger, Now: func() time.Time {
		calls++
		return base.Add(time.Duration(calls-1) * 250 * time.Millisecond)
	}})
	o.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})).
		ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	assert.EqualValues(t, 250, sink.lines(t)[0]["duration_ms"])
}

func TestLoggerIsCachedPerRequest(t *testing.T) {
	o := mustNew(t, Config{})
	o.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		loggers := make(chan *slog.Logger, 8)
		for range cap(loggers) {
			go func() { loggers <- Logger(r.Context()) }()
		}
		first := <-loggers
		for range cap(loggers) - 1 {
			assert.Same(t, first, <-loggers)
		}
		assert.Same(t, first, Logger(r.Context()))
	})).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
}

func TestContextHandlerAddsRequestFields(t *testing.T) {
	var buf bytes.Buffer
	base := slog.New(ContextHandler(slog.NewJSONHandler(&buf, nil)))
	o := mustNew(t, Config{})
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("X-Request-ID", "abc")
	o.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		base.InfoContext(r.Context(), "inside")
	})).ServeHTTP(httptest.NewRecorder(), req)
	base.Info("outside")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 2)
	var in, out map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &in))
	require.NoError(t, json.Unmarshal([]byte(lines[1]), &out))
	assert.Equal(t, "abc", in["request_id"])
	assert.NotContains(t, out, "request_id")
}

// ContextHandler must remain a conforming slog.Handler.
func TestContextHandlerSlogtest(t *testing.T) {
	var buf bytes.Buffer
	newHandler := func(*testing.T) slog.Handler {
		buf.Reset()
		return ContextHandler(slog.NewJSONHandler(&buf, nil))
	}
	result := func(t *testing.T) map[string]any {
		var m map[string]any
		require.NoError(t, json.Unmarshal(buf.Bytes(), &m))
		return m
	}
	slogtest.Run(t, newHandler, result)
}

// The access log line itself passes slogtest-style checks: a valid JSON object per line
// with the standard time, level and msg keys.
func TestAccessLogLinesAreWellFormed(t *testing.T) {
	sink, logger := newSinkLogger(slog.LevelInfo)
	o := mustNew(t, Config{Logger: logger})
	h := o.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	req := httptest.NewRequest("GET", "/a%22b%0Ac", nil)
	req.Header.Set("User-Agent", "evil\"\n{\"level\":\"ERROR\"}")
	h.ServeHTTP(httptest.NewRecorder(), req)
	lines := sink.lines(t)
	require.Len(t, lines, 1)
	for _, k := range []string{slog.TimeKey, slog.LevelKey, slog.MessageKey} {
		assert.Contains(t, lines[0], k)
	}
	_, err := time.Parse(time.RFC3339Nano, lines[0][slog.TimeKey].(string))
	assert.NoError(t, err)
	assert.Equal(t, "a\"b\nc", strings.TrimPrefix(lines[0]["path"].(string), "/"))
	assert.Equal(t, "INFO", lines[0]["level"])
}

func TestSetRouteWhenRequestReplaced(t *testing.T) {
	sink, logger := newSinkLogger(slog.LevelInfo)
	o := mustNew(t, Config{Logger: logger})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {
		SetRoute(r.Context(), r.Pattern)
	})
	// A middleware in between replaces the request, hiding the Pattern the mux sets.
	between := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), otherKey{}, 1)))
	})
	o.Handler(between).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/users/7", nil))
	assert.Equal(t, "GET /users/{id}", sink.lines(t)[0]["route"])
}

type otherKey struct{}

// With a Router, the route is known before the next handler runs: a middleware that
// replaces the request does not hide it from the Observer, and sees no r.Pattern of the
// Observer's making.
func TestRouterNamesRouteThroughReplacingMiddleware(t *testing.T) {
	sink, logger := newSinkLogger(slog.LevelInfo)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("GET /crash/{id}", func(w http.ResponseWriter, r *http.Request) { panic("x") })
	o := mustNew(t, Config{Logger: logger, Router: mux})
	var seen []string
	between := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			seen = append(seen, r.Pattern)
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), otherKey{}, 1)))
		})
	}
	h := o.Handler(between(mux))
	for _, p := range []string{"/users/7", "/crash/7", "/nothing"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", p, nil))
	}
	assert.Equal(t, []string{"", "", ""}, seen)
	lines := sink.lines(t)
	require.Len(t, lines, 3)
	assert.Equal(t, "GET /users/{id}", lines[0]["route"])
	assert.Equal(t, "GET /crash/{id}", lines[1]["route"])
	assert.Equal(t, "unmatched", lines[2]["route"])

	// Without a Router the pattern is lost behind the replacing middleware.
	sink2, logger2 := newSinkLogger(slog.LevelInfo)
	o2 := mustNew(t, Config{Logger: logger2})
	o2.Handler(between(mux)).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/users/7", nil))
	assert.Equal(t, "unmatched", sink2.lines(t)[0]["route"])
}
