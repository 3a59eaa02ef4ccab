package harden_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"

	"github.com/nexus-reussite/harden"
	"github.com/nexus-reussite/harden/cache"
	"github.com/nexus-reussite/harden/health"
	"github.com/nexus-reussite/harden/ratelimit"
)

// A service with every concern and a cached route, as README.md shows it, then a few
// requests through a TLS test server.
func Example() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", hello)

	stack, err := harden.New(harden.Config{
		AllowedHosts:   []string{"api.example.com"},
		TrustedProxies: []string{"10.0.0.0/8"},        // the load balancers, which terminate TLS
		Logger:         slog.New(slog.DiscardHandler), // default: JSON lines on standard output
		RateLimit:      ratelimit.Config{Rule: ratelimit.MustParseRule("20 per second;1000 per hour")},
		Health:         health.Config{Checks: []health.Check{health.Memory("memory", health.MemoryConfig{})}},
	})
	if err != nil {
		log.Fatal(err)
	}

	formulas, err := stack.HTTPCache(cache.HTTPConfig{Query: []string{"level"}})
	if err != nil {
		log.Fatal(err)
	}
	mux.Handle("GET /formulas", formulas.Handler(http.HandlerFunc(listFormulas)))

	ctx := context.Background()
	stack.Start(ctx)
	srv := httptest.NewTLSServer(stack.Handler(mux))
	defer stack.Shutdown(ctx, 0, func(context.Context) error { srv.Close(); return nil })

	get := func(path, cookie string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		req.Host = "api.example.com"
		req.Header.Set("Accept-Encoding", "gzip")
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		res, err := srv.Client().Do(req)
		if err != nil {
			log.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res
	}
	for _, cookie := range []string{"", "", "session=alice"} {
		res := get("/formulas?level=terminale", cookie)
		// A response served from the cache has an Age field; one from the handler has none.
		from := "handler"
		if res.Header.Get("Age") != "" {
			from = "cache"
		}
		fmt.Println("/formulas", cookie, res.StatusCode, from, res.Header.Get("Content-Encoding"))
	}
	res := get("/hello", "")
	fmt.Println("/hello", res.StatusCode, res.Header.Get("Strict-Transport-Security"))
	fmt.Println("/hello", res.Header.Get("RateLimit-Policy"))
	fmt.Println("/live", get("/live", "").StatusCode)
	fmt.Println("/metrics", get("/metrics", "").StatusCode)
	// Output:
	// /formulas  200 handler gzip
	// /formulas  200 cache gzip
	// /formulas session=alice 200 handler gzip
	// /hello 200 max-age=31536000; includeSubDomains
	// /hello "default-1s";q=20;w=1
	// /live 200
	// /metrics 404
}

func hello(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "hello") }

// listFormulas answers the same list to everyone, long enough to be compressed.
func listFormulas(w http.ResponseWriter, r *http.Request) {
	level := r.URL.Query().Get("level")
	names := []string{"Grand Oral", "Stage intensif", "Combo Révision", "Groupe Réussite", "Suivi annuel"}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprint(w, "[")
	for i := range 20 {
		if i > 0 {
			fmt.Fprint(w, ",")
		}
		fmt.Fprintf(w, `{"id":%d,"name":%q,"level":%q,"hours":%d}`, i+1, names[i%len(names)], level, 10+i)
	}
	fmt.Fprint(w, "]")
}
