package harden

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/nexus-reussite/harden/cache"
	"github.com/nexus-reussite/harden/compress"
	"github.com/nexus-reussite/harden/health"
	"github.com/nexus-reussite/harden/internal/problem"
	"github.com/nexus-reussite/harden/observe"
	"github.com/nexus-reussite/harden/ratelimit"
	"github.com/nexus-reussite/harden/security"
	"github.com/prometheus/client_golang/prometheus"
)

// ErrInvalidConfig is wrapped by every error New, HTTPCache and Concurrency return. When a
// package refused its part of the configuration, the error wraps that package's
// ErrInvalidConfig as well.
var ErrInvalidConfig = errors.New("harden: invalid config")

// Config configures a Stack. The zero Config is the production profile of every package:
// HTTPS only (plain HTTP gets 400, never a redirect, until AllowedHosts lists the hosts),
// HSTS, the default CSP and security headers, CSRF protection and a 16 MiB body limit;
// "1000 per day;100 per hour;2 per second" per client IP in memory; zstd and gzip
// responses; /live, /ready and /health without details; request IDs, JSON access logs on
// standard output and metrics in a registry of the Stack's own, served at /metrics to
// nobody.
//
// The shared settings (Profile to Gatherer) are given once: each fills the field of the
// same name in every per-package Config below that leaves it zero. A per-package field
// that is set keeps its value when the shared setting is unset or equal, and is an error
// when they differ. Everything else is set in the per-package Configs, whose zero fields
// keep each package's defaults.
type Config struct {
	// Profile is security.Production (default: HTTPS only, HSTS) or security.Development
	// (plain HTTP, loopback hosts accepted, /metrics served without a token, and
	// Cache-Status on the responses of HTTPCache).
	Profile security.Profile

	// AllowedHosts lists the hosts the service answers for, as security.Config.AllowedHosts
	// reads them: other hosts get 400, and plain HTTP is redirected to the host matched.
	// Default empty: any host is served, and plain HTTP in Production gets 400.
	AllowedHosts []string

	// TrustedProxies lists the reverse proxies (CIDR prefixes or addresses) whose
	// ClientIPHeader is believed by security, ratelimit, observe and health. Default none:
	// the TCP peer is the client and forwarding headers are ignored.
	TrustedProxies []string
	// ClientIPHeader names the one header family the trusted proxies set: "X-Forwarded-For"
	// (the default, with X-Forwarded-Proto), "Forwarded" (RFC 7239), or a single-address
	// header such as "X-Real-IP". Forwarding headers of other families are ignored, even
	// from a trusted proxy.
	ClientIPHeader string
	// TrustForwardedHost believes the host a trusted proxy forwards, for host checks and
	// redirects. Default false: the Host header is used.
	TrustForwardedHost bool

	// Logger is every package's logger. Default: JSON lines on standard output at INFO
	// (observe.NewJSONLogger(os.Stdout, nil)).
	Logger *slog.Logger
	// Registerer receives every package's metrics. Default: a new prometheus.Registry of
	// the Stack's own.
	Registerer prometheus.Registerer
	// Gatherer is what /metrics serves. Default: Registerer when it is a Gatherer.
	// /metrics is served ahead of the application only with Observe.MetricsToken (at least
	// 16 bytes) or in Development; otherwise serve Observer().ServeMetrics on a listener
	// only the scraper reaches.
	Gatherer prometheus.Gatherer

	// CacheStore holds what Cache and HTTPCache store. Default: a 64 MiB cache.Memory,
	// closed by Shutdown. A rediscache store shares it across instances; the Stack does
	// not close a store it is given.
	CacheStore cache.Store

	// Per-package settings. Observe.Router may stay nil: Handler looks routes up in the
	// application itself when it has ServeMux's Handler method. Observe.SkipPaths gets
	// the probe paths added.
	Observe   observe.Config
	Security  security.Config
	RateLimit ratelimit.Config
	Compress  compress.Config
	Health    health.Config
	Cache     cache.Config
}

// Stack is a service's middleware, composed in order, and the parts it is made of. It is
// safe for concurrent use. Its lifecycle: New, Handler, Start once the service is ready to
// serve, Shutdown on exit.
type Stack struct {
	observer   *observe.Observer
	security   *security.Security
	limiter    *ratelimit.Limiter
	compressor *compress.Compressor
	health     *health.Health
	cache      *cache.Cache
	memory     *cache.Memory // the default cache store, nil when Config.CacheStore is set

	registerer prometheus.Registerer // the effective registry, for per-route gates
	given      prometheus.Registerer // Config.Registerer as the caller set it
	probes     map[string]probe      // by URL path: health endpoints and /metrics
	nameRoutes bool                  // Observe.Router unset: look routes up in the application
	devel      bool                  // the Development profile: HTTPCache shows Cache-Status
}

// probe is an endpoint the Stack answers ahead of the application.
type probe struct {
	route string // the route label in metrics and logs
	h     http.Handler
}

// router is what Handler looks routes up in: *http.ServeMux has it.
type router interface {
	Handler(r *http.Request) (h http.Handler, pattern string)
}

// New builds every part from cfg. Errors wrap ErrInvalidConfig.
func New(cfg Config) (*Stack, error) {
	sh, err := share(&cfg)
	if err != nil {
		return nil, err
	}
	s := &Stack{registerer: sh.registerer, given: sh.given, nameRoutes: cfg.Observe.Router == nil,
		devel: cfg.Security.Profile == security.Development}
	if err := s.build(&cfg, sh); err != nil {
		_ = s.close(context.Background())
		return nil, err
	}
	return s, nil
}

// build makes the parts, in the order the chain runs them, and the probe endpoints.
func (s *Stack) build(cfg *Config, sh shared) (err error) {
	if s.observer, err = observe.New(cfg.Observe); err != nil {
		return part("observe", err)
	}
	if s.security, err = security.New(cfg.Security); err != nil {
		return part("security", err)
	}
	if s.limiter, err = ratelimit.New(cfg.RateLimit); err != nil {
		return part("ratelimit", err)
	}
	if s.compressor, err = compress.New(cfg.Compress); err != nil {
		return part("compress", err)
	}
	if s.health, err = health.New(cfg.Health); err != nil {
		return part("health", err)
	}
	store := cfg.CacheStore
	if store == nil {
		if s.memory, err = cache.NewMemory(cache.MemoryConfig{}); err != nil {
			return part("cache", err)
		}
		store = s.memory
	}
	if s.cache, err = cache.New(store, cfg.Cache); err != nil {
		return part("cache", err)
	}
	s.probes = make(map[string]probe, len(sh.probePaths))
	for _, p := range []struct {
		path string
		h    http.Handler
	}{
		{sh.probePaths[0], s.health.LiveHandler()},
		{sh.probePaths[1], s.health.ReadyHandler()},
		{sh.probePaths[2], s.health.HealthHandler()},
	} {
		s.probes[p.path] = probe{route: p.path, h: p.h}
	}
	if sh.serveMetrics {
		s.probes[metricsPath] = probe{route: metricsPath, h: metricsHandler(s.observer.MetricsHandler())}
	}
	return nil
}

// part wraps the error New of a package returned.
func part(name string, err error) error {
	return fmt.Errorf("%w: %s: %w", ErrInvalidConfig, name, err)
}

// Handler returns app wrapped with the whole stack, outermost first:
//
//   - observe: request ID, panic recovery, access log, metrics, Sentry;
//   - probes: /live, /ready and /health (health) and /metrics, answered here, so they
//     are never redirected, host-checked, rate limited, compressed or cached;
//   - security: allowed hosts, HTTPS, security headers and CSP, CORS, CSRF, body limit;
//   - ratelimit: the limit per client;
//   - compress: response compression;
//   - app.
//
// When app looks routes up as *http.ServeMux does, the access log and the metrics name
// each request by the pattern it matches there, including the 429s and 400s the stack
// writes before app runs. Response caches and concurrency limits go on routes inside app:
// see HTTPCache and Concurrency. Handler may be called more than once; the chains share
// the parts.
func (s *Stack) Handler(app http.Handler) http.Handler {
	if app == nil {
		app = http.NotFoundHandler()
	}
	rt, named := app.(router)
	named = named && s.nameRoutes
	if named {
		app = routeRecorder(app)
	}
	inner := s.security.Handler(s.limiter.Handler(s.compressor.Handler(app)))
	if named {
		inner = routeNamer(rt, inner)
	}
	return s.observer.Handler(s.answerProbes(inner))
}

// answerProbes serves the probe endpoints and passes every other request to next.
func (s *Stack) answerProbes(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, ok := s.probes[r.URL.Path]; ok {
			observe.SetRoute(r.Context(), p.route)
			p.h.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// routeNamer names the request after the pattern rt matches when nothing inside did:
// routeRecorder names every request the application served, so rt is asked only about
// those answered before it (a 429, a redirect, a refusal), once they are answered.
func routeNamer(rt router, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if observe.Route(r.Context()) == "" {
				_, p := rt.Handler(r)
				nameRoute(r, p)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// routeRecorder names the request after the pattern the application's ServeMux set on
// it while serving it.
func routeRecorder(app http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer nameRoute(r, "")
		app.ServeHTTP(w, r)
	})
}

// nameRoute records pattern p, or r.Pattern when p is empty. A CONNECT request keeps only
// a pattern naming CONNECT: for a CONNECT redirect, ServeMux reports the path the client
// sent.
func nameRoute(r *http.Request, p string) {
	if p == "" {
		p = r.Pattern
	}
	if p != "" && (r.Method != http.MethodConnect || strings.HasPrefix(p, "CONNECT ")) {
		observe.SetRoute(r.Context(), p)
	}
}

// metricsHandler serves GET and HEAD with h, never to be stored by a cache, and answers
// other methods 405.
func metricsHandler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			problem.Error(w, http.StatusMethodNotAllowed, "Metrics are read with GET.")
			return
		}
		h.ServeHTTP(w, r)
	})
}

// HTTPCache returns a response cache storing into Cache, for the routes it wraps inside
// the application's mux:
//
//	formulas, err := stack.HTTPCache(cache.HTTPConfig{Query: []string{"page"}})
//	...
//	mux.Handle("GET /formulas", formulas.Handler(listFormulas))
//
// Requests carrying credentials (Authorization, Cookie) bypass it unless cfg says
// otherwise; cache.HTTPConfig lists the opt-ins. Responses are compressed inside the
// cache (cfg.Inner defaults to Compressor().Handler), so a hit is served with its stored
// compressed bytes and costs no compression. Cache-Status, off by default, is on for
// every request in the Development profile unless cfg.CacheStatus decides. Errors wrap
// ErrInvalidConfig.
func (s *Stack) HTTPCache(cfg cache.HTTPConfig) (*cache.HTTPCache, error) {
	if cfg.Inner == nil {
		cfg.Inner = s.compressor.Handler
	}
	if cfg.CacheStatus == nil && s.devel {
		cfg.CacheStatus = func(*http.Request) bool { return true }
	}
	c, err := cache.NewHTTP(s.cache, cfg)
	if err != nil {
		return nil, part("cache", err)
	}
	return c, nil
}

// Concurrency returns a gate bounding the requests in flight through the routes it
// wraps, with its metrics in the Stack's registry (name each gate with cfg.Name):
//
//	gate, err := stack.Concurrency(ratelimit.ConcurrencyConfig{Name: "login"})
//	...
//	mux.Handle("POST /login", gate.Handler(login))
//
// Inside the mux the gate runs after the Stack's rate limit has counted the request.
// Errors wrap ErrInvalidConfig.
func (s *Stack) Concurrency(cfg ratelimit.ConcurrencyConfig) (*ratelimit.Concurrency, error) {
	if err := shareValue("Concurrency.Registerer", &cfg.Registerer, s.given, s.registerer); err != nil {
		return nil, err
	}
	c, err := ratelimit.NewConcurrency(cfg)
	if err != nil {
		return nil, part("ratelimit", err)
	}
	return c, nil
}

// Start tells the probes that the service is ready: /ready answers 503 until then. Call
// it once startup (migrations, warm-up) is done. It is Health().Start.
func (s *Stack) Start(ctx context.Context) { s.health.Start(ctx) }

// Shutdown stops the service in order: /ready answers 503 at once, requests are still
// served for delay so that load balancers notice, then stop (typically
// (*http.Server).Shutdown, nil for none) closes the listeners and waits for the requests
// in flight; last, Sentry events are flushed and the cache is closed. It returns the
// errors of these steps joined, and is meant to be called once, on exit.
func (s *Stack) Shutdown(ctx context.Context, delay time.Duration, stop func(context.Context) error) error {
	if stop == nil {
		stop = func(context.Context) error { return nil }
	}
	return errors.Join(s.health.Shutdown(ctx, delay, stop), s.close(ctx))
}

// close releases what New made: Sentry's client and the cache.
func (s *Stack) close(ctx context.Context) error {
	var errs []error
	if s.observer != nil {
		errs = append(errs, s.observer.Shutdown(ctx))
	}
	if s.cache != nil {
		errs = append(errs, s.cache.Close())
	}
	if s.memory != nil {
		errs = append(errs, s.memory.Close())
	}
	return errors.Join(errs...)
}

// Observer returns the observe part: its MetricsHandler and ServeMetrics serve the
// metrics elsewhere than at /metrics.
func (s *Stack) Observer() *observe.Observer { return s.observer }

// Security returns the security part: WithCSP gives a route its own policy.
func (s *Stack) Security() *security.Security { return s.security }

// Limiter returns the rate limiter around the application: With derives a tighter limit
// for a route, sharing its store and settings.
func (s *Stack) Limiter() *ratelimit.Limiter { return s.limiter }

// Compressor returns the compress part.
func (s *Stack) Compressor() *compress.Compressor { return s.compressor }

// Health returns the health part, which serves the probes.
func (s *Stack) Health() *health.Health { return s.health }

// Cache returns the cache HTTPCache stores into, for GetOrLoad and InvalidateTags.
func (s *Stack) Cache() *cache.Cache { return s.cache }
