package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/nexus-reussite/harden/cache"
	"github.com/nexus-reussite/harden/cache/rediscache"
	"github.com/nexus-reussite/harden/compress"
	"github.com/nexus-reussite/harden/health"
	"github.com/nexus-reussite/harden/health/redischeck"
	"github.com/nexus-reussite/harden/observe"
	"github.com/nexus-reussite/harden/ratelimit"
	"github.com/nexus-reussite/harden/ratelimit/redisstore"
	"github.com/nexus-reussite/harden/security"
)

// Rate-limit rules attached to single routes on top of the default rule.
const (
	ruleLogin    = "5 per minute"
	ruleRegister = "3 per minute"
)

// Cache tags.
const tagFormulas = "formulas"

// cacheTags are the tags an admin may invalidate.
var cacheTags = []string{tagFormulas}

// cspReportPath receives the browsers' CSP violation reports.
const cspReportPath = "/api/csp-report"

// probePaths are served outside the application chain.
var probePaths = []string{"/live", "/ready", "/health", "/metrics"}

// components are the harden middlewares and stores, built once per app.
type components struct {
	observer    *observe.Observer
	security    *security.Security
	cspReports  *security.Reports
	compressor  *compress.Compressor
	health      *health.Health
	limiter     *ratelimit.Limiter
	routeLimits map[string]*ratelimit.Limiter
	cache       *cache.Cache
	cacheMemory *cache.Memory // the in-process level
	cacheShared bool          // the cache lives in Redis, shared by every instance
	httpCaches  map[string]*cache.HTTPCache
}

// setupComponents builds the middlewares and stores from the configuration.
func (a *app) setupComponents(routeRules map[string]string) error {
	cfg := a.cfg
	var err error
	a.observer, err = observe.New(observe.Config{
		Logger:           a.log,
		SkipPaths:        probePaths,
		TrustedProxies:   cfg.TrustedProxies,
		Registerer:       a.registry,
		SentryDSN:        cfg.SentryDSN,
		Environment:      cfg.Env,
		TracesSampleRate: cfg.SentryTracesSampleRate,
		ScrubValues:      []string{cfg.SecretKey, cfg.JWTSecretKey, cfg.OpenAIKey, cfg.DemoPassword},
		Now:              a.now,
	})
	if err != nil {
		return err
	}

	profile := security.Development
	if cfg.Production() {
		profile = security.Production
	}
	a.security, err = security.New(security.Config{
		Profile:        profile,
		AllowedHosts:   cfg.AllowedHosts,
		TrustedProxies: cfg.TrustedProxies,
		CSP:            security.CSPConfig{ReportURI: cspReportPath},
		CORS:           security.CORS{Origins: cfg.CORSOrigins, AllowCredentials: len(cfg.CORSOrigins) > 0 && !slices.Contains(cfg.CORSOrigins, "*")},
		CSRF:           security.CSRF{BypassPatterns: []string{"POST " + cspReportPath}},
		MaxBodyBytes:   cfg.MaxContentLength,
		Logger:         a.log,
		Registerer:     a.registry,
	})
	if err != nil {
		return err
	}
	if a.cspReports, err = security.NewReports(security.ReportsConfig{Logger: a.log, Registerer: a.registry, Now: a.now}); err != nil {
		return err
	}
	if a.compressor, err = compress.New(compress.Config{Level: cfg.CompressLevel, MinSize: cfg.CompressMinSize, Registerer: a.registry}); err != nil {
		return err
	}

	checks := []health.Check{
		{Name: "database", Func: a.db.Check, ComponentType: "datastore"},
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
		Interval:       time.Second,
		DetailCIDRs:    []string{"127.0.0.1", "::1"},
		TrustedProxies: cfg.TrustedProxies,
		Logger:         a.log,
		Registerer:     a.registry,
		ServiceID:      "nexus",
		Now:            a.now,
	})
	if err != nil {
		return err
	}

	var store ratelimit.Store
	if a.rdb != nil {
		// Windows follow the Redis server's clock, shared by every instance.
		if store, err = redisstore.New(a.rdb, redisstore.Config{Prefix: a.redisPrefix + "ratelimit:"}); err != nil {
			return err
		}
	} else if store, err = ratelimit.NewMemoryStore(ratelimit.MemoryConfig{Now: a.now}); err != nil {
		return err
	}
	a.limiter, err = ratelimit.New(ratelimit.Config{
		Name: "default",
		Rule: cfg.RateLimitDefault,
		// The page and its icon are static; the API calls they make are limited.
		ExemptPaths:    []string{"/", "/favicon.ico"},
		Store:          store,
		TrustedProxies: cfg.TrustedProxies,
		Logger:         a.log,
		Registerer:     a.registry,
		Now:            a.now,
	})
	if err != nil {
		return err
	}
	a.routeLimits = map[string]*ratelimit.Limiter{}
	for name, rule := range map[string]string{"login": ruleLogin, "register": ruleRegister} {
		enforced := rule
		if r, ok := routeRules[name]; ok {
			enforced = r
		}
		r, err := ratelimit.ParseRule(enforced)
		if err != nil {
			return err
		}
		if a.routeLimits[rule], err = a.limiter.With(name, r); err != nil {
			return err
		}
	}

	var cacheStore cache.Store
	if a.rdb != nil {
		// Two levels: a local copy in front of Redis; writes, deletes and tag versions
		// travel through Redis with a pub/sub message, so an invalidation on one instance
		// reaches every other.
		tl, err := rediscache.NewTwoLevel(a.rdb, rediscache.Config{
			Prefix: a.redisPrefix, Channel: a.redisPrefix + "cache:invalidate", Logger: a.log, Registerer: a.registry,
		})
		if err != nil {
			return err
		}
		a.closers = append(a.closers, tl.Close)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := tl.WaitSubscribed(ctx); err != nil {
			return fmt.Errorf("cache invalidation channel: %w", err)
		}
		cacheStore, a.cacheMemory, a.cacheShared = tl, tl.Local(), true
	} else {
		if a.cacheMemory, err = cache.NewMemory(cache.MemoryConfig{}); err != nil {
			return err
		}
		a.closers = append(a.closers, a.cacheMemory.Close)
		cacheStore = a.cacheMemory
	}
	if a.cache, err = cache.New(cacheStore, cache.Config{
		Namespace: a.redisPrefix + "cache:", Tiers: cfg.CacheTiers, Logger: a.log, Registerer: a.registry,
	}); err != nil {
		return err
	}
	a.closers = append(a.closers, a.cache.Close)
	a.httpCaches = map[string]*cache.HTTPCache{}
	for _, tag := range cacheTags {
		if a.httpCaches[tag], err = cache.NewHTTP(a.cache, cache.HTTPConfig{Tier: cache.Long, Tags: []string{tag}, Name: "nexus"}); err != nil {
			return err
		}
	}
	return nil
}

// handler assembles the middleware chain, outermost first:
//
//	observe    request ID, access log, RED metrics, panic recovery, Sentry
//	probes     /live /ready /health (health) and /metrics: never limited or redirected
//	security   allowed hosts, HTTPS redirect + HSTS (production), CSP with nonces,
//	           security headers, CORS, CSRF, body limit, cookie hardening
//	ratelimit  default rule per client IP (shared through Redis when configured)
//	compress   zstd / gzip responses
//	routes     per-route limits (login, register) and the response cache (formulas)
func (a *app) handler() http.Handler {
	var h http.Handler = withProblemFallback(a.routes())
	h = a.compressor.Handler(h)
	h = a.limiter.Handler(h)
	h = a.security.Handler(h)
	h = a.probes(h)
	return a.observer.Handler(h)
}

// probes serves the health endpoints and /metrics ahead of the application chain.
func (a *app) probes(next http.Handler) http.Handler {
	metrics := a.observer.MetricsHandler()
	app := a.health.Handler(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/metrics":
			observe.SetRoute(r.Context(), "GET /metrics")
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				w.Header().Set("Allow", "GET, HEAD")
				fail405(w)
				return
			}
			metrics.ServeHTTP(w, r)
			return
		case "/live", "/ready", "/health":
			observe.SetRoute(r.Context(), "GET "+r.URL.Path)
		}
		app.ServeHTTP(w, r)
	})
}

// limited adds a per-route rate-limit rule to next.
func (a *app) limited(rule string, next http.Handler) http.Handler {
	return a.routeLimits[rule].Handler(next)
}

// cached serves next through the HTTP response cache of tag.
func (a *app) cached(tag string, next http.Handler) http.Handler {
	return a.httpCaches[tag].Handler(next)
}

// invalidateTags drops cached responses carrying the tags, on every instance that shares
// the cache store.
func (a *app) invalidateTags(ctx context.Context, tags ...string) error {
	return a.cache.InvalidateTags(ctx, tags...)
}

// pageNonce is the CSP nonce of the request.
func (a *app) pageNonce(r *http.Request) string { return security.Nonce(r.Context()) }

// flush sends buffered telemetry (Sentry events) before exit.
func (a *app) flush() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.observer.Shutdown(ctx); err != nil {
		a.log.Warn("sentry flush", "err", err)
	}
}

// handleCacheStats reports the cache: store kind, size and the harden_cache_* counters.
func (a *app) handleCacheStats(w http.ResponseWriter, _ *http.Request, _ *principal) error {
	mfs, err := a.registry.Gather()
	if err != nil {
		return err
	}
	metrics := map[string]map[string]float64{}
	for _, mf := range mfs {
		if !strings.HasPrefix(mf.GetName(), "harden_cache_") {
			continue
		}
		series := map[string]float64{}
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			sort.Strings(labels)
			var v float64
			switch {
			case m.GetCounter() != nil:
				v = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				v = m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				v = float64(m.GetHistogram().GetSampleCount())
			}
			series[strings.Join(labels, ",")] += v
		}
		metrics[mf.GetName()] = series
	}
	store := "memory"
	if a.cacheShared {
		store = "redis+local"
	}
	body := map[string]any{"store": store, "tags": cacheTags, "metrics": metrics, "tiers": map[string]string{
		"short": fmt.Sprint(a.cache.TTL(cache.Short)), "medium": fmt.Sprint(a.cache.TTL(cache.Medium)),
		"long": fmt.Sprint(a.cache.TTL(cache.Long)), "permanent": fmt.Sprint(a.cache.TTL(cache.Permanent)),
	}}
	body["local_entries"] = a.cacheMemory.Len()
	writeJSON(w, http.StatusOK, body)
	return nil
}
