// Package httpapi is the backend's HTTP API: the routes and their handlers, the harden
// middleware chain around them, and the problem+json answers of every error.
//
// Handlers decode and check the request, call the rules of package domain and the
// statements of package store, and answer JSON; they hold no SQL. Role checks per route
// are in routes.go, so the authorization matrix reads in one place.
package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"time"

	"github.com/nexus-reussite/harden/cache"
	"github.com/nexus-reussite/harden/cache/rediscache"
	"github.com/nexus-reussite/harden/compress"
	"github.com/nexus-reussite/harden/health"
	"github.com/nexus-reussite/harden/health/redischeck"
	"github.com/nexus-reussite/harden/observe"
	"github.com/nexus-reussite/harden/ratelimit"
	"github.com/nexus-reussite/harden/ratelimit/redisstore"
	limitstore "github.com/nexus-reussite/harden/ratelimit/store"
	"github.com/nexus-reussite/harden/security"
	"github.com/nexus-reussite/harden/security/cspreport"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/nexus-reussite/harden/examples/nexus/internal/aria"
	"github.com/nexus-reussite/harden/examples/nexus/internal/auth"
	"github.com/nexus-reussite/harden/examples/nexus/internal/config"
	"github.com/nexus-reussite/harden/examples/nexus/internal/store"
)

// Deps are what the API is built from.
type Deps struct {
	Config   *config.Config
	Logger   *slog.Logger
	Registry *prometheus.Registry
	DB       *store.DB
	Redis    *redis.Client // nil without REDIS_URL; keys and channels start with Config.RedisPrefix
	Auth     *auth.Service
	Aria     *aria.Client
	Now      func() time.Time
	// RouteRules replaces the per-route rate-limit rules, by route name ("login",
	// "register", "csp_report"); nil keeps ruleLogin, ruleRegister and ruleCSPReport.
	RouteRules map[string]string
	// RedisDownAtStart: Redis did not answer at start. The cache does not wait for its
	// invalidation channel, which subscribes by itself once Redis answers.
	RedisDownAtStart bool
}

// API is the HTTP API and the harden components around it.
type API struct {
	cfg      *config.Config
	log      *slog.Logger
	registry *prometheus.Registry
	db       *store.DB
	rdb      *redis.Client
	auth     *auth.Service
	aria     *aria.Client
	now      func() time.Time
	closers  []func() error

	router      *router // serves the probes and the chain; the Observer's Router
	observer    *observe.Observer
	security    *security.Security
	cspReports  *cspreport.Handler
	compressor  *compress.Compressor
	health      *health.Health
	limiter     *ratelimit.Limiter
	routeLimits map[string]*ratelimit.Limiter // by route name (Deps.RouteRules)
	ipKey       ratelimit.KeyFunc             // the client address, as the limiters read it
	trusted     *knownClients                 // addresses with a recent successful login
	cache       *cache.Cache
	cacheMemory *cache.Memory // the in-process level
	cacheShared bool          // the cache lives in Redis, shared by every instance
	redisDown   bool          // Redis did not answer at start
	httpCaches  map[string]*cache.HTTPCache
}

// cacheNamespace separates the response cache's keys in its store; in Redis they sit
// under the instance prefix, which the Redis store adds.
const cacheNamespace = "cache:"

// New builds the API and its components from the configuration.
func New(d Deps) (_ *API, err error) {
	a := &API{
		cfg: d.Config, log: d.Logger, registry: d.Registry, db: d.DB, rdb: d.Redis,
		auth: d.Auth, aria: d.Aria, now: d.Now, router: &router{}, redisDown: d.RedisDownAtStart,
	}
	defer func() {
		if err != nil {
			_ = a.Close()
		}
	}()
	for _, step := range []func() error{
		a.setupObserver,
		a.setupSecurity,
		a.setupCompressor,
		a.setupHealth,
		func() error { return a.setupLimits(d.RouteRules) },
		a.setupCache,
		a.setupRouter,
	} {
		if err := step(); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// Close releases the caches, last opened first.
func (a *API) Close() error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		errs = append(errs, a.closers[i]())
	}
	a.closers = nil
	return errors.Join(errs...)
}

// Health is the health component: Start it with the server, Shutdown it to drain.
func (a *API) Health() *health.Health { return a.health }

// ServeMetrics serves /metrics alone on ln (METRICS_ADDR), behind METRICS_TOKEN when
// set, until ctx ends.
func (a *API) ServeMetrics(ctx context.Context, ln net.Listener) error {
	return a.observer.ServeMetrics(ctx, ln)
}

// CSPReports holds the CSP violation reports browsers sent.
func (a *API) CSPReports() *cspreport.Handler { return a.cspReports }

// Flush sends buffered telemetry (Sentry events) before exit.
func (a *API) Flush() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.observer.Shutdown(ctx); err != nil {
		a.log.Warn("sentry flush", "err", err)
	}
}

func (a *API) setupObserver() (err error) {
	cfg := a.cfg
	a.observer, err = observe.New(observe.Config{
		Logger: a.log,
		// The router is complete before the first request (setupRouter).
		Router:           a.router,
		SkipPaths:        probePaths,
		TrustedProxies:   cfg.TrustedProxies,
		ClientIPHeader:   cfg.ClientIPHeader,
		Registerer:       a.registry,
		SentryDSN:        cfg.SentryDSN,
		Environment:      cfg.Env,
		TracesSampleRate: cfg.SentryTracesSampleRate,
		ScrubValues:      []string{cfg.SecretKey, cfg.JWTSecretKey, cfg.OpenAIKey, cfg.DemoPassword, cfg.HealthToken, cfg.MetricsToken},
		// With a token, /metrics answers 401 problem+json to requests without it,
		// compared in constant time.
		MetricsToken: cfg.MetricsToken,
		Now:          a.now,
	})
	return err
}

func (a *API) setupSecurity() (err error) {
	cfg := a.cfg
	profile := security.Development
	if cfg.IsProduction() {
		profile = security.Production
	}
	a.security, err = security.New(security.Config{
		Profile: profile,
		// Production has them (config refuses to start without ALLOWED_HOSTS).
		AllowedHosts:       cfg.AllowedHosts,
		TrustedProxies:     cfg.TrustedProxies,
		ClientIPHeader:     cfg.ClientIPHeader,
		TrustForwardedHost: cfg.TrustForwardedHost,
		CSP:                security.CSPConfig{ReportURI: cspReportPath},
		CORS:               security.CORS{Origins: cfg.CORSOrigins, AllowCredentials: len(cfg.CORSOrigins) > 0 && !slices.Contains(cfg.CORSOrigins, "*")},
		CSRF:               security.CSRF{BypassPatterns: []string{"POST " + cspReportPath}},
		MaxBodyBytes:       cfg.MaxContentLength,
		Logger:             a.log,
		Registerer:         a.registry,
	})
	if err != nil {
		return err
	}
	a.cspReports, err = cspreport.New(cspreport.Config{
		Logger: a.log, Registerer: a.registry, Now: a.now,
		// With ruleCSPReport per client, each address is held to a small share of these.
		MaxReports: cspMaxReports, LogLimit: cspLogLimit,
	})
	return err
}

func (a *API) setupCompressor() (err error) {
	a.compressor, err = compress.New(compress.Config{
		Level:   a.cfg.CompressLevel,
		MinSize: a.cfg.CompressMinSize,
		// gzip and zstd request bodies are decoded before the handlers read them. The
		// two limits compose: security (outside) caps the bytes on the wire at
		// MAX_CONTENT_LENGTH, compress caps the decoded bytes at MAX_CONTENT_LENGTH
		// (413 past it, 415 for a coding it cannot decode).
		DecompressRequests:  true,
		MaxDecompressedSize: a.cfg.MaxContentLength,
		Registerer:          a.registry,
	})
	return err
}

func (a *API) setupHealth() (err error) {
	checks := []health.Check{
		{Name: "database", Func: a.db.Pool().Check, ComponentType: "datastore"},
		health.Memory("memory", health.MemoryConfig{}),
	}
	if a.rdb != nil {
		// Without Redis the app degrades (limits fail open, revocation falls back to the
		// database) rather than stops: a Redis outage must not empty the load balancer.
		rc := redischeck.Ping("redis", a.rdb)
		rc.NonCritical = true
		checks = append(checks, rc)
	}
	a.health, err = health.New(health.Config{
		Checks: checks,
		// Probes see a lost database within about a second (the default 5 s cache let
		// /ready answer 200 for seconds after the connection was gone): at most one
		// SELECT 1 per second however many probes come.
		Interval: time.Second,
		// Details (each check, its errors) only with HEALTH_TOKEN or from
		// HEALTH_DETAIL_CIDRS; everyone else gets the status alone. Loopback is not
		// trusted by default: behind a proxy on the same host, every visitor is loopback.
		Token:          a.cfg.HealthToken,
		DetailCIDRs:    a.cfg.HealthDetailCIDRs,
		TrustedProxies: a.cfg.TrustedProxies,
		ClientIPHeader: a.cfg.ClientIPHeader,
		Logger:         a.log,
		Registerer:     a.registry,
		ServiceID:      "nexus",
		Now:            a.now,
	})
	return err
}

// limitStore is where the rate limiter counts: Redis when configured, shared by every
// instance and following the Redis server's clock; nil otherwise, for the limiter's own
// memory store on the API's clock.
func (a *API) limitStore() (limitstore.Store, error) {
	if a.rdb == nil {
		return nil, nil
	}
	return redisstore.New(a.rdb, redisstore.Config{
		Prefix: a.cfg.RedisPrefix + "ratelimit:",
		// A saturated instance can take longer than the store's 50 ms default to get a
		// pooled connection and an answer, and the breaker would then turn healthy-Redis
		// slowness into fail-open decisions; 250 ms still bounds what an outage adds to
		// a request before the breaker opens.
		Timeout: 250 * time.Millisecond,
	})
}

// setupLimits builds the default limiter and the per-route ones (login, register),
// which share its store and its reading of the client address.
func (a *API) setupLimits(routeRules map[string]string) error {
	st, err := a.limitStore()
	if err != nil {
		return err
	}
	a.limiter, err = ratelimit.New(ratelimit.Config{
		Name: "default",
		Rule: a.cfg.RateLimitDefault,
		// The API document promises both header families to clients.
		Headers: ratelimit.HeadersAll,
		// The page and its icon are static; the API calls they make are limited.
		ExemptPaths:    []string{"/", "/favicon.ico"},
		Store:          st,
		TrustedProxies: a.cfg.TrustedProxies,
		ClientIPHeader: a.cfg.ClientIPHeader,
		Logger:         a.log,
		Registerer:     a.registry,
		Now:            a.now,
	})
	if err != nil {
		return err
	}
	if a.ipKey, err = ratelimit.IPKey(ratelimit.Config{
		TrustedProxies: a.cfg.TrustedProxies, ClientIPHeader: a.cfg.ClientIPHeader,
	}); err != nil {
		return err
	}
	a.trusted = newKnownClients(a.now)
	a.routeLimits = map[string]*ratelimit.Limiter{}
	for name, rule := range map[string]string{"login": ruleLogin, "register": ruleRegister, "csp_report": ruleCSPReport} {
		enforced := rule
		if r, ok := routeRules[name]; ok {
			enforced = r
		}
		r, err := ratelimit.ParseRule(enforced)
		if err != nil {
			return err
		}
		if a.routeLimits[name], err = a.limiter.With(name, r); err != nil {
			return err
		}
	}
	return nil
}

func (a *API) setupCache() error {
	var cacheStore cache.Store
	if a.rdb != nil {
		// Two levels: a local copy in front of Redis; writes, deletes and tag versions
		// travel through Redis with a pub/sub message, so an invalidation on one instance
		// reaches every other. The store puts REDIS_PREFIX in front of the cache's own
		// keys: <prefix>cache:k:… and <prefix>cache:t:… (the namespace below); the
		// messages travel on <prefix>cache:invalidate.
		tl, err := rediscache.NewTwoLevel(a.rdb, rediscache.Config{
			Prefix: a.cfg.RedisPrefix, Logger: a.log, Registerer: a.registry,
		})
		if err != nil {
			return err
		}
		a.closers = append(a.closers, tl.Close)
		if !a.redisDown {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := tl.WaitSubscribed(ctx); err != nil {
				return fmt.Errorf("cache invalidation channel: %w", err)
			}
		}
		cacheStore, a.cacheMemory, a.cacheShared = tl, tl.Local(), true
	} else {
		var err error
		if a.cacheMemory, err = cache.NewMemory(cache.MemoryConfig{}); err != nil {
			return err
		}
		a.closers = append(a.closers, a.cacheMemory.Close)
		cacheStore = a.cacheMemory
	}
	var err error
	if a.cache, err = cache.New(cacheStore, cache.Config{
		Namespace: cacheNamespace, Tiers: a.cfg.CacheTiers, Logger: a.log, Registerer: a.registry,
	}); err != nil {
		return err
	}
	a.closers = append(a.closers, a.cache.Close)
	a.httpCaches = map[string]*cache.HTTPCache{}
	// Cache-Status tells what the cache did; only development shows it, since it tells
	// clients when others asked for a resource.
	development := !a.cfg.IsProduction()
	showStatus := func(*http.Request) bool { return development }
	for _, tag := range cacheTags {
		// The cached routes read no query parameter, so none is declared (Query): a
		// request with a query string is answered by the handler and not stored, and
		// made-up parameters cannot fill the cache. Requests carrying credentials
		// (Authorization, Cookie) are not served from it either.
		cfg := cache.HTTPConfig{Tier: cache.Long, Tags: []string{tag}, Name: "nexus", CacheStatus: showStatus}
		if a.httpCaches[tag], err = cache.NewHTTP(a.cache, cfg); err != nil {
			return err
		}
	}
	return nil
}
