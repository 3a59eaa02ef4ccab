package observe

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// slogLine is what slog.JSONHandler writes for a: the reference the fast encoder must
// match byte for byte.
func slogLine(t testing.TB, a *accessLine) []byte {
	t.Helper()
	var buf bytes.Buffer
	h := slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})
	r := slog.NewRecord(a.time, a.level, accessMessage, 0)
	r.AddAttrs(a.attrs(nil)...)
	require.NoError(t, h.Handle(context.Background(), r))
	return buf.Bytes()
}

func TestAccessLineMatchesSlog(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		paris = time.FixedZone("CET", 3600)
	}
	base := accessLine{
		time: time.Date(2026, 12, 2, 9, 30, 0, 123456789, time.UTC), level: slog.LevelInfo,
		method: "GET", route: "GET /api/formulas/{id}", path: "/api/formulas/42", status: 200,
		bytes: 3072, durationMS: 1.234, requestID: "4bf92f3577b34da6a3ce929d0e0e4736",
		clientIP: netip.MustParseAddr("198.51.100.7"), userAgent: "curl/8.5.0",
	}
	cases := map[string]func(a *accessLine){
		"plain":              func(*accessLine) {},
		"trace id":           func(a *accessLine) { a.traceID = "0af7651916cd43dd8448eb211c80319c" },
		"aborted, warn":      func(a *accessLine) { a.aborted, a.level, a.status = true, slog.LevelWarn, 499 },
		"error level":        func(a *accessLine) { a.level, a.status = slog.LevelError, 503 },
		"odd level":          func(a *accessLine) { a.level = slog.LevelInfo + 2 },
		"zero duration":      func(a *accessLine) { a.durationMS = 0 },
		"long duration":      func(a *accessLine) { a.durationMS = 123456789.001 },
		"tiny duration":      func(a *accessLine) { a.durationMS = 1e-9 },
		"huge duration":      func(a *accessLine) { a.durationMS = 3e21 },
		"negative bytes":     func(a *accessLine) { a.bytes = -1 },
		"local zone":         func(a *accessLine) { a.time = a.time.In(paris) },
		"monotonic clock":    func(a *accessLine) { a.time = time.Now() },
		"whole second":       func(a *accessLine) { a.time = a.time.Truncate(time.Second) },
		"quotes and escapes": func(a *accessLine) { a.userAgent = "a\"b\\c\nd\re\tf\x00g\x1f<h>&" },
		"invalid utf-8":      func(a *accessLine) { a.path = "/caf\xe9/\xff\xfe" },
		"line separators":    func(a *accessLine) { a.userAgent = "x\u2028y\u2029z" },
		"non-ascii":          func(a *accessLine) { a.path = "/élève/数学/🙂" },
		"empty strings":      func(a *accessLine) { a.method, a.path, a.userAgent = "", "", "" },
		"no address":         func(a *accessLine) { a.clientIP = netip.Addr{} },
		"ipv6 address":       func(a *accessLine) { a.clientIP = netip.MustParseAddr("2001:db8::1:0:0:1") },
		"delete char":        func(a *accessLine) { a.userAgent = "\x7f" },
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			a := base
			edit(&a)
			require.True(t, a.encodable())
			assert.Equal(t, string(slogLine(t, &a)), string(a.appendJSON(nil, &secondCache{})))
		})
	}
}

func TestAccessLineOutOfRangeYearIsLeftToSlog(t *testing.T) {
	a := accessLine{time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}
	assert.False(t, a.encodable())
	a.time = time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)
	assert.False(t, a.encodable())
	a.time = time.Time{} // slog leaves the time out
	assert.False(t, a.encodable())
}

// FuzzAccessLine checks that the fast encoder writes exactly what slog.JSONHandler
// writes, for any request data a client controls (method, path, user agent, request
// ID, client address) and any status, size, duration, time and zone. One cache serves
// every input, as one handler serves every request.
func FuzzAccessLine(f *testing.F) {
	f.Add("GET", "/api/formulas", "curl/8.5.0", "req-1", []byte{203, 0, 113, 9}, 200, int64(3072), int64(1234), int64(1764667800123456789), int8(0), false)
	f.Add("P\"OST", "/a\nb\xff", "x\u2028\x00", "", []byte{}, 500, int64(-1), int64(0), int64(0), int8(-20), true)
	f.Add("GET", "/", "", "", []byte{0x20, 1, 0xd, 0xb8, 15: 1}, 304, int64(0), int64(1), int64(1764667800123456789), int8(4), false)
	clock := &secondCache{}
	f.Fuzz(func(t *testing.T, method, path, ua, id string, ip []byte, status int, n, micros, unixNano int64, zone int8, aborted bool) {
		loc := time.UTC
		if zone != 0 {
			loc = time.FixedZone("Z"+strconv.Itoa(int(zone)), int(zone)*900)
		}
		addr, _ := netip.AddrFromSlice(ip)
		a := accessLine{
			time: time.Unix(0, unixNano).In(loc), level: slog.LevelInfo, method: method, route: path,
			path: path, status: status, bytes: n, durationMS: float64(micros) / 1000,
			requestID: id, traceID: id, clientIP: addr, userAgent: ua, aborted: aborted,
		}
		if !a.encodable() {
			return
		}
		got := a.appendJSON(nil, clock)
		require.Equal(t, string(slogLine(t, &a)), string(got))
		require.True(t, json.Valid(got), "%q", got)
	})
}

// TestSecondCacheFormatsLikeTime formats a run of instants that share seconds, cross
// seconds, change zone and carry a monotonic reading, as time.RFC3339Nano would.
func TestSecondCacheFormatsLikeTime(t *testing.T) {
	var c secondCache
	cet := time.FixedZone("CET", 3600)
	base := time.Date(2026, 3, 29, 0, 59, 59, 0, time.UTC)
	for i, tt := range []time.Time{
		base, base.Add(1), base.Add(999_999_999), base.Add(time.Second), base.Add(time.Second).In(cet),
		base.Add(time.Second + 120_000_000), base.Add(time.Second + 120_000_000).In(cet),
		time.Now(), time.Now().Local(), time.Date(0, 1, 1, 0, 0, 0, 5, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, cet),
	} {
		want := tt.Round(0).Format(time.RFC3339Nano)
		assert.Equal(t, want, string(c.appendRFC3339Nano(nil, tt)), "instant %d", i)
	}
}

// timeField matches the time of a line, the one field that differs between two runs.
var timeField = regexp.MustCompile(`^\{"time":"[^"]*",`)

// TestJSONHandlerAccessLinesEqualSlog serves the same requests through an Observer
// logging to NewJSONLogger (fast path) and one logging to slog.NewJSONHandler, and
// expects the same lines but for their time.
func TestJSONHandlerAccessLinesEqualSlog(t *testing.T) {
	var fast, ref bytes.Buffer
	clock := func() time.Time { return time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC) }
	cfgs := []Config{
		{Logger: NewJSONLogger(&fast, slog.LevelInfo), Now: clock, TrustedProxies: []string{"192.0.2.1"}},
		{Logger: slog.New(slog.NewJSONHandler(&ref, nil)), Now: clock, TrustedProxies: []string{"192.0.2.1"}},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ok/{id}", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("hello")) })
	mux.HandleFunc("GET /abort", func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) })
	for _, cfg := range cfgs {
		h := mustNew(t, cfg).Handler(mux)
		for _, target := range []string{"/ok/1", "/missing", "/abort"} {
			r := httptest.NewRequest(http.MethodGet, target, nil)
			r.RemoteAddr = "192.0.2.1:1234"
			r.Header.Set("X-Forwarded-For", "198.51.100.7")
			r.Header.Set("X-Request-Id", "fixed-id")
			r.Header.Set("Traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
			r.Header.Set("User-Agent", "tést \"agent\"\n")
			func() {
				defer func() { _ = recover() }()
				h.ServeHTTP(httptest.NewRecorder(), r)
			}()
		}
	}
	strip := func(b []byte) []string {
		var out []string
		for _, l := range strings.SplitAfter(string(b), "\n") {
			if l != "" {
				out = append(out, timeField.ReplaceAllString(l, `{`))
			}
		}
		return out
	}
	require.Len(t, strip(fast.Bytes()), 3)
	assert.Equal(t, strip(ref.Bytes()), strip(fast.Bytes()))
}

// TestContextHandlerAccessLineHasOneRequestID: the access line already carries the
// request fields, so ContextHandler must not add them a second time.
func TestContextHandlerAccessLineHasOneRequestID(t *testing.T) {
	for name, wrap := range map[string]func(*bytes.Buffer) slog.Handler{
		"fast":  func(b *bytes.Buffer) slog.Handler { return ContextHandler(NewJSONLogger(b, nil).Handler()) },
		"other": func(b *bytes.Buffer) slog.Handler { return ContextHandler(slog.NewJSONHandler(b, nil)) },
	} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			o := mustNew(t, Config{Logger: slog.New(wrap(&buf))})
			r := httptest.NewRequest(http.MethodGet, "/x", nil)
			r.Header.Set("Traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
			o.Handler(http.NotFoundHandler()).ServeHTTP(httptest.NewRecorder(), r)
			line := buf.String()
			assert.Equal(t, 1, strings.Count(line, `"request_id"`), line)
			assert.Equal(t, 1, strings.Count(line, `"trace_id"`), line)
		})
	}
}

// lineWriter fails the test when two Write calls overlap, and checks each is one line.
type lineWriter struct {
	t      *testing.T
	mu     sync.Mutex // guards lines only: overlap detection must not serialize
	busy   chan struct{}
	lines  int
	broken int
}

func (w *lineWriter) Write(p []byte) (int, error) {
	select {
	case w.busy <- struct{}{}:
	default:
		w.t.Error("concurrent Write calls")
		return len(p), nil
	}
	defer func() { <-w.busy }()
	time.Sleep(10 * time.Microsecond) // widen the window an unserialized writer would hit
	w.mu.Lock()
	defer w.mu.Unlock()
	w.lines++
	if !json.Valid(p) || bytes.Count(p, []byte("\n")) != 1 {
		w.broken++
	}
	return len(p), nil
}

// TestJSONHandlerSerializesWrites logs access lines (fast path) and handler records
// (slog path) from many goroutines to a writer that is not safe for concurrent use.
func TestJSONHandlerSerializesWrites(t *testing.T) {
	w := &lineWriter{t: t, busy: make(chan struct{}, 1)}
	logger := NewJSONLogger(w, slog.LevelInfo)
	o := mustNew(t, Config{Logger: logger})
	h := o.Handler(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		Logger(r.Context()).Info("inside", "k", "v")
	}))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 25 {
				h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 8*25*2, w.lines)
	assert.Zero(t, w.broken)
}

func TestNewJSONLoggerLevelAndDerivedHandlers(t *testing.T) {
	var buf bytes.Buffer
	h := NewJSONLogger(&buf, slog.LevelWarn).Handler()
	assert.False(t, h.Enabled(context.Background(), slog.LevelInfo))
	assert.True(t, h.Enabled(context.Background(), slog.LevelWarn))
	assert.True(t, NewJSONLogger(&buf, nil).Enabled(context.Background(), slog.LevelInfo))

	// A handler with attributes is no longer the fast one: access lines go through slog
	// and keep the attributes.
	o := mustNew(t, Config{Logger: slog.New(h.WithAttrs([]slog.Attr{slog.String("service", "api")}))})
	o.Handler(http.NotFoundHandler()).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	assert.Contains(t, buf.String(), `"service":"api"`)
	assert.Contains(t, buf.String(), `"msg":"http request"`)
}

// BenchmarkAccessLine compares writing one access line through slog.JSONHandler with the
// fast path of NewJSONLogger, alternately in one loop; fast-vs-slog is the fast path's
// share of slog's time (lower is better).
func BenchmarkAccessLine(b *testing.B) {
	a := accessLine{
		time: time.Now(), level: slog.LevelInfo, method: "GET", route: "GET /api/formulas",
		path: "/api/formulas", status: 200, bytes: 1043, durationMS: 0.412,
		requestID: "4bf92f3577b34da6a3ce929d0e0e4736", clientIP: netip.MustParseAddr("198.51.100.7"),
		userAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
	}
	ref := slog.NewJSONHandler(io.Discard, nil)
	fast := NewJSONLogger(io.Discard, nil).Handler().(*jsonHandler)
	ctx := context.Background()
	var slogNS, fastNS time.Duration
	b.ReportAllocs()
	for b.Loop() {
		t0 := time.Now()
		r := slog.NewRecord(a.time, a.level, accessMessage, 0)
		r.AddAttrs(a.attrs(make([]slog.Attr, 0, 14))...)
		_ = ref.Handle(ctx, r)
		t1 := time.Now()
		fast.writeAccess(&a)
		t2 := time.Now()
		slogNS += t1.Sub(t0)
		fastNS += t2.Sub(t1)
	}
	b.ReportMetric(float64(slogNS.Nanoseconds())/float64(b.N), "slog-ns/line")
	b.ReportMetric(float64(fastNS.Nanoseconds())/float64(b.N), "fast-ns/line")
	b.ReportMetric(float64(fastNS)/float64(slogNS), "fast-vs-slog")
}
