package ratelimit_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/nexus-reussite/harden/ratelimit"
)

// A login route whose password hashing may run one request at a time, behind a rate
// limit of 5 per minute. The gate sits outside the rate limiter: the request it sheds
// while the first is being served spends none of the client's quota.
func ExampleNewConcurrency() {
	gate, err := ratelimit.NewConcurrency(ratelimit.ConcurrencyConfig{
		Name:      "password-hashing",
		Limit:     1,
		QueueSize: -1, // no queue: shed at once
	})
	if err != nil {
		panic(err)
	}
	lim, err := ratelimit.New(ratelimit.Config{
		Rule:    ratelimit.MustParseRule("5 per minute"),
		Headers: ratelimit.HeadersLegacy, // X-RateLimit-Remaining: one number to print
	})
	if err != nil {
		panic(err)
	}
	hashing := make(chan struct{}, 1)
	done := make(chan struct{})
	login := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hashing <- struct{}{}
		<-done // the password hash takes a while
	})
	mux := http.NewServeMux()
	mux.Handle("POST /login", gate.Handler(lim.Handler(login)))

	post := func() *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", "/login", nil)
		r.RemoteAddr = "192.0.2.1:4321"
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		return w
	}
	first := make(chan *httptest.ResponseRecorder)
	go func() { first <- post() }()
	<-hashing

	w := post()
	fmt.Println("while hashing:", w.Code, w.Header().Get("Content-Type"), "Retry-After:", w.Header().Get("Retry-After"))
	close(done)
	w = <-first
	fmt.Println("first:", w.Code, "remaining:", w.Header().Get("X-RateLimit-Remaining"))
	w = post()
	<-hashing
	fmt.Println("next:", w.Code, "remaining:", w.Header().Get("X-RateLimit-Remaining"))
	// Output:
	// while hashing: 503 application/problem+json Retry-After: 1
	// first: 200 remaining: 4
	// next: 200 remaining: 3
}
