package observe

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var hex32 = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestRequestIDIncomingValidIsReused(t *testing.T) {
	o := mustNew(t, Config{})
	var seen string
	h := o.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = RequestID(r.Context())
	}))
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("X-Request-ID", "lb-7f3a:2024/01+x=y@z_.-")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Equal(t, "lb-7f3a:2024/01+x=y@z_.-", seen)
	assert.Equal(t, seen, rec.Header().Get("X-Request-ID"))
}

func TestRequestIDHostileIncomingIsReplaced(t *testing.T) {
	o := mustNew(t, Config{MaxRequestIDLength: 16})
	for name, in := range map[string]string{
		"empty":       "",
		"too long":    strings.Repeat("a", 17),
		"space":       "a b",
		"quote":       `a"b`,
		"newline":     "a\nb",
		"log forging": `x","level":"ERROR`,
		"non-ascii":   "é",
		"nul":         "a\x00",
		"semicolon":   "a;b",
	} {
		t.Run(name, func(t *testing.T) {
			var seen string
			h := o.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				seen = RequestID(r.Context())
			}))
			req := httptest.NewRequest("GET", "/", nil)
			req.Header["X-Request-Id"] = []string{in}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			assert.Regexp(t, hex32, seen)
			assert.Equal(t, seen, rec.Header().Get("X-Request-ID"))
		})
	}
	// Exactly at the bound is accepted.
	var seen string
	h := o.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = RequestID(r.Context()) }))
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("X-Request-ID", strings.Repeat("a", 16))
	h.ServeHTTP(httptest.NewRecorder(), req)
	assert.Equal(t, strings.Repeat("a", 16), seen)
}

func TestRequestIDGeneratedAreUnique(t *testing.T) {
	o := mustNew(t, Config{})
	h := o.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	seen := map[string]bool{}
	for range 1000 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		id := rec.Header().Get("X-Request-ID")
		require.Regexp(t, hex32, id)
		require.False(t, seen[id], "duplicate id %s", id)
		seen[id] = true
	}
}

func TestRequestIDCustomHeaderAndGenerator(t *testing.T) {
	o := mustNew(t, Config{RequestIDHeader: "x-correlation-id", GenerateRequestID: func() string { return "fixed" }})
	h := o.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("X-Request-ID", "ignored-header")
	h.ServeHTTP(rec, req)
	assert.Equal(t, "fixed", rec.Header().Get("X-Correlation-ID"))
	assert.Empty(t, rec.Header().Get("X-Request-ID"))
}

func TestContextGettersOutsideObserver(t *testing.T) {
	ctx := t.Context()
	assert.Empty(t, RequestID(ctx))
	assert.Empty(t, TraceID(ctx))
	assert.NotNil(t, Logger(ctx))
}

func TestTraceparent(t *testing.T) {
	const tid = "4bf92f3577b34da6a3ce929d0e0e4736"
	cases := []struct {
		in      string
		ok      bool
		sampled bool
	}{
		{"00-" + tid + "-00f067aa0ba902b7-01", true, true},
		{"00-" + tid + "-00f067aa0ba902b7-00", true, false},
		{"00-" + tid + "-00f067aa0ba902b7-03", true, true},
		{"00-" + tid + "-00f067aa0ba902b7-0b", true, true},
		{"00-" + tid + "-00f067aa0ba902b7-0a", true, false},
		{"01-" + tid + "-00f067aa0ba902b7-01-extra", true, true},
		{"01-" + tid + "-00f067aa0ba902b7-01", true, true},
		{"00-" + tid + "-00f067aa0ba902b7-01-extra", false, false}, // version 00 is exactly 55
		{"01-" + tid + "-00f067aa0ba902b7-01x", false, false},
		{"ff-" + tid + "-00f067aa0ba902b7-01", false, false},
		{"00-00000000000000000000000000000000-00f067aa0ba902b7-01", false, false},
		{"00-" + tid + "-0000000000000000-01", false, false},
		{"00-" + strings.ToUpper(tid) + "-00f067aa0ba902b7-01", false, false},
		{"00-" + tid + "-00f067aa0ba902b7", false, false},
		{"00_" + tid + "-00f067aa0ba902b7-01", false, false},
		{"0g-" + tid + "-00f067aa0ba902b7-01", false, false},
		{"", false, false},
	}
	for _, c := range cases {
		tp, ok := parseTraceparent(c.in)
		assert.Equal(t, c.ok, ok, c.in)
		if ok {
			assert.Equal(t, tid, tp.traceID)
			assert.Equal(t, "00f067aa0ba902b7", tp.spanID)
			assert.Equal(t, c.sampled, tp.sampled, c.in)
		}
	}

	o := mustNew(t, Config{})
	var got string
	h := o.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = TraceID(r.Context()) }))
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Traceparent", "00-"+tid+"-00f067aa0ba902b7-01")
	h.ServeHTTP(httptest.NewRecorder(), req)
	assert.Equal(t, tid, got)

	req.Header.Set("Traceparent", "garbage")
	h.ServeHTTP(httptest.NewRecorder(), req)
	assert.Empty(t, got)
}
