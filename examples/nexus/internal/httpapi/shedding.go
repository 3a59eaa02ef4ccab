package httpapi

import (
	"net/http"
	"runtime"

	"github.com/nexus-reussite/harden/ratelimit"
)

// hashingRoutes are the routes that run bcrypt (about 250 ms of one CPU each at cost 12):
// every route that checks or sets a password. They share one concurrency gate.
var hashingRoutes = []string{
	"POST /api/auth/register",
	"POST /api/auth/login",
	"POST /api/auth/password", // checks the current password, hashes the new one
	"POST /api/students",      // a parent or an admin creates a student account
}

// ariaRoutes are the routes that call the paid assistant upstream.
var ariaRoutes = []string{"POST /api/aria/chat"}

// hashQueueFactor sizes the default hashing queue: this many times HASH_CONCURRENCY.
const hashQueueFactor = 4

// shedRetryDetail is the detail of a shed request's 503.
const shedRetryDetail = "the server is at capacity for this operation; retry after Retry-After seconds"

// shedding routes the expensive routes through their concurrency gates, ahead of the
// rate limiters: a shed request is answered before any limiter counts it, so it spends no
// rate-limit quota. Other requests go straight to next.
type shedding struct {
	api   *http.ServeMux          // finds a request's route pattern
	gated map[string]http.Handler // by route pattern: a gate in front of next
	next  http.Handler
}

func (s *shedding) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := s.api.Handler(r); pattern != "" {
		if h, ok := s.gated[pattern]; ok {
			h.ServeHTTP(w, r)
			return
		}
	}
	s.next.ServeHTTP(w, r)
}

// withShedding builds the gates of the hashing and ARIA routes around next (the rate
// limiters and the routes of api). Their metrics (harden_concurrency_*, limiter
// "password_hash" and "aria") go to the API's registry.
//
// Under pressure, hashing requests from client addresses without a recent successful
// login are shed first: a sign-up or failed-login flood from fresh addresses gives way to
// the users who logged in from their address before. The probes are served ahead of the
// chain and never reach a gate.
func (a *API) withShedding(api *http.ServeMux, next http.Handler) (http.Handler, error) {
	sh := a.cfg.Shedding
	shed := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeProblem(w, http.StatusServiceUnavailable, shedRetryDetail)
	})
	hashLimit := sh.HashConcurrency
	if hashLimit == 0 {
		// One CPU stays free for the other routes: with every CPU hashing, a read waits
		// for the scheduler to preempt a hash (measured on 2 CPUs: p99 of /api/config
		// 7× its quiet value with 2 hashes at once, 2× with 1).
		hashLimit = max(1, runtime.GOMAXPROCS(0)-1)
	}
	hashQueue := sh.HashQueue
	if hashQueue == 0 {
		// Fresh addresses may fill half of it (Sheddable): with the 1 s timeout, a few
		// first logins arriving together still wait rather than fail.
		hashQueue = hashQueueFactor * hashLimit
	}
	hashGate, err := ratelimit.NewConcurrency(ratelimit.ConcurrencyConfig{
		Name:         "password_hash",
		Limit:        hashLimit,
		QueueSize:    hashQueue,
		QueueTimeout: sh.HashQueueTimeout,
		Sheddable:    func(r *http.Request) bool { return !a.trusted.known(a.clientKey(r)) },
		ShedHandler:  shed,
		Registerer:   a.registry,
	})
	if err != nil {
		return nil, err
	}
	ariaGate, err := ratelimit.NewConcurrency(ratelimit.ConcurrencyConfig{
		Name:         "aria",
		Limit:        sh.AriaConcurrency,
		QueueSize:    sh.AriaQueue,
		QueueTimeout: sh.AriaQueueTimeout,
		ShedHandler:  shed,
		Registerer:   a.registry,
	})
	if err != nil {
		return nil, err
	}
	s := &shedding{api: api, gated: map[string]http.Handler{}, next: next}
	for _, p := range hashingRoutes {
		s.gated[p] = hashGate.Handler(next)
	}
	for _, p := range ariaRoutes {
		s.gated[p] = ariaGate.Handler(next)
	}
	return s, nil
}
