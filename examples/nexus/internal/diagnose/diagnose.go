// Package diagnose is the "nexus diagnose" command: it checks the configuration and
// every external dependency (database, Redis, secrets, mail, OpenAI) in one health run
// and prints the report with credentials masked.
package diagnose

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/smtp"
	"strconv"
	"strings"
	"time"

	"github.com/nexus-reussite/harden/health"
	"github.com/nexus-reussite/harden/health/redischeck"
	"github.com/redis/go-redis/v9"

	"github.com/nexus-reussite/harden/examples/nexus/internal/config"
	"github.com/nexus-reussite/harden/examples/nexus/internal/redact"
	"github.com/nexus-reussite/harden/examples/nexus/internal/store"
)

// Time limits of the diagnosis checks. The database one covers opening the pool, the
// readiness query and counting the formulas.
const (
	databaseTimeout = 15 * time.Second
	redisTimeout    = 5 * time.Second
	mailTimeout     = 5 * time.Second
	openAITimeout   = 10 * time.Second
)

// Run checks the configuration and every external dependency through one health
// run and prints its report ((*health.Health).Diagnose) with credentials masked. Items
// that are not configured warn; it returns 1 when any check fails, 0 otherwise.
func Run(ctx context.Context, cfg *config.Config, cfgErr error, out io.Writer) int {
	checks := []health.Check{{Name: "config", Func: func(context.Context) error {
		return errors.New(configErrorLine(cfgErr))
	}}}
	var secrets []string
	if cfgErr == nil {
		var closeAll func()
		checks, secrets, closeAll = checksOf(cfg)
		defer closeAll()
	}
	h, err := health.New(health.Config{Checks: checks})
	if err != nil {
		fmt.Fprintln(out, "FAIL:", redact.Scrub(err.Error(), secrets))
		return 1
	}
	if err := h.Diagnose(ctx, out); err != nil {
		return 1
	}
	return 0
}

// checksOf returns the checks of a valid configuration, their errors and
// component ids scrubbed of the configured credentials (which it also returns), and a
// function releasing what the checks hold.
func checksOf(cfg *config.Config) ([]health.Check, []string, func()) {
	secrets := configSecrets(cfg)
	rc, closeRedis := redisCheck(cfg)
	checks := []health.Check{
		{Name: "config", Func: func(ctx context.Context) error {
			health.Observe(ctx, cfg.Env, "")
			return nil
		}},
		databaseCheck(cfg),
		rc,
		secretCheck(cfg, "SECRET_KEY", cfg.SecretKey),
		secretCheck(cfg, "JWT_SECRET_KEY", cfg.JWTSecretKey),
		mailCheck(cfg),
		openAICheck(cfg),
	}
	for i := range checks {
		if f := checks[i].Func; f != nil {
			checks[i].Func = scrubbed(secrets, f)
		}
		checks[i].ComponentID = redact.Scrub(checks[i].ComponentID, secrets)
	}
	return checks, secrets, func() {
		if closeRedis != nil {
			_ = closeRedis()
		}
	}
}

// databaseCheck opens DATABASE_URL as the server does, runs the server's readiness
// query (store.Open ends with the pool's Check, the /ready check of the server), and
// counts the formulas: a database without the schema fails.
func databaseCheck(cfg *config.Config) health.Check {
	driver, dsn, _ := config.DatabaseTarget(cfg.DatabaseURL)
	target := redact.DSN(driver, cfg.DatabaseURL)
	if cfg.DatabaseURL == "" {
		target = "embedded sqlite " + dsn
	}
	return health.Check{
		Name: "database", ComponentType: "datastore", ComponentID: target, Timeout: databaseTimeout,
		Func: func(ctx context.Context) error {
			db, err := store.Open(ctx, cfg, slog.New(slog.DiscardHandler), nil)
			if err != nil {
				return err
			}
			defer db.Close()
			n, err := db.CountFormulas(ctx)
			if errors.Is(err, store.ErrNoSchema) {
				return errors.New("connected, schema missing (start the server once to migrate)")
			}
			if err != nil {
				return fmt.Errorf("counting formulas: %w", err)
			}
			health.Observe(ctx, n, "formulas")
			return nil
		},
	}
}

// redisCheck pings REDIS_URL with the server's check (redischeck.Ping) and client
// timeouts. Unlike the server's /ready, where a Redis outage only degrades the service,
// a configured Redis that does not answer fails the diagnosis. Without REDIS_URL it
// warns. The returned function closes the client (nil when there is none).
func redisCheck(cfg *config.Config) (health.Check, func() error) {
	if cfg.RedisURL == "" {
		return health.Check{Name: "redis", ComponentType: "datastore", Func: func(context.Context) error {
			return health.Warning(errors.New("not configured: limits, cache and revocation stay in this process (REDIS_URL empty)"))
		}}, nil
	}
	target := redact.URL(cfg.RedisURL)
	opts, err := redis.ParseURL(cfg.RedisURL)
	if err != nil { // config.Load rejects it; kept for a Config built another way
		return health.Check{Name: "redis", ComponentType: "datastore", ComponentID: target, Func: func(context.Context) error {
			return errors.New("REDIS_URL is not a redis:// URL")
		}}, nil
	}
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout = 2*time.Second, time.Second, time.Second
	rdb := redis.NewClient(opts)
	c := redischeck.Ping("redis", rdb)
	c.ComponentID, c.Timeout = target, redisTimeout
	return c, rdb.Close
}

// secretCheck rates SECRET_KEY or JWT_SECRET_KEY: a weak value (config.SecretWeakness:
// short, published, a placeholder, repetitive) fails; a value made up for this run
// (development) warns. It says only whether the secret is set and strong: no character
// of it, nor its length, is printed.
func secretCheck(cfg *config.Config, name, v string) health.Check {
	c := health.Check{Name: name}
	generated := false
	for _, g := range cfg.GeneratedSecrets {
		generated = generated || g == name
	}
	why := config.SecretWeakness(v)
	switch {
	case v == "":
		c.Func = func(context.Context) error { return errors.New("unset") }
	case generated:
		c.Func = func(context.Context) error {
			return health.Warning(errors.New("unset: a random value is used per run (development only)"))
		}
	case why != "":
		c.Func = func(context.Context) error { return errors.New("set, weak: " + why) }
	default:
		c.Func = func(ctx context.Context) error {
			health.Observe(ctx, "set and strong", "")
			return nil
		}
	}
	return c
}

// mailCheck reads the SMTP greeting of MAIL_SERVER:MAIL_PORT, says EHLO and QUIT.
// Without MAIL_SERVER it warns.
func mailCheck(cfg *config.Config) health.Check {
	if cfg.MailServer == "" {
		return health.Check{Name: "mail", Func: func(context.Context) error {
			return health.Warning(errors.New("not configured (MAIL_SERVER empty)"))
		}}
	}
	addr := net.JoinHostPort(cfg.MailServer, strconv.Itoa(cfg.MailPort))
	return health.Check{
		Name: "mail", ComponentType: "component", ComponentID: "smtp://" + addr, Timeout: mailTimeout,
		Func: func(ctx context.Context) error { return smtpGreeting(ctx, cfg.MailServer, addr) },
	}
}

// smtpGreeting connects to addr, expects the 220 greeting, and ends the session with
// EHLO (sent by Quit) and QUIT.
func smtpGreeting(ctx context.Context, host, addr string) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return fmt.Errorf("no SMTP greeting: %w", err)
	}
	if err := c.Quit(); err != nil {
		return fmt.Errorf("SMTP QUIT: %w", err)
	}
	return nil
}

// openAICheck lists the models of OPENAI_API_BASE with the configured key
// (health.HTTP); the key travels in the Authorization header only. Without
// OPENAI_API_KEY it warns: ARIA answers 503.
func openAICheck(cfg *config.Config) health.Check {
	if cfg.OpenAIKey == "" {
		return health.Check{Name: "openai", Func: func(context.Context) error {
			return health.Warning(errors.New("not configured: ARIA answers 503 (OPENAI_API_KEY empty)"))
		}}
	}
	c := health.HTTP("openai", health.HTTPConfig{
		URL:    cfg.OpenAIBase + "/models",
		Header: http.Header{"Authorization": {"Bearer " + cfg.OpenAIKey}},
	})
	c.ComponentID = redact.URL(cfg.OpenAIBase) + " model " + cfg.OpenAIModel + ", key set"
	c.Timeout = openAITimeout
	return c
}

// configSecrets lists the credentials of cfg that must never be printed: the secrets,
// the demo password, the OpenAI key, the health and metrics tokens and the passwords of the database and Redis URLs
// (in the user part or the query).
func configSecrets(cfg *config.Config) []string {
	out := []string{cfg.SecretKey, cfg.JWTSecretKey, cfg.DemoPassword, cfg.OpenAIKey, cfg.HealthToken, cfg.MetricsToken}
	for _, raw := range []string{cfg.DatabaseURL, cfg.RedisURL, cfg.OpenAIBase} {
		out = append(out, redact.Secrets(raw)...)
	}
	return out
}

// scrubbed wraps a check so that its error never carries one of secrets (a driver
// echoing a DSN, say); a warning stays a warning.
func scrubbed(secrets []string, f func(context.Context) error) func(context.Context) error {
	return func(ctx context.Context) error {
		err := f(ctx)
		if err == nil {
			return nil
		}
		msg := err.Error()
		clean := redact.Scrub(msg, secrets)
		if clean == msg {
			return err
		}
		if errors.Is(err, health.ErrWarning) {
			return health.Warning(errors.New(clean))
		}
		return errors.New(clean)
	}
}

// configErrorLine puts a configuration error on one line. The configuration did not
// load, so its secrets are unknown: the user part and credential parameters of any URL
// it quotes (REDIS_URL in a parse error, say) are hidden.
func configErrorLine(err error) string {
	return redact.Text(strings.ReplaceAll(err.Error(), "\n", "; "))
}
