package main

import (
	"context"
	"fmt"
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
	"github.com/nexus-reussite/harden/security"
)

// cacheNamespace separates the response cache's keys in its store; in Redis they sit
// under the instance prefix, which the Redis store adds.
const cacheNamespace = "cache:"

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
	if a.compressor, err = compress.New(compress.Config{
		Level:   cfg.CompressLevel,
		MinSize: cfg.CompressMinSize,
		// gzip and zstd request bodies are decoded before the handlers read them. The
		// two limits compose: security (outside) caps the bytes on the wire at
		// MAX_CONTENT_LENGTH, compress caps the decoded bytes at MAX_CONTENT_LENGTH
		// (413 past it, 415 for a coding it cannot decode).
		DecompressRequests:  true,
		MaxDecompressedSize: cfg.MaxContentLength,
		Registerer:          a.registry,
	}); err != nil {
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
		if store, err = redisstore.New(a.rdb, redisstore.Config{
			Prefix: a.redisPrefix + "ratelimit:",
			// A saturated instance can take longer than the store's 50 ms default to
			// get a pooled connection and an answer, and the breaker would then turn
			// healthy-Redis slowness into fail-open decisions; 250 ms still bounds
			// what an outage adds to a request before the breaker opens.
			Timeout: 250 * time.Millisecond,
		}); err != nil {
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
		// reaches every other. The store puts the instance prefix in front of the cache's
		// own keys: <prefix>cache:k:… and <prefix>cache:t:… (the namespace below).
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
		Namespace: cacheNamespace, Tiers: cfg.CacheTiers, Logger: a.log, Registerer: a.registry,
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
