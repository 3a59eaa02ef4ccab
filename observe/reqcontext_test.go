package observe

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type parentKey struct{}

// The context handed to the next handler is its parent with the request state added:
// parent values, deadline and cancellation all come through, and what a handler keeps
// stays valid after later requests.
func TestRequestContextKeepsParent(t *testing.T) {
	o := mustNew(t, Config{})
	deadline := time.Now().Add(time.Hour)
	parent, cancel := context.WithDeadline(context.WithValue(context.Background(), parentKey{}, "v"), deadline)
	var kept context.Context
	h := o.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { kept = r.Context() }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil).WithContext(parent))
	id := rec.Header().Get("X-Request-Id")
	require.Regexp(t, hex32, id)

	assert.Equal(t, id, RequestID(kept))
	assert.Equal(t, "v", kept.Value(parentKey{}))
	assert.Nil(t, kept.Value("missing"))
	got, ok := kept.Deadline()
	assert.True(t, ok)
	assert.True(t, got.Equal(deadline))
	assert.Contains(t, fmt.Sprint(kept), "WithValue(observe.ctxKey")

	child, stop := context.WithCancel(kept)
	defer stop()
	assert.NoError(t, kept.Err())
	cancel()
	select {
	case <-child.Done():
	case <-time.After(timeoutShort):
		t.Fatal("cancelling the parent did not reach a context derived from the request's")
	}
	assert.ErrorIs(t, kept.Err(), context.Canceled)

	first := kept
	for range 10 {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	}
	assert.NotEqual(t, id, RequestID(kept))
	assert.Equal(t, id, RequestID(first), "a kept context keeps its request ID")
}

// A handler that rewrites the X-Request-Id response header changes neither the ID in the
// context nor the one in the access log.
func TestRequestIDHeaderRewriteKeepsID(t *testing.T) {
	sink, logger := newSinkLogger(slog.LevelInfo)
	o := mustNew(t, Config{Logger: logger})
	var id string
	h := o.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["X-Request-Id"][0] = "rewritten"
		id = RequestID(r.Context())
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	assert.Equal(t, "rewritten", rec.Header().Get("X-Request-Id"))
	require.Regexp(t, hex32, id)
	assert.Equal(t, id, sink.lines(t)[0]["request_id"])
}

// The logged client address is right for the longest IPv6 text, for IPv4, and for a peer
// that is no address at all; each line keeps its own.
func TestAccessLogClientIPForms(t *testing.T) {
	sink, logger := newSinkLogger(slog.LevelInfo)
	o := mustNew(t, Config{Logger: logger})
	h := o.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	long := "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"
	require.Len(t, long, 39) // the longest address text
	peers := map[string]string{
		"[" + long + "]:443":      long,
		"198.51.100.7:1234":       "198.51.100.7",
		"[::ffff:192.0.2.1]:80":   "192.0.2.1",
		"[fe80::1%eth0]:80":       "fe80::1",
		"pipe":                    "invalid IP",
		"":                        "invalid IP",
		"[2001:db8::1]:8080":      "2001:db8::1",
		"203.0.113.255:65535":     "203.0.113.255",
		"[2001:db8:0:0:1::1]:1":   "2001:db8::1:0:0:1",
		"[::]:1":                  "::",
		"0.0.0.0:1":               "0.0.0.0",
		"[" + long + "%zone]:443": long,
	}
	var want []string
	for remote, ip := range peers {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = remote
		h.ServeHTTP(httptest.NewRecorder(), r)
		want = append(want, ip)
	}
	var got []string
	for _, l := range sink.lines(t) {
		got = append(got, l["client_ip"].(string))
	}
	assert.Equal(t, want, got)
}

// The access log line's source, for handlers with AddSource, is the middleware's logging
// function, and with the default clock its time is when the handler returned.
func TestAccessLogSourceAndTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sink := &logSink{}
		logger := slog.New(slog.NewJSONHandler(sink, &slog.HandlerOptions{AddSource: true}))
		o := mustNew(t, Config{Logger: logger})
		start := time.Now()
		h := o.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { time.Sleep(time.Second) }))
		for range 2 {
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
		}
		lines := sink.lines(t)
		require.Len(t, lines, 2)
		for i, l := range lines {
			src, ok := l["source"].(map[string]any)
			require.True(t, ok, "source in %v", l)
			assert.True(t, strings.HasSuffix(src["function"].(string), "observe.(*Observer).log"), src["function"])
			assert.True(t, strings.HasSuffix(src["file"].(string), "observe/observe.go"), src["file"])
			ts, err := time.Parse(time.RFC3339Nano, l["time"].(string))
			require.NoError(t, err)
			assert.True(t, ts.Equal(start.Add(time.Duration(i+1)*time.Second)), "time %v", ts)
		}
	})
}

// An outer middleware may rewrite header values in place after the Observer returns
// (h["X-Request-Id"][0] = …); no value slice the Observer sets is shared with another
// response, the panic response's included.
func TestHeaderValuesAreNotSharedBetweenResponses(t *testing.T) {
	o := mustNew(t, Config{GenerateRequestID: func() string { return "same-id" }})
	inner := o.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/panic" {
			panic("boom")
		}
		_, _ = w.Write([]byte("ok"))
	}))
	outer := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inner.ServeHTTP(w, r)
		for _, v := range w.Header() {
			for i := range v {
				v[i] = "mutated"
			}
		}
	})
	for _, path := range []string{"/", "/panic", "/", "/panic"} {
		rec := httptest.NewRecorder()
		outer.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		h := rec.Result().Header // as written, before the outer middleware's writes
		assert.Equal(t, "same-id", h.Get("X-Request-Id"), path)
		if path == "/panic" {
			assert.Equal(t, "application/problem+json", h.Get("Content-Type"))
			assert.Equal(t, "nosniff", h.Get("X-Content-Type-Options"))
		}
	}
}
