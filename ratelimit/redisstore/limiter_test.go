package redisstore_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-reussite/harden/internal/testenv"
	"github.com/nexus-reussite/harden/ratelimit"
	"github.com/nexus-reussite/harden/ratelimit/redisstore"
	"github.com/nexus-reussite/harden/ratelimit/store"
)

// backend is the application behind the limiter; it counts what reached it.
type backend struct{ hits atomic.Int64 }

func (b *backend) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	b.hits.Add(1)
	_, _ = io.WriteString(w, "ok")
}

func get(t *testing.T, url string) *http.Response {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp
}

// TestTwoInstancesShareExactCount runs two limiter instances, each with its own Redis
// client, in front of one backend; concurrent clients hitting both never get more than
// the limit through.
func TestTwoInstancesShareExactCount(t *testing.T) {
	for _, sliding := range []bool{false, true} {
		t.Run(map[bool]string{false: "fixed", true: "sliding"}[sliding], func(t *testing.T) {
			_, prefix := testenv.Redis(t)
			app := &backend{}
			var servers []*httptest.Server
			for range 2 {
				c, _ := testenv.Redis(t)
				rs, err := redisstore.New(c, redisstore.Config{Prefix: prefix, Timeout: 5 * time.Second})
				require.NoError(t, err)
				lim, err := ratelimit.New(ratelimit.Config{
					Name: "api", Rule: ratelimit.MustParseRule("50 per hour;1000 per day"),
					SlidingWindow: sliding, Store: rs, FailClosed: true,
				})
				require.NoError(t, err)
				srv := httptest.NewServer(lim.Handler(app))
				t.Cleanup(srv.Close)
				servers = append(servers, srv)
			}
			var ok, limited, other atomic.Int64
			var wg sync.WaitGroup
			for g := range 16 {
				wg.Go(func() {
					for i := range 25 {
						resp, err := http.Get(servers[(g+i)%2].URL)
						if err != nil {
							t.Error(err)
							return
						}
						_, _ = io.Copy(io.Discard, resp.Body)
						_ = resp.Body.Close()
						switch resp.StatusCode {
						case http.StatusOK:
							ok.Add(1)
						case http.StatusTooManyRequests:
							limited.Add(1)
						default:
							other.Add(1)
						}
					}
				})
			}
			wg.Wait()
			assert.Equal(t, int64(50), ok.Load(), "admitted across both instances")
			assert.Equal(t, int64(350), limited.Load())
			assert.Zero(t, other.Load())
			assert.Equal(t, int64(50), app.hits.Load(), "requests that reached the backend")
		})
	}
}

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func counter(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if v, ok := labels[lp.GetName()]; ok && v != lp.GetValue() {
					continue metrics
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

// TestRedisKilled kills the limiter's own redis-server mid-test: the failure policy
// applies without hanging, the breaker stops calls, and limiting resumes once Redis
// is back.
func TestRedisKilled(t *testing.T) {
	for _, failClosed := range []bool{false, true} {
		name := "fail-open"
		if failClosed {
			name = "fail-closed"
		}
		t.Run(name, func(t *testing.T) {
			srv := testenv.StartRedisServer(t)
			c := redis.NewClient(&redis.Options{Addr: srv.Addr(), MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
			t.Cleanup(func() { _ = c.Close() })
			rs, err := redisstore.New(c, redisstore.Config{Prefix: "test:", Timeout: 2 * time.Second, FailureThreshold: 3, Cooldown: 100 * time.Millisecond})
			require.NoError(t, err)
			reg := prometheus.NewRegistry()
			logs := &syncBuffer{}
			lim, err := ratelimit.New(ratelimit.Config{
				Name: "api", Rule: ratelimit.MustParseRule("3 per hour"), Store: rs,
				FailClosed: failClosed, Registerer: reg, Logger: slog.New(slog.NewJSONHandler(logs, nil)),
			})
			require.NoError(t, err)
			app := &backend{}
			ts := httptest.NewServer(lim.Handler(app))
			t.Cleanup(ts.Close)

			for i := range 3 {
				resp := get(t, ts.URL)
				require.Equal(t, http.StatusOK, resp.StatusCode, "request %d", i)
			}
			require.Equal(t, http.StatusTooManyRequests, get(t, ts.URL).StatusCode)

			srv.Kill()
			for i := range 20 {
				start := time.Now()
				resp := get(t, ts.URL)
				require.Less(t, time.Since(start), 5*time.Second, "request %d hung on the dead store", i)
				assert.Empty(t, resp.Header.Get("RateLimit-Policy"))
				if failClosed {
					require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
					assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
					assert.Equal(t, "1", resp.Header.Get("Retry-After"))
				} else {
					require.Equal(t, http.StatusOK, resp.StatusCode)
				}
			}
			assert.True(t, rs.CircuitOpen(), "breaker open after consecutive failures")
			assert.Equal(t, 20.0, counter(t, reg, "harden_ratelimit_store_errors_total", map[string]string{"limiter": "api"}))
			outcome := "failed_open"
			if failClosed {
				outcome = "failed_closed"
			}
			assert.Equal(t, 20.0, counter(t, reg, "harden_ratelimit_requests_total", map[string]string{"limiter": "api", "outcome": outcome}))
			assert.Equal(t, 1, strings.Count(logs.String(), "rate limit store failed"), "one log line per outage, not per request")

			require.NoError(t, srv.Start())
			// The restarted server is empty: once the breaker lets a probe through,
			// counting starts again from zero and the limit applies.
			require.Eventually(t, func() bool {
				return get(t, ts.URL).Header.Get("RateLimit-Policy") != ""
			}, 10*time.Second, 20*time.Millisecond, "store never recovered")
			assert.False(t, rs.CircuitOpen())
			assert.Equal(t, http.StatusOK, get(t, ts.URL).StatusCode)
			assert.Equal(t, http.StatusOK, get(t, ts.URL).StatusCode)
			assert.Equal(t, http.StatusTooManyRequests, get(t, ts.URL).StatusCode)
			assert.Contains(t, logs.String(), "rate limit store recovered")
		})
	}
}

// TestUnresponsiveRedisIsBounded puts a server that accepts connections and never
// answers in place of Redis: each call gives up after Timeout, even though the client
// does not enable context timeouts, and once the breaker opens calls fail at once.
func TestUnresponsiveRedisIsBounded(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	var held sync.WaitGroup
	t.Cleanup(held.Wait)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			held.Go(func() { _, _ = io.Copy(io.Discard, conn); _ = conn.Close() })
		}
	}()
	for _, ctxTimeouts := range []bool{false, true} {
		c := redis.NewClient(&redis.Options{Addr: ln.Addr().String(), MaxRetries: -1, ReadTimeout: 2 * time.Second,
			PoolTimeout: 3 * time.Second, ContextTimeoutEnabled: ctxTimeouts})
		t.Cleanup(func() { _ = ln.Close(); _ = c.Close() })
		rs, err := redisstore.New(c, redisstore.Config{Prefix: "test:", Timeout: 50 * time.Millisecond, FailureThreshold: 3, Cooldown: time.Hour})
		require.NoError(t, err)
		rule := ratelimit.MustParseRule("1 per second")
		for i := range 3 {
			start := time.Now()
			_, err := rs.Take(t.Context(), "k", rule, store.FixedWindow, 1)
			require.ErrorIs(t, err, store.ErrUnavailable)
			require.NotErrorIs(t, err, redisstore.ErrCircuitOpen, "call %d", i)
			require.Less(t, time.Since(start), time.Second, "call %d waited for the read timeout (ContextTimeoutEnabled %v)", i, ctxTimeouts)
		}
		for range 100 {
			_, err := rs.Take(t.Context(), "k", rule, store.FixedWindow, 1)
			require.ErrorIs(t, err, redisstore.ErrCircuitOpen)
		}
	}
}

// TestDenyBodyIsProblemJSON checks the 429 from a Redis-backed limiter end to end.
func TestDenyBodyIsProblemJSON(t *testing.T) {
	c, prefix := testenv.Redis(t)
	h, _ := redisLimited(t, c, prefix, "1 per minute")
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	require.Equal(t, http.StatusOK, get(t, ts.URL).StatusCode)
	resp, err := http.Get(ts.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	var body map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	assert.Equal(t, 429.0, body["status"])
	assert.Contains(t, body["detail"], "1 per minute")
	assert.Equal(t, "60", resp.Header.Get("Retry-After"))
	assert.Equal(t, `"default-1m";r=0;t=60`, resp.Header.Get("RateLimit"))
}

// TestLimitSharedThroughRedis is the flow of Example: a limiter on a Redis store admits
// two requests a minute, and keeps both windows of the rule in one Redis key under the
// store's prefix.
func TestLimitSharedThroughRedis(t *testing.T) {
	c, prefix := testenv.Redis(t)
	h, rs := redisLimited(t, c, prefix, "2 per minute;100 per day")
	var got []string
	for range 3 {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
		got = append(got, strconv.Itoa(w.Code)+" "+w.Header().Get("X-RateLimit-Remaining"))
	}
	assert.Equal(t, []string{"200 1", "200 0", "429 0"}, got)
	assert.Equal(t, []string{rs.Key("default:ip:192.0.2.1", store.FixedWindow)}, keys(t, c, prefix))
}

// TestServicesOnOneRedisKeepTheirOwnCounts runs two services on one Redis server, each
// with its own store prefix and both with the default limiter name: a client that spent
// its quota on one still has its whole quota on the other. A limiter given the first
// service's prefix shares its counts, as configured.
func TestServicesOnOneRedisKeepTheirOwnCounts(t *testing.T) {
	c, prefix := testenv.Redis(t)
	service := func(p string) http.Handler {
		h, _ := redisLimited(t, c, p, "2 per minute")
		return h
	}
	codes := func(h http.Handler, n int) []int {
		var out []int
		for range n {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
			out = append(out, w.Code)
		}
		return out
	}
	billing, search := service(prefix+"billing:"), service(prefix+"search:")
	assert.Equal(t, []int{200, 200, 429}, codes(billing, 3))
	assert.Equal(t, []int{200, 200, 429}, codes(search, 3), "search counts apart from billing")
	assert.Len(t, keys(t, c, prefix+"billing:"), 1)
	assert.Len(t, keys(t, c, prefix+"search:"), 1)

	billingReplica := service(prefix + "billing:")
	assert.Equal(t, []int{429}, codes(billingReplica, 1), "the same prefix shares the counts")
}

// redisLimited returns a backend behind a limiter of rule on a Redis store with prefix.
func redisLimited(t *testing.T, c *redis.Client, prefix, rule string) (http.Handler, *redisstore.Store) {
	t.Helper()
	rs, err := redisstore.New(c, redisstore.Config{Prefix: prefix, Timeout: 2 * time.Second})
	require.NoError(t, err)
	lim, err := ratelimit.New(ratelimit.Config{Rule: ratelimit.MustParseRule(rule), Store: rs, Headers: ratelimit.HeadersAll})
	require.NoError(t, err)
	return lim.Handler(&backend{}), rs
}

// keys lists the Redis keys under prefix.
func keys(t *testing.T, c *redis.Client, prefix string) []string {
	t.Helper()
	var out []string
	for it := c.Scan(t.Context(), 0, prefix+"*", 1000).Iterator(); it.Next(t.Context()); {
		out = append(out, it.Val())
	}
	return out
}
