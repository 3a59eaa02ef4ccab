package observe_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/nexus-reussite/harden/observe"
	"github.com/nexus-reussite/harden/ratelimit"
	"github.com/prometheus/client_golang/prometheus"
)

// An Observer outermost, a rate limiter inside it and the application's ServeMux last.
// Router names the route of every response, the limiter's 429 included.
func Example() {
	var logs bytes.Buffer
	reg := prometheus.NewRegistry()
	rule, _ := ratelimit.ParseRule("1 per minute")
	limiter, _ := ratelimit.New(ratelimit.Config{Rule: rule})

	mux := http.NewServeMux()
	mux.HandleFunc("GET /courses/{id}", func(w http.ResponseWriter, r *http.Request) {
		observe.Logger(r.Context()).Info("course requested", "id", r.PathValue("id"))
		io.WriteString(w, "ok")
	})
	o, err := observe.New(observe.Config{
		Logger:     observe.NewJSONLogger(&logs, slog.LevelInfo), // default: standard output
		Registerer: reg,                                          // a *prometheus.Registry
		Router:     mux,                                          // routes named before the request reaches the mux
		SkipPaths:  []string{"/live"},
	})
	if err != nil {
		panic(err)
	}
	defer o.Shutdown(context.Background()) // flushes Sentry when SentryDSN is set
	h := o.Handler(limiter.Handler(mux))

	for _, id := range []string{"req-1", "req-2"} {
		req := httptest.NewRequest("GET", "/courses/42", nil)
		req.Header.Set("X-Request-ID", id)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		fmt.Println("status", rec.Code, "id", rec.Header().Get("X-Request-ID"))
	}
	for line := range strings.Lines(logs.String()) {
		var m map[string]any
		_ = json.Unmarshal([]byte(line), &m)
		fmt.Println(m["level"], m["msg"], m["request_id"], m["route"], m["status"])
	}
	// Output:
	// status 200 id req-1
	// status 429 id req-2
	// INFO course requested req-1 <nil> <nil>
	// INFO http request req-1 GET /courses/{id} 200
	// WARN http request req-2 GET /courses/{id} 429
}

// A panic becomes a 500 problem+json response naming the request ID.
func Example_recovery() {
	o, _ := observe.New(observe.Config{
		Logger:            slog.New(slog.DiscardHandler), // no access lines in this example
		GenerateRequestID: func() string { return "r-1" },
	})
	h := o.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("database exploded")
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"))
	fmt.Println(rec.Body.String())
	// Output:
	// 500 application/problem+json
	// {"detail":"The server encountered an unexpected error.","request_id":"r-1","status":500,"title":"Internal Server Error","type":"about:blank"}
}

// Metrics are labelled by route pattern, never by raw path; MetricsHandler serves them.
func ExampleObserver_MetricsHandler() {
	reg := prometheus.NewRegistry()
	o, _ := observe.New(observe.Config{Registerer: reg, Logger: slog.New(slog.DiscardHandler)})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(http.ResponseWriter, *http.Request) {})
	h := o.Handler(mux)
	for _, p := range []string{"/users/1", "/users/2", "/nowhere"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", p, nil))
	}
	rec := httptest.NewRecorder()
	o.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		if strings.HasPrefix(line, "harden_http_requests_total") {
			fmt.Println(line)
		}
	}
	// Output:
	// harden_http_requests_total{code="2xx",method="GET",route="GET /users/{id}"} 2
	// harden_http_requests_total{code="4xx",method="GET",route="unmatched"} 1
}
