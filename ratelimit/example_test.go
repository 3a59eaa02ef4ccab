package ratelimit_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/nexus-reussite/harden/ratelimit"
)

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
	for _, v := range w.Header().Values("RateLimit-Policy") {
		fmt.Println(v)
	}
	// Output:
	// "default-1d";q=1000;w=86400, "default-1h";q=100;w=3600, "default-1s";q=2;w=1
	// "login-1m";q=5;w=60
}

func ExampleMemoryStore() {
	store, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{})
	if err != nil {
		panic(err)
	}
	rule := ratelimit.MustParseRule("3 per second;5 per minute")
	for range 4 {
		d, _ := store.Take(context.Background(), "user:42", rule, ratelimit.FixedWindow, 1)
		fmt.Println(d.Allowed, d.Limits[0].Remaining, d.Limits[1].Remaining)
	}
	// Output:
	// true 2 4
	// true 1 3
	// true 0 2
	// false 0 2
}

func ExampleCompositeKey() {
	ip, _ := ratelimit.IPKey([]string{"10.0.0.0/8"}, 64)
	key := ratelimit.FirstKey(ratelimit.HeaderKey("X-Api-Key"), ip)
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.1.2.3:5000" // a trusted proxy
	r.Header.Set("X-Forwarded-For", "198.51.100.1, 2001:db8:1:2::7")
	fmt.Println(key(r))
	// Output: ip:2001:db8:1:2::/64
}
