package health_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/nexus-reussite/harden/health"
)

func Example() {
	h, err := health.New(health.Config{
		Checks: []health.Check{
			{Name: "db", Func: func(ctx context.Context) error { return nil }},
		},
	})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	srv := h.Handler(mux) // serves /live, /ready, /health before any route

	get := func(path string) {
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		fmt.Printf("%s %d %s", path, w.Code, w.Body)
	}
	get("/ready") // startup not complete yet
	h.Start(context.Background())
	get("/live")
	get("/ready")
	h.Drain() // SIGTERM: load balancers stop sending traffic
	get("/ready")
	get("/live")
	// Output:
	// /ready 503 {"status":"fail"}
	// /live 200 {"status":"pass"}
	// /ready 200 {"status":"pass"}
	// /ready 503 {"status":"fail"}
	// /live 200 {"status":"pass"}
}

// A server's whole lifecycle: checks, the endpoints in front of the routes, startup,
// details for the token holder, and a graceful shutdown.
func Example_server() {
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		panic(err)
	}
	defer db.Close()
	h, err := health.New(health.Config{
		Checks: []health.Check{
			health.SQL("database", db),
			health.Memory("memory", health.MemoryConfig{}),
		},
		Version: "1.4.2",
		Token:   "a-long-random-health-token",
	})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "hello") })
	srv := &http.Server{Handler: h.Handler(mux)} // /live, /ready, /health before any route
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go func() { _ = srv.Serve(ln) }()
	h.Start(context.Background()) // startup complete: /ready follows the checks

	get := func(path, token string) {
		req, _ := http.NewRequest(http.MethodGet, "http://"+ln.Addr().String()+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Println(path, "unreachable")
			return
		}
		defer resp.Body.Close()
		var doc struct {
			Status  string
			Version string
			Checks  map[string][]struct{ Status string }
		}
		_ = json.NewDecoder(resp.Body).Decode(&doc)
		fmt.Println(path, resp.StatusCode, doc.Status, doc.Version, len(doc.Checks["database"]))
	}
	get("/ready", "")
	get("/health", "")
	get("/health", "a-long-random-health-token")

	// On SIGTERM (signal.NotifyContext in main): /ready answers 503 for the delay, so
	// load balancers stop sending traffic, then the listener closes.
	err = h.Shutdown(context.Background(), 10*time.Millisecond, srv.Shutdown)
	fmt.Println("shutdown:", err)
	get("/live", "")
	// Output:
	// /ready 200 pass  0
	// /health 200 pass  0
	// /health 200 pass 1.4.2 1
	// shutdown: <nil>
	// /live unreachable
}

// A command-line diagnosis prints the results and exits non-zero on failure.
func ExampleHealth_Diagnose() {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	h, _ := health.New(health.Config{
		Now: func() time.Time { return at },
		Checks: []health.Check{
			{Name: "postgres", Func: func(ctx context.Context) error { return nil }},
			{Name: "redis", Func: func(ctx context.Context) error { return errors.New("dial tcp 127.0.0.1:6379: connection refused") }},
			{Name: "openai", NonCritical: true, Func: func(ctx context.Context) error { return errors.New("status 502") }},
		},
	})
	if err := h.Diagnose(context.Background(), os.Stdout); err != nil {
		fmt.Println("exit 1:", err)
	}
	// Output:
	// FAIL: 1/3 checks pass at 2026-03-01T12:00:00Z
	//   pass  postgres  0s
	//   fail  redis     0s    dial tcp 127.0.0.1:6379: connection refused
	//   warn  openai    0s    status 502 (non-critical)
	// exit 1: health: failed: redis
}

// Details go to authorised callers only: a bearer token or a configured network. No
// network is configured by default, loopback included.
func ExampleConfig_details() {
	h, _ := health.New(health.Config{
		Token:       "a-long-random-health-token",
		DetailCIDRs: []string{"10.0.0.0/8"},
		Now:         func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) },
		Checks: []health.Check{{Name: "db", Func: func(ctx context.Context) error {
			return errors.New("dial tcp db.internal:5432: refused")
		}}},
	})
	h.Start(context.Background())
	for _, c := range []struct{ from, auth string }{
		{"127.0.0.1:4000", ""},
		{"10.1.2.3:4000", ""},
		{"127.0.0.1:4000", "Bearer a-long-random-health-token"},
	} {
		r := httptest.NewRequest(http.MethodGet, "/ready", nil)
		r.RemoteAddr = c.from
		r.Header.Set("Authorization", c.auth)
		w := httptest.NewRecorder()
		h.ReadyHandler().ServeHTTP(w, r)
		fmt.Print(w.Code, " ", w.Body)
	}
	// Output:
	// 503 {"status":"fail"}
	// 503 {"status":"fail","checks":{"db":[{"status":"fail","time":"2026-03-01T12:00:00Z","output":"dial tcp db.internal:5432: refused","durationMs":0,"critical":true,"lastError":"dial tcp db.internal:5432: refused","lastErrorTime":"2026-03-01T12:00:00Z"}]}}
	// 503 {"status":"fail","checks":{"db":[{"status":"fail","time":"2026-03-01T12:00:00Z","output":"dial tcp db.internal:5432: refused","durationMs":0,"critical":true,"lastError":"dial tcp db.internal:5432: refused","lastErrorTime":"2026-03-01T12:00:00Z"}]}}
}

// Behind a proxy, the proxy is trusted and the client comes from the header it sets:
// X-Forwarded-For by default. A client's own Forwarded header is not believed.
func ExampleConfig_trustedProxies() {
	h, _ := health.New(health.Config{
		TrustedProxies: []string{"127.0.0.1"}, // the proxy runs on this host
		DetailCIDRs:    []string{"10.0.0.0/8"},
		Now:            func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) },
		Checks:         []health.Check{{Name: "db", Func: func(ctx context.Context) error { return nil }}},
	})
	h.Start(context.Background())
	for _, hdr := range []string{"X-Forwarded-For: 203.0.113.9", "X-Forwarded-For: 10.1.2.3", "Forwarded: for=10.1.2.3"} {
		r := httptest.NewRequest(http.MethodGet, "/ready", nil)
		r.RemoteAddr = "127.0.0.1:4000"
		name, value, _ := strings.Cut(hdr, ": ")
		r.Header.Set(name, value)
		w := httptest.NewRecorder()
		h.ReadyHandler().ServeHTTP(w, r)
		fmt.Print(hdr, " -> ", w.Body)
	}
	// Output:
	// X-Forwarded-For: 203.0.113.9 -> {"status":"pass"}
	// X-Forwarded-For: 10.1.2.3 -> {"status":"pass","checks":{"db":[{"status":"pass","time":"2026-03-01T12:00:00Z","durationMs":0,"critical":true}]}}
	// Forwarded: for=10.1.2.3 -> {"status":"pass"}
}

// Graceful shutdown: /ready answers 503 for the delay, then the server stops.
func ExampleHealth_Shutdown() {
	h, _ := health.New(health.Config{})
	h.Start(context.Background())
	srv := &http.Server{Handler: h.Handler(http.NewServeMux())}
	err := h.Shutdown(context.Background(), 10*time.Millisecond, srv.Shutdown)
	fmt.Println(h.Draining(), err)
	// Output: true <nil>
}

// A check degrades the service instead of failing it by returning a Warning, or by
// being NonCritical. Observe records the value it saw.
func ExampleWarning() {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	h, _ := health.New(health.Config{Now: func() time.Time { return at }, Checks: []health.Check{{
		Name: "queue",
		Func: func(ctx context.Context) error {
			backlog := 1200
			health.Observe(ctx, backlog, "jobs")
			if backlog > 1000 {
				return health.Warning(fmt.Errorf("backlog of %d jobs", backlog))
			}
			return nil
		},
	}}})
	err := h.Diagnose(context.Background(), os.Stdout)
	fmt.Println("error:", err)
	// Output:
	// WARN: 0/1 checks pass at 2026-03-01T12:00:00Z
	//   warn  queue  0s  1200 jobs  backlog of 1200 jobs
	// error: <nil>
}

// OnStatusChange hears of every change, the first result included.
func ExampleHTTP() {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer api.Close()
	h, _ := health.New(health.Config{
		Checks: []health.Check{
			health.HTTP("openai", health.HTTPConfig{URL: api.URL + "/v1/models"}),
		},
		OnStatusChange: func(c health.Change) {
			fmt.Println(c.Check, c.To, strings.Contains(c.Err.Error(), "unexpected status 503"))
		},
	})
	fmt.Println(h.Diagnose(context.Background(), io.Discard))
	// Output:
	// openai fail true
	// health: failed: openai
}

func ExampleDisk() {
	h, err := health.New(health.Config{
		Checks:         []health.Check{health.Disk("disk", health.DiskConfig{Path: os.TempDir(), WarnPercent: 100, FailPercent: 100})},
		OnStatusChange: func(c health.Change) { fmt.Println(c.Check, c.To) },
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(h.Diagnose(context.Background(), io.Discard))
	// Output:
	// disk pass
	// <nil>
}

func ExampleMemory() {
	h, _ := health.New(health.Config{
		Checks:         []health.Check{health.Memory("memory", health.MemoryConfig{FailBytes: 1 << 40})},
		OnStatusChange: func(c health.Change) { fmt.Println(c.Check, c.To) },
	})
	fmt.Println(h.Diagnose(context.Background(), io.Discard))
	// Output:
	// memory pass
	// <nil>
}
