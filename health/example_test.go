package health_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

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

// A command-line diagnosis prints the results and exits non-zero on failure.
func ExampleHealth_Run() {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	h, _ := health.New(health.Config{
		Now: func() time.Time { return at },
		Checks: []health.Check{
			{Name: "postgres", Func: func(ctx context.Context) error { return nil }},
			{Name: "redis", Func: func(ctx context.Context) error { return errors.New("dial tcp 127.0.0.1:6379: connection refused") }},
			{Name: "openai", NonCritical: true, Func: func(ctx context.Context) error { return errors.New("status 502") }},
		},
	})
	rep := h.Run(context.Background())
	_ = rep.WriteText(os.Stdout)
	if err := rep.Err(); err != nil {
		fmt.Println("exit 1:", err)
	}
	// Output:
	// FAIL: 1/3 checks pass at 2026-03-01T12:00:00Z
	//   pass  postgres  0s
	//   fail  redis     0s    dial tcp 127.0.0.1:6379: connection refused
	//   warn  openai    0s    status 502 (non-critical)
	// exit 1: health: failed: redis
}

// Details go to authorised callers only: a bearer token or a configured network.
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
	for _, auth := range []string{"", "Bearer a-long-random-health-token"} {
		r := httptest.NewRequest(http.MethodGet, "/ready", nil)
		r.Header.Set("Authorization", auth)
		w := httptest.NewRecorder()
		h.ReadyHandler().ServeHTTP(w, r)
		fmt.Print(w.Code, " ", w.Body)
	}
	// Output:
	// 503 {"status":"fail"}
	// 503 {"status":"fail","checks":{"db":[{"status":"fail","time":"2026-03-01T12:00:00Z","output":"dial tcp db.internal:5432: refused","durationMs":0,"critical":true,"lastError":"dial tcp db.internal:5432: refused","lastErrorTime":"2026-03-01T12:00:00Z"}]}}
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
// being NonCritical.
func ExampleWarning() {
	h, _ := health.New(health.Config{Checks: []health.Check{{
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
	r := h.Run(context.Background()).Checks[0]
	fmt.Println(r.Status, r.ObservedValue, r.ObservedUnit, r.Err)
	// Output: warn 1200 jobs backlog of 1200 jobs
}

func ExampleHTTP() {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer api.Close()
	h, _ := health.New(health.Config{Checks: []health.Check{
		health.HTTP("openai", health.HTTPConfig{URL: api.URL + "/v1/models"}),
	}})
	r := h.Run(context.Background()).Checks[0]
	fmt.Println(r.Status, r.ComponentType)
	// Output: fail component
}

func ExampleDisk() {
	h, err := health.New(health.Config{Checks: []health.Check{
		health.Disk("disk", health.DiskConfig{Path: os.TempDir(), WarnPercent: 100, FailPercent: 100}),
	}})
	if err != nil {
		panic(err)
	}
	r := h.Run(context.Background()).Checks[0]
	fmt.Println(r.Name, r.ObservedUnit)
	// Output: disk %
}

func ExampleMemory() {
	h, _ := health.New(health.Config{Checks: []health.Check{
		health.Memory("memory", health.MemoryConfig{FailBytes: 1 << 40}),
	}})
	r := h.Run(context.Background()).Checks[0]
	fmt.Println(r.Status, r.ObservedUnit)
	// Output: pass B
}
