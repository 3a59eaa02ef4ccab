package stack

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// servedRequest is the request of the load generators as it reaches the server: one
// client behind the trusted loopback proxy, over HTTPS.
func servedRequest(acceptEncoding string) []byte {
	return []byte("GET /api/formulas HTTP/1.1\r\nHost: api.example.com\r\nAccept-Encoding: " + acceptEncoding +
		"\r\nX-Forwarded-Proto: https\r\nX-Forwarded-For: 198.51.100.7\r\n\r\n")
}

// served is one handler behind its own http.Server on a replayListener.
type served struct {
	name    string
	ln      *replayListener
	took    time.Duration
	refused int
}

// serveHandler starts an http.Server for h, stopped when the test ends.
func serveHandler(tb testing.TB, name string, h http.Handler) *served {
	tb.Helper()
	s := &served{name: name, ln: newReplayListener()}
	srv := &http.Server{Handler: h}
	// The label names the subject in CPU profiles: go tool pprof -tagfocus 'served=^<name>$'.
	go pprof.Do(context.Background(), pprof.Labels("served", name), func(context.Context) { _ = srv.Serve(s.ln) })
	tb.Cleanup(func() { _ = srv.Close() })
	return s
}

// startServed builds the named stack and serves it.
func startServed(tb testing.TB, name string, body []byte) *served {
	tb.Helper()
	h, err := Build(name, body, Options{})
	require.NoError(tb, err)
	return serveHandler(tb, name, h)
}

// servedTurns serves req to the subjects in turns, chunks of 100 requests on a new
// connection each, so machine load hits all alike, and reports <name>-ns/op (mean time
// of one request) and <name>-allocs/op (net/http's allocations included, counted outside
// the timed loop). It returns the ns/op of each, and fails when any response was not a
// 200: a refused request is not the work being compared.
func servedTurns(b *testing.B, subjects []*served, req []byte) map[string]float64 {
	const chunk = 100
	allocs := map[string]float64{}
	for _, s := range subjects {
		c := s.ln.serve(req, 2, true) // and fills the caches of cached stacks
		require.True(b, bytes.HasPrefix(c.out.Bytes(), []byte("HTTP/1.1 200 ")), "%s: %.40q", s.name, c.out.Bytes())
		allocs[s.name] = testing.AllocsPerRun(5, func() { s.ln.serve(req, chunk, false) }) / chunk
	}
	b.ReportAllocs()
	round := 0
	for b.Loop() {
		for i := range subjects {
			s := subjects[(round+i)%len(subjects)]
			start := time.Now()
			c := s.ln.serve(req, chunk, false)
			s.took += time.Since(start)
			s.refused += c.refused
		}
		round++
	}
	ns := map[string]float64{}
	for _, s := range subjects {
		if s.refused > 0 {
			b.Fatalf("%s answered %d of %d requests with a status other than 200", s.name, s.refused, round*chunk)
		}
		ns[s.name] = float64(s.took.Nanoseconds()) / float64(round*chunk)
		b.ReportMetric(ns[s.name], s.name+"-ns/op")
		b.ReportMetric(allocs[s.name], s.name+"-allocs/op")
	}
	return ns
}

// TestServedStacksAnswerEveryRequest proves the replayed connection carries whole
// requests and responses through a real http.Server: every stack answers each of three
// requests on one connection with 200 and the payload, the cached stacks the later ones
// from the cache.
func TestServedStacksAnswerEveryRequest(t *testing.T) {
	body := Payload(3072)
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			s := startServed(t, name, body)
			c := s.ln.serve(servedRequest("gzip"), 3, true)
			br := bufio.NewReader(c.out)
			for i := range 3 {
				resp, err := http.ReadResponse(br, nil)
				require.NoError(t, err, "response %d", i)
				require.Equal(t, http.StatusOK, resp.StatusCode, "response %d", i)
				assert.Equal(t, body, decoded(t, resp.Header.Get("Content-Encoding"), resp.Body), "response %d", i)
				if name == "defaults-cached" {
					assert.Equal(t, i > 0, resp.Header.Get("Age") != "", "response %d: only hits have an Age", i)
				}
			}
			_, err := br.Peek(1)
			assert.ErrorIs(t, err, io.EOF, "three responses, nothing more")
		})
	}
}

// TestReplayConnCountsRefusals proves a response other than 200 is counted, so the
// benchmarks cannot time refusals as if they were answers.
func TestReplayConnCountsRefusals(t *testing.T) {
	n := 0
	s := serveHandler(t, "second-refused", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if n++; n == 2 {
			http.Error(w, "slow down", http.StatusTooManyRequests)
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	c := s.ln.serve(servedRequest("gzip"), 3, false)
	assert.Equal(t, 1, c.refused)
	assert.Equal(t, 3, n)
}

// BenchmarkStackServed serves the stacks through a real http.Server, over an in-memory
// keep-alive connection (replayConn) instead of calling their handlers: what net/http
// does per request and response (parsing, a fresh header map grown to the response's
// fields, its clone, sorting and writing, the background read) is in every figure, the
// kernel and the client are not. Stacks take turns in chunks of 100 requests on a new
// connection (servedTurns). Metrics, per Accept-Encoding:
//
//   - <stack>-ns/op: mean time of one request through that stack;
//   - <stack>-allocs/op: allocations per request, net/http's included (outside the
//     timed loop);
//   - defaults-vs-peer-speed, defaults-cached-vs-bare-speed,
//     defaults-vs-gzip-only-speed: the ratios the load targets name (higher is faster),
//     without the kernel and the generator sharing the machine.
//
// Targets are stated in benchmarks/README.md, never asserted.
func BenchmarkStackServed(b *testing.B) {
	for _, ae := range []struct{ name, value string }{
		{"gzip", "gzip"},
		{"browser", "gzip, deflate, br, zstd"},
	} {
		b.Run(ae.name, func(b *testing.B) { benchServed(b, servedRequest(ae.value)) })
	}
}

func benchServed(b *testing.B, req []byte) {
	body := Payload(3072)
	var subjects []*served
	for _, name := range Names() {
		subjects = append(subjects, startServed(b, name, body))
	}
	ns := servedTurns(b, subjects, req)
	b.ReportMetric(ns["peer"]/ns["defaults"], "defaults-vs-peer-speed")
	b.ReportMetric(ns["bare"]/ns["defaults-cached"], "defaults-cached-vs-bare-speed")
	b.ReportMetric(ns["gzip-only"]/ns["defaults"], "defaults-vs-gzip-only-speed")
}
