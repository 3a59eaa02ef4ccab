package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"
	"golang.org/x/crypto/bcrypt"
)

// app is the backend: configuration, stores and clients shared by every handler.
type app struct {
	cfg *Config
	log *slog.Logger
	db  *database
	rdb *redis.Client // nil without REDIS_URL

	redisPrefix string
	registry    *prometheus.Registry
	aria        *ariaClient
	now         func() time.Time
	bcryptCost  int
	dummyHash   []byte
	closers     []func() error

	components
}

// appOptions are knobs tests turn; the zero value is production behaviour.
type appOptions struct {
	bcryptCost  int    // 0 = bcrypt cost 12
	redisPrefix string // 0 = "nexus:"
	now         func() time.Time
	// routeRules replaces the per-route rate-limit rules (by route name: "login",
	// "register"); nil keeps ruleLogin and ruleRegister.
	routeRules map[string]string
}

// newApp opens the database (migrating it, seeding demo data in development), connects
// Redis when configured and builds every component.
func newApp(ctx context.Context, cfg *Config, log *slog.Logger, opt appOptions) (_ *app, err error) {
	a := &app{
		cfg: cfg, log: log, now: opt.now, bcryptCost: opt.bcryptCost, redisPrefix: opt.redisPrefix,
		registry: prometheus.NewRegistry(),
	}
	defer func() {
		if err != nil {
			_ = a.close()
		}
	}()
	if a.now == nil {
		a.now = time.Now
	}
	if a.bcryptCost == 0 {
		a.bcryptCost = 12
	}
	if a.redisPrefix == "" {
		a.redisPrefix = "nexus:"
	}
	a.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if a.dummyHash, err = bcrypt.GenerateFromPassword([]byte(randomHex(8)), a.bcryptCost); err != nil {
		return nil, err
	}
	if a.db, err = openDatabase(ctx, cfg, log, a.registry); err != nil {
		return nil, err
	}
	a.closers = append(a.closers, a.db.Close)
	if err = a.db.migrate(ctx); err != nil {
		return nil, err
	}
	if cfg.RedisURL != "" {
		opts, err := redis.ParseURL(cfg.RedisURL)
		if err != nil {
			return nil, fmt.Errorf("REDIS_URL: %w", redactErr(err, cfg.RedisURL))
		}
		opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout = 2*time.Second, time.Second, time.Second
		// Per-call deadlines (the rate limiter's store timeout) are enforced by the client
		// itself rather than by a goroutine per call.
		opts.ContextTimeoutEnabled = true
		a.rdb = redis.NewClient(opts)
		a.closers = append(a.closers, a.rdb.Close)
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := a.rdb.Ping(pctx).Err(); err != nil {
			return nil, fmt.Errorf("redis unreachable (%s): %w", redactURL(cfg.RedisURL), redactErr(err, cfg.RedisURL))
		}
	}
	a.aria = newAriaClient(cfg)
	if !cfg.Production() {
		if err = a.seedDemo(ctx); err != nil {
			return nil, fmt.Errorf("demo data: %w", err)
		}
	}
	if err = a.setupComponents(opt.routeRules); err != nil {
		return nil, err
	}
	return a, nil
}

// close releases everything newApp opened, last opened first.
func (a *app) close() error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		errs = append(errs, a.closers[i]())
	}
	a.closers = nil
	return errors.Join(errs...)
}
