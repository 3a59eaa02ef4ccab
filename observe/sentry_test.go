package observe

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nexus-reussite/harden/internal/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ingest is a Sentry ingestion endpoint: it accepts envelopes over HTTP exactly as
// sentry.io does and keeps every item it received.
type ingest struct {
	srv *httptest.Server

	mu    sync.Mutex
	raw   [][]byte
	items []envelopeItem
	paths []string
}

type envelopeItem struct {
	Type    string
	Payload map[string]any
}

func newIngest(t *testing.T) *ingest {
	in := &ingest{}
	in.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		items, err := parseEnvelope(body)
		if err != nil {
			t.Errorf("malformed envelope: %v\n%s", err, body)
			http.Error(w, err.Error(), 400)
			return
		}
		in.mu.Lock()
		in.raw = append(in.raw, body)
		in.items = append(in.items, items...)
		in.paths = append(in.paths, r.Method+" "+r.URL.Path)
		in.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(in.srv.Close)
	return in
}

func (in *ingest) dsn(hostport string) string {
	return "http://publickey@" + hostport + "/42"
}

func (in *ingest) ofType(typ string) []map[string]any {
	in.mu.Lock()
	defer in.mu.Unlock()
	var out []map[string]any
	for _, it := range in.items {
		if it.Type == typ {
			out = append(out, it.Payload)
		}
	}
	return out
}

func (in *ingest) rawAll() string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return string(bytes.Join(in.raw, []byte("\n")))
}

// parseEnvelope reads the Sentry envelope format: a header line, then items made of a
// header line and a payload of the given length (or up to the next newline).
func parseEnvelope(b []byte) ([]envelopeItem, error) {
	r := bufio.NewReader(bytes.NewReader(b))
	header, err := r.ReadBytes('\n')
	if err != nil {
		return nil, fmt.Errorf("envelope header: %w", err)
	}
	var eh map[string]any
	if err := json.Unmarshal(header, &eh); err != nil {
		return nil, fmt.Errorf("envelope header: %w", err)
	}
	var items []envelopeItem
	for {
		line, err := r.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) == 0 && err != nil {
			return items, nil
		}
		var ih struct {
			Type   string `json:"type"`
			Length *int   `json:"length"`
		}
		if err := json.Unmarshal(line, &ih); err != nil {
			return nil, fmt.Errorf("item header %q: %w", line, err)
		}
		var payload []byte
		if ih.Length != nil {
			payload = make([]byte, *ih.Length)
			if _, err := io.ReadFull(r, payload); err != nil {
				return nil, fmt.Errorf("item payload: %w", err)
			}
			_, _ = r.ReadByte() // trailing newline, if any
		} else {
			payload, _ = r.ReadBytes('\n')
		}
		var p map[string]any
		if err := json.Unmarshal(payload, &p); err != nil {
			return nil, fmt.Errorf("item %s payload: %w", ih.Type, err)
		}
		items = append(items, envelopeItem{Type: ih.Type, Payload: p})
	}
}

func dig(m any, path ...string) any {
	for _, k := range path {
		mm, ok := m.(map[string]any)
		if !ok {
			return nil
		}
		m = mm[k]
	}
	return m
}

func TestSentryPanicAndTransactionReachIngestion(t *testing.T) {
	in := newIngest(t)
	o := mustNew(t, Config{
		SentryDSN:        in.dsn(in.srv.Listener.Addr().String()),
		Environment:      "production",
		Release:          "nexus@1.2.3",
		TracesSampleRate: 1,
		ScrubHeaders:     []string{"X-Internal-Token"},
		ScrubQueryParams: []string{"ssn"},
		ScrubValues:      []string{"sk-live-0123456789"},
	})
	mux := http.NewServeMux()
	mux.HandleFunc("POST /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		panic(errors.New("upstream refused key sk-live-0123456789"))
	})
	mux.HandleFunc("GET /ok/{id}", func(w http.ResponseWriter, r *http.Request) {})
	srv := httptest.NewServer(o.Handler(mux))
	defer srv.Close()

	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	req, _ := http.NewRequest("POST", srv.URL+"/items/77?token=tok-qqq&page=2&SSN=123-45&password=pw-zzz",
		strings.NewReader(`{"password":"body-secret"}`))
	req.Header.Set("Authorization", "Bearer bearer-abc")
	req.Header.Set("Cookie", "session=cookie-xyz")
	req.Header.Set("X-Internal-Token", "internal-tok")
	req.Header.Set("X-Api-Key", "apikey-123")
	req.Header.Set("X-Request-ID", "rid-sentry")
	req.Header.Set("Traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 500, resp.StatusCode)

	resp, err = srv.Client().Get(srv.URL + "/ok/5")
	require.NoError(t, err)
	resp.Body.Close()

	require.NoError(t, o.Shutdown(context.Background()))

	events := in.ofType("event")
	require.Len(t, events, 1, "one error event")
	ev := events[0]
	assert.Equal(t, "production", ev["environment"])
	assert.Equal(t, "nexus@1.2.3", ev["release"])
	assert.Equal(t, "POST /items/{id}", ev["transaction"])
	assert.Equal(t, "rid-sentry", dig(ev, "tags", "request_id"))
	assert.Equal(t, traceID, dig(ev, "contexts", "trace", "trace_id"), "error joins the caller's trace")
	excList, _ := ev["exception"].([]any)
	require.NotEmpty(t, excList, "exception present: %v", ev)
	last := excList[len(excList)-1].(map[string]any)
	assert.Equal(t, "upstream refused key [Filtered]", last["value"])
	assert.Equal(t, false, dig(last, "mechanism", "handled"), "reported as an unhandled panic")

	headers := dig(ev, "request", "headers").(map[string]any)
	for _, h := range []string{"Authorization", "X-Internal-Token", "X-Api-Key"} {
		if v, ok := headers[h]; ok {
			assert.Equal(t, Filtered, v, h)
		}
	}
	assert.NotContains(t, headers, "Cookie")
	assert.Empty(t, dig(ev, "request", "cookies"))
	assert.Empty(t, dig(ev, "request", "data"), "request bodies are never sent")
	qs, _ := dig(ev, "request", "query_string").(string)
	assert.Contains(t, qs, "page=2")

	txs := in.ofType("transaction")
	require.Len(t, txs, 2)
	names := map[string]map[string]any{}
	for _, tx := range txs {
		names[tx["transaction"].(string)] = tx
	}
	require.Contains(t, names, "POST /items/{id}")
	require.Contains(t, names, "GET /ok/{id}")
	tx := names["POST /items/{id}"]
	assert.Equal(t, "route", dig(tx, "transaction_info", "source"))
	assert.Equal(t, traceID, dig(tx, "contexts", "trace", "trace_id"))
	assert.Equal(t, "internal_error", dig(tx, "contexts", "trace", "status"))
	assert.Equal(t, "http.server", dig(tx, "contexts", "trace", "op"))
	assert.Equal(t, "ok", dig(names["GET /ok/{id}"], "contexts", "trace", "status"))
	assert.NotEqual(t, traceID, dig(names["GET /ok/{id}"], "contexts", "trace", "trace_id"), "a request without traceparent starts its own trace")

	raw := in.rawAll()
	for _, secret := range []string{"bearer-abc", "cookie-xyz", "internal-tok", "apikey-123", "tok-qqq", "123-45", "pw-zzz", "body-secret", "sk-live-0123456789"} {
		assert.NotContains(t, raw, secret, "secret reached Sentry")
	}
	for _, p := range in.paths {
		assert.Equal(t, "POST /api/42/envelope/", p)
	}
}

func TestSentryTraceIDFromTransactionWithoutTraceparent(t *testing.T) {
	in := newIngest(t)
	reg := newRegistry()
	o := mustNew(t, Config{SentryDSN: in.dsn(in.srv.Listener.Addr().String()), TracesSampleRate: 1, Registerer: reg})
	var seen string
	o.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = TraceID(r.Context())
	})).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	require.NoError(t, o.Shutdown(context.Background()))
	require.NoError(t, o.Shutdown(context.Background()), "Shutdown is idempotent")
	assert.Regexp(t, hex32, seen)
	txs := in.ofType("transaction")
	require.Len(t, txs, 1)
	assert.Equal(t, seen, dig(txs[0], "contexts", "trace", "trace_id"), "logs, exemplars and Sentry share one trace ID")
	assert.Equal(t, "unmatched", txs[0]["transaction"])
}

func TestSentryErrorsOnlyWhenNoTracing(t *testing.T) {
	in := newIngest(t)
	o := mustNew(t, Config{SentryDSN: in.dsn(in.srv.Listener.Addr().String())})
	h := o.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/boom" {
			panic("x")
		}
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/ok", nil))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/boom", nil))
	require.NoError(t, o.Shutdown(context.Background()))
	assert.Len(t, in.ofType("event"), 1)
	assert.Empty(t, in.ofType("transaction"))
}

func TestSentryOffWithoutDSN(t *testing.T) {
	o := mustNew(t, Config{})
	assert.Nil(t, o.sentry)
	assert.NoError(t, o.Shutdown(context.Background()))
}

// Fault: the ingestion endpoint becomes unreachable. Requests are still answered at once
// (reporting never blocks serving), and once the path is restored new events arrive.
func TestSentryIngestionOutage(t *testing.T) {
	in := newIngest(t)
	proxy := testenv.StartProxy(t, in.srv.Listener.Addr().String())
	o := mustNew(t, Config{SentryDSN: in.dsn(proxy.Addr()), FlushTimeout: 3 * time.Second})
	h := o.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		panic("failure during " + r.URL.Path)
	}))

	proxy.Cut()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/during-outage", nil))
	assert.Equal(t, 500, rec.Code)
	// The event is attempted while the path is cut; wait for that attempt to fail.
	require.Eventually(t, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		return o.sentry.FlushWithContext(ctx)
	}, timeoutShort, tick)
	assert.Empty(t, in.ofType("event"), "nothing got through the cut")

	proxy.Restore()
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/after-restore", nil))
	assert.Equal(t, 500, rec.Code)
	require.NoError(t, o.Shutdown(context.Background()))
	events := in.ofType("event")
	require.Len(t, events, 1)
	excList, _ := events[0]["exception"].([]any)
	require.Len(t, excList, 1)
	assert.Equal(t, "panic", dig(excList[0], "type"))
	assert.Equal(t, "failure during /after-restore", dig(excList[0], "value"))
	frames, _ := dig(excList[0], "stacktrace", "frames").([]any)
	assert.NotEmpty(t, frames, "stack trace attached")
}

// Shutdown is bounded: an ingestion endpoint that never answers costs FlushTimeout, not
// the process's exit.
func TestSentryShutdownBounded(t *testing.T) {
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
	}))
	defer hang.Close()
	defer close(release)
	o := mustNew(t, Config{SentryDSN: "http://k@" + hang.Listener.Addr().String() + "/1", FlushTimeout: 200 * time.Millisecond})
	o.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("x") })).
		ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	start := time.Now()
	err := o.Shutdown(context.Background())
	assert.ErrorIs(t, err, ErrFlushTimeout)
	assert.Less(t, time.Since(start), 5*time.Second)
}

func TestScrubQuery(t *testing.T) {
	s := newScrubber(&Config{ScrubQueryParams: []string{"Session"}})
	assert.Equal(t, "a=1&token=%5BFiltered%5D&b=2&session=%5BFiltered%5D&Pass%77ord=%5BFiltered%5D&flag",
		s.query("a=1&token=x&b=2&session=y&Pass%77ord=z&flag"))
	assert.Equal(t, "", s.query(""))
	assert.Equal(t, "%zz=1", s.query("%zz=1"))
	ev := s.event(nil, nil)
	assert.Nil(t, ev)
}
