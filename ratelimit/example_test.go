package ratelimit_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/nexus-reussite/harden/ratelimit"
)

// Example limits every client of an application to the default rule behind a proxy on
// 10.0.0.0/8, exempts the probes, and stacks a tighter rule on the login route.
func Example() {
	rule, err := ratelimit.ParseRule(ratelimit.DefaultRule) // e.g. from the environment
	if err != nil {
		panic(err)
	}
	lim, err := ratelimit.New(ratelimit.Config{
		Rule:           rule,
		TrustedProxies: []string{"10.0.0.0/8"},
		ExemptPaths:    []string{"/live", "/ready"},
	})
	if err != nil {
		panic(err)
	}
	login, err := lim.With("login", ratelimit.MustParseRule("1 per minute"))
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /live", func(http.ResponseWriter, *http.Request) {})
	mux.Handle("POST /api/auth/login", login.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
	h := lim.Handler(mux)

	for _, target := range []string{"GET /live", "POST /api/auth/login", "POST /api/auth/login"} {
		var method, path string
		_, _ = fmt.Sscan(target, &method, &path)
		r := httptest.NewRequest(method, path, nil)
		r.RemoteAddr = "10.0.0.7:50000"                  // the proxy
		r.Header.Set("X-Forwarded-For", "198.51.100.23") // the client it saw
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Printf("%s: %d Retry-After=%s\n", target, w.Code, w.Header().Get("Retry-After"))
	}
	// Output:
	// GET /live: 200 Retry-After=
	// POST /api/auth/login: 200 Retry-After=
	// POST /api/auth/login: 429 Retry-After=60
}

func ExampleParseRule() {
	rule, err := ratelimit.ParseRule("1000 per day; 100/hour, 5 per 30 seconds")
	if err != nil {
		panic(err)
	}
	for _, l := range rule {
		fmt.Println(l.Count, l.Period)
	}
	_, err = ratelimit.ParseRule("10 per fortnight")
	fmt.Println(err)
	// Output:
	// 1000 24h0m0s
	// 100 1h0m0s
	// 5 30s
	// ratelimit: invalid rule "10 per fortnight" at position 7: unknown period "fortnight"
}

func ExampleNew() {
	lim, err := ratelimit.New(ratelimit.Config{
		Rule:        ratelimit.MustParseRule("2 per minute"),
		ExemptPaths: []string{"/live"},
	})
	if err != nil {
		panic(err)
	}
	h := lim.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	for _, path := range []string{"/api", "/api", "/api", "/live"} {
		r := httptest.NewRequest("GET", path, nil)
		r.RemoteAddr = "192.0.2.1:4321"
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Printf("%s %d RateLimit=%s Retry-After=%s\n", path, w.Code, w.Header().Get("RateLimit"), w.Header().Get("Retry-After"))
	}
	// Output:
	// /api 200 RateLimit="default-1m";r=1;t=60 Retry-After=
	// /api 200 RateLimit="default-1m";r=0;t=60 Retry-After=
	// /api 429 RateLimit="default-1m";r=0;t=60 Retry-After=60
	// /live 200 RateLimit= Retry-After=
}

func ExampleLimiter_With() {
	lim, err := ratelimit.New(ratelimit.Config{}) // DefaultRule for every route
	if err != nil {
		panic(err)
	}
	login, err := lim.With("login", ratelimit.MustParseRule("5 per minute"))
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /api/auth/login", login.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
	h := lim.Handler(mux)

	r := httptest.NewRequest("POST", "/api/auth/login", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	// Each limiter adds an item for its tightest window: the default rule's second
	// (1 unit left), and login's minute.
	fmt.Println(w.Header().Values("RateLimit-Policy"))
	fmt.Println(w.Header().Values("RateLimit"))
	// Output:
	// ["default-1s";q=2;w=1 "login-1m";q=5;w=60]
	// ["default-1s";r=1;t=1 "login-1m";r=4;t=60]
}

// ExampleIPKey counts each API key apart from each client address, behind a proxy that
// sets RFC 7239 Forwarded: IPKey of the limiter's Config resolves the client exactly as
// the limiter does, so the X-Forwarded-For a client forges changes nothing.
func ExampleIPKey() {
	cfg := ratelimit.Config{
		Rule:           ratelimit.MustParseRule("100 per hour"),
		TrustedProxies: []string{"10.0.0.0/8"},
		ClientIPHeader: "Forwarded",
	}
	ip, err := ratelimit.IPKey(cfg)
	if err != nil {
		panic(err)
	}
	cfg.Key = ratelimit.CompositeKey(ratelimit.HeaderKey("X-Api-Key"), ip)

	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.1.2.3:5000" // the proxy
	r.Header.Set("Forwarded", `for="[2001:db8:1:2::7]:4711"`)
	r.Header.Set("X-Forwarded-For", "203.0.113.66") // forged by the client
	r.Header.Set("X-Api-Key", "k-123")
	fmt.Println(ip(r))
	fmt.Println(cfg.Key(r)[:len("hdr:X-Api-Key:")], "…")
	// Output:
	// ip:2001:db8:1:2::/64
	// hdr:X-Api-Key: …
}

// ExampleDecisionFrom replaces the 429 body: the rate limit headers and Retry-After are
// already set, and DecisionFrom says which limit was hit.
func ExampleDecisionFrom() {
	lim, err := ratelimit.New(ratelimit.Config{
		Rule: ratelimit.MustParseRule("1 per minute;10 per hour"),
		DenyHandler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			d, _ := ratelimit.DecisionFrom(r.Context())
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = fmt.Fprintf(w, "slow down: %v, retry in %.0f s", d.Tightest().Limit, d.RetryAfter().Seconds())
		}),
	})
	if err != nil {
		panic(err)
	}
	h := lim.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for range 2 {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
		body, _ := io.ReadAll(w.Body)
		fmt.Printf("%d %q Retry-After=%s\n", w.Code, body, w.Header().Get("Retry-After"))
	}
	// Output:
	// 200 "" Retry-After=
	// 429 "slow down: 1 per minute, retry in 60 s" Retry-After=60
}
