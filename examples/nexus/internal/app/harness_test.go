package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/nexus-reussite/harden/examples/nexus/internal/auth"
	"github.com/nexus-reussite/harden/examples/nexus/internal/config"
	"github.com/nexus-reussite/harden/examples/nexus/internal/domain"
	"github.com/nexus-reussite/harden/examples/nexus/internal/httpapi"
	"github.com/nexus-reussite/harden/examples/nexus/internal/httpapi/openapitest"
	"github.com/nexus-reussite/harden/examples/nexus/internal/servicetest"
	"github.com/nexus-reussite/harden/examples/nexus/internal/store"
)

const demoPassword = "demo-password-for-tests"

// healthToken is HEALTH_TOKEN of every test server: it unlocks the details of /health.
const healthToken = "health-token-for-tests"

// The demo accounts.
const (
	demoAdmin   = store.DemoAdmin
	demoTeacher = store.DemoTeacher
	demoParent  = store.DemoParent
	demoStudent = store.DemoStudent
)

// Valid production secrets.
const (
	goodSecret    = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a6978"
	goodJWTSecret = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718"
)

// cspReportPath receives the browsers' CSP violation reports.
const cspReportPath = "/api/csp-report"

// relaxedRouteRules lift the login and register limits for tests that are not about them.
var relaxedRouteRules = map[string]string{"login": "10000 per minute", "register": "10000 per minute"}

func lookupMap(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// backend describes where a test server keeps its state.
type backend struct {
	name string
	env  map[string]string // DATABASE_URL, REDIS_URL
	// prefix isolates this test's Redis keys; instances sharing a backend share it.
	prefix string
}

// sqliteBackend is a fresh SQLite file; no Redis.
func sqliteBackend(t *testing.T) backend {
	return backend{name: "sqlite", env: map[string]string{"DATABASE_URL": "sqlite://" + filepath.Join(t.TempDir(), "nexus.db")}}
}

// postgresRedisBackend is a fresh PostgreSQL database and a private Redis key prefix.
func postgresRedisBackend(t *testing.T) backend {
	dsn := servicetest.Postgres(t)
	prefix := servicetest.RedisPrefix(t)
	return backend{name: "postgres+redis", env: map[string]string{"DATABASE_URL": dsn, "REDIS_URL": servicetest.RedisURL()}, prefix: prefix}
}

// eachBackend runs f once on SQLite and once on PostgreSQL + Redis.
func eachBackend(t *testing.T, f func(t *testing.T, be backend)) {
	t.Run("sqlite", func(t *testing.T) { f(t, sqliteBackend(t)) })
	t.Run("postgres+redis", func(t *testing.T) { f(t, postgresRedisBackend(t)) })
}

// testClock is a settable clock: real time plus an offset.
type testClock struct{ offset atomic.Int64 }

func (c *testClock) now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *testClock) advance(d time.Duration) { c.offset.Add(int64(d)) }

// testServer is the real backend behind an httptest server.
type testServer struct {
	t     *testing.T
	app   *App
	srv   *httptest.Server
	clock *testClock
	logs  *servicetest.LogBuffer
}

// newTestServer starts the backend on be with extra environment variables. The default
// rate limit is raised so tests that are not about limits do not trip it.
func newTestServer(t *testing.T, be backend, env map[string]string) *testServer {
	t.Helper()
	return newTestServerOpts(t, be, env, Options{RouteRules: relaxedRouteRules})
}

// newTestServerOpts is newTestServer with app options; bcrypt cost, Redis prefix and
// clock are filled in.
func newTestServerOpts(t *testing.T, be backend, env map[string]string, opt Options) *testServer {
	t.Helper()
	s, err := startTestServer(t, be, env, opt)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// openAPI checks every exchange of the test servers' clients against the API's OpenAPI
// document, loaded once.
var openAPI = sync.OnceValues(func() (*openapitest.Validator, error) { return openapitest.New(httpapi.OpenAPI()) })

// startTestServer starts the backend; it reports errors instead of failing t, so it may
// run on goroutines other than the test's.
func startTestServer(t *testing.T, be backend, env map[string]string, opt Options) (*testServer, error) {
	vars := map[string]string{
		"APP_ENV":             "development",
		"NEXUS_DEMO_PASSWORD": demoPassword,
		"RATELIMIT_DEFAULT":   "100000 per hour",
		// Tests that are not about load shedding run many hashes or questions at once.
		"HASH_CONCURRENCY": "4096",
		"ARIA_CONCURRENCY": "4096",
		"LOG_LEVEL":        "debug",
		"HEALTH_TOKEN":     healthToken,
	}
	if be.prefix != "" {
		vars["REDIS_PREFIX"] = be.prefix
	}
	for k, v := range be.env {
		vars[k] = v
	}
	for k, v := range env {
		vars[k] = v
	}
	cfg, err := config.Load(lookupMap(vars))
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	described, err := openAPI()
	if err != nil {
		return nil, err
	}
	// Instances sharing a backend must share signing keys, as replicas do.
	if vars["JWT_SECRET_KEY"] == "" {
		cfg.JWTSecretKey = "test-jwt-key-" + be.name + be.prefix
		cfg.SecretKey = "test-secret-key-" + be.name + be.prefix
	}
	clock := &testClock{}
	logs := &servicetest.LogBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opt.BcryptCost, opt.Now = bcrypt.MinCost, clock.now
	a, err := New(context.Background(), cfg, log, opt)
	if err != nil {
		return nil, fmt.Errorf("New: %w", err)
	}
	a.api.Health().Start(context.Background())
	srv := httptest.NewServer(a.Handler())
	// Every exchange of the test client is checked against the OpenAPI document.
	srv.Client().Transport = described.Transport(t, srv.Client().Transport)
	ts := &testServer{t: t, app: a, srv: srv, clock: clock, logs: logs}
	t.Cleanup(func() {
		srv.Close()
		a.api.Flush()
		if err := a.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		if t.Failed() {
			lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
			t.Logf("last server logs:\n%s", strings.Join(lines[max(0, len(lines)-15):], "\n"))
		}
	})
	return ts, nil
}

// response is a read HTTP response.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r *response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object (status %d): %q", r.status, r.body)
	}
	return m
}

// request sends method path with an optional bearer token and body (marshalled to JSON
// unless it is a string, []byte or io.Reader, sent as is with Content-Type
// application/json).
func (s *testServer) request(method, path, token string, body any, hdr ...string) *response {
	s.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	case io.Reader:
		rd = b
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			s.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, s.srv.URL+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "Host" {
			req.Host = hdr[i+1]
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	client := *s.srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: raw}
}

// expect sends the request and fails unless the status is want.
func (s *testServer) expect(want int, method, path, token string, body any, hdr ...string) *response {
	s.t.Helper()
	r := s.request(method, path, token, body, hdr...)
	if r.status != want {
		s.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, r.status, want, r.body)
	}
	if want >= 400 && r.header.Get("Content-Type") != "application/problem+json" {
		s.t.Fatalf("%s %s: error Content-Type %q, want application/problem+json", method, path, r.header.Get("Content-Type"))
	}
	return r
}

// login returns the token pair of a user.
func (s *testServer) login(email, password string) auth.TokenPair {
	s.t.Helper()
	r := s.expect(http.StatusOK, "POST", "/api/auth/login", "", map[string]string{"email": email, "password": password})
	var p auth.TokenPair
	if err := json.Unmarshal(r.body, &p); err != nil {
		s.t.Fatal(err)
	}
	if p.AccessToken == "" || p.RefreshToken == "" || p.TokenType != "Bearer" || p.ExpiresIn != 3600 {
		s.t.Fatalf("login response %s", r.body)
	}
	return p
}

// demoTokens logs in every demo user and returns their access tokens by role.
func (s *testServer) demoTokens() map[domain.Role]string {
	s.t.Helper()
	return map[domain.Role]string{
		domain.RoleAdmin:   s.login(demoAdmin, demoPassword).AccessToken,
		domain.RoleTeacher: s.login(demoTeacher, demoPassword).AccessToken,
		domain.RoleParent:  s.login(demoParent, demoPassword).AccessToken,
		domain.RoleStudent: s.login(demoStudent, demoPassword).AccessToken,
	}
}

// userID looks up a user's id by email.
func (s *testServer) userID(email string) int64 {
	s.t.Helper()
	var id int64
	if err := s.app.db.Pool().QueryRowContext(context.Background(), `SELECT id FROM users WHERE email = $1`, email).Scan(&id); err != nil {
		s.t.Fatalf("user %s: %v", email, err)
	}
	return id
}

// num reads a JSON number field.
func num(t *testing.T, m map[string]any, key string) int64 {
	t.Helper()
	f, ok := m[key].(float64)
	if !ok {
		t.Fatalf("field %q is %T (%v), want a number", key, m[key], m[key])
	}
	return int64(f)
}

// nextSlot is a whole hour at least a day ahead within the default booking hours
// (08:00-21:00, Africa/Tunis), distinct per call within a test: n in [0, 12) is the hour
// from 09:00 two days ahead, further n the days after.
func nextSlot(now time.Time, n int) time.Time {
	tunis, err := time.LoadLocation(domain.DefaultBookingTimezone)
	if err != nil {
		panic(err)
	}
	d := now.In(tunis).AddDate(0, 0, 2+n/12)
	return time.Date(d.Year(), d.Month(), d.Day(), 9+n%12, 0, 0, 0, tunis).UTC()
}
