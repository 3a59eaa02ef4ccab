// Package app assembles the backend: it opens the database (migrating it, and seeding
// the demo data in development), connects Redis when configured, builds the
// authentication, the ARIA client and the HTTP API, and serves with a graceful shutdown.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"

	"github.com/nexus-reussite/harden/examples/nexus/internal/aria"
	"github.com/nexus-reussite/harden/examples/nexus/internal/auth"
	"github.com/nexus-reussite/harden/examples/nexus/internal/config"
	"github.com/nexus-reussite/harden/examples/nexus/internal/httpapi"
	"github.com/nexus-reussite/harden/examples/nexus/internal/redact"
	"github.com/nexus-reussite/harden/examples/nexus/internal/store"
)

// Options are knobs tests turn; the zero value is production behaviour.
type Options struct {
	BcryptCost int              // 0 = auth.DefaultBcryptCost
	Now        func() time.Time // nil = time.Now
	// RouteRules replaces the per-route rate-limit rules, by route name ("login",
	// "register"); nil keeps the built-in ones.
	RouteRules map[string]string
	// ARIATimeout bounds one ARIA completion; 0 = aria.DefaultTimeout.
	ARIATimeout time.Duration
	// ResetDemo deletes the demo accounts, their data and the demo groups before seeding
	// them afresh ("nexus reset-demo"); development only.
	ResetDemo bool
}

// App is the running backend.
type App struct {
	cfg     *config.Config
	log     *slog.Logger
	db      *store.DB
	rdb     *redis.Client // nil without REDIS_URL
	auth    *auth.Service
	api     *httpapi.API
	closers []func() error
}

// New opens the database (migrating it, seeding demo data in development), connects
// Redis when configured and builds every component.
func New(ctx context.Context, cfg *config.Config, log *slog.Logger, opt Options) (_ *App, err error) {
	if opt.ResetDemo && cfg.IsProduction() {
		return nil, errors.New("demo data exists only in development; refusing to reset it in production")
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	a := &App{cfg: cfg, log: log}
	defer func() {
		if err != nil {
			_ = a.Close()
		}
	}()
	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if a.db, err = store.Open(ctx, cfg, log, registry); err != nil {
		return nil, err
	}
	a.closers = append(a.closers, a.db.Close)
	a.logDatabase(ctx)
	if err = a.db.Migrate(ctx); err != nil {
		return nil, err
	}
	var redisDown bool
	if a.rdb, redisDown, err = connectRedis(ctx, cfg.RedisURL, log); err != nil {
		return nil, err
	}
	if a.rdb != nil {
		a.closers = append(a.closers, a.rdb.Close)
	}
	if a.auth, err = auth.New(a.db, auth.Config{
		JWTSecretKey: cfg.JWTSecretKey, SecretKey: cfg.SecretKey, BcryptCost: opt.BcryptCost,
		Redis: a.rdb, RedisPrefix: cfg.RedisPrefix, Now: opt.Now, Logger: log,
		Throttle: auth.ThrottleConfig{
			Free: cfg.LoginThrottleFree, Base: cfg.LoginThrottleBaseDelay, Max: cfg.LoginThrottleMaxDelay,
		},
		RefreshGrace: cfg.RefreshGrace,
	}); err != nil {
		return nil, err
	}
	if !cfg.IsProduction() {
		if err = a.seedDemo(ctx, opt.Now(), opt.ResetDemo); err != nil {
			return nil, fmt.Errorf("demo data: %w", err)
		}
	}
	if a.api, err = httpapi.New(httpapi.Deps{
		Config: cfg, Logger: log, Registry: registry, DB: a.db, Redis: a.rdb,
		Auth: a.auth, Now: opt.Now, RouteRules: opt.RouteRules, RedisDownAtStart: redisDown,
		Aria: aria.New(aria.Config{BaseURL: cfg.OpenAIBase, Key: cfg.OpenAIKey, Model: cfg.OpenAIModel, Timeout: opt.ARIATimeout}),
	}); err != nil {
		return nil, err
	}
	a.closers = append(a.closers, a.api.Close)
	return a, nil
}

// logDatabase logs where the data lives: the SQLite file's path, or the PostgreSQL URL
// without its credentials.
func (a *App) logDatabase(ctx context.Context) {
	driver, dsn, err := config.DatabaseTarget(a.cfg.DatabaseURL)
	switch {
	case err != nil:
	case driver == store.SQLite:
		if abs, err := filepath.Abs(dsn); err == nil {
			dsn = abs
		}
		a.log.InfoContext(ctx, "database", "driver", driver, "path", dsn, "default", a.cfg.DatabaseURL == "")
	default:
		a.log.InfoContext(ctx, "database", "driver", driver, "url", redact.DSN(driver, a.cfg.DatabaseURL))
	}
}

// connectRedis connects REDIS_URL; nil without one. A Redis that does not answer is not
// an error: the client is returned with down set, and the backend starts degraded exactly
// as after losing Redis at run time (rate limits fail open, the cache serves its local
// level, session checks fall back to the database, /health warns, /ready stays 200). The
// client connects by itself once Redis answers.
func connectRedis(ctx context.Context, rawURL string, log *slog.Logger) (_ *redis.Client, down bool, _ error) {
	if rawURL == "" {
		return nil, false, nil
	}
	opts, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, false, fmt.Errorf("REDIS_URL: %w", redact.Error(err, rawURL))
	}
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout = 2*time.Second, time.Second, time.Second
	// Per-call deadlines (the rate limiter's store timeout) are enforced by the client
	// itself rather than by a goroutine per call.
	opts.ContextTimeoutEnabled = true
	rdb := redis.NewClient(opts)
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := rdb.Ping(pctx).Err(); err != nil {
		log.WarnContext(ctx, "redis unreachable at start; running degraded until it answers",
			"redis", redact.URL(rawURL), "err", redact.Error(err, rawURL))
		return rdb, true, nil
	}
	return rdb, false, nil
}

// Handler is the backend's HTTP handler, middleware chain included.
func (a *App) Handler() http.Handler { return a.api.Handler() }

// Close releases everything New opened, last opened first.
func (a *App) Close() error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		errs = append(errs, a.closers[i]())
	}
	a.closers = nil
	return errors.Join(errs...)
}
