package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// diagnose checks the configuration and every external dependency, printing one line per
// check with credentials masked. It returns 1 when any check fails.
func diagnose(ctx context.Context, cfg *Config, cfgErr error, out io.Writer) int {
	failed := false
	report := func(ok bool, name, detail string) {
		mark := "ok  "
		if !ok {
			mark, failed = "FAIL", true
		}
		fmt.Fprintf(out, "%s  %-12s %s\n", mark, name, detail)
	}
	if cfgErr != nil {
		report(false, "config", cfgErr.Error())
		return 1
	}
	report(true, "config", "environment "+cfg.Env)

	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()

	driver, _, _ := databaseTarget(cfg.DatabaseURL)
	target := redactDSN(driver, cfg.DatabaseURL)
	if db, err := openDatabase(ctx, cfg, slog.New(slog.DiscardHandler), nil); err != nil {
		report(false, "database", target+": "+errorLine(err))
	} else {
		var n int
		err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM formulas`).Scan(&n)
		if err != nil {
			report(false, "database", target+": connected, schema missing (start the server once to migrate)")
		} else {
			report(true, "database", target+": connected, "+strconv.Itoa(n)+" formulas")
		}
		_ = db.Close()
	}

	if cfg.RedisURL == "" {
		report(true, "redis", "not configured: limits, cache and revocation stay in this process")
	} else {
		opts, _ := redis.ParseURL(cfg.RedisURL)
		opts.DialTimeout = 3 * time.Second
		c := redis.NewClient(opts)
		if err := c.Ping(ctx).Err(); err != nil {
			report(false, "redis", redactURL(cfg.RedisURL)+": "+errorLine(err))
		} else {
			report(true, "redis", redactURL(cfg.RedisURL)+": PONG")
		}
		_ = c.Close()
	}

	for _, s := range []struct{ name, v string }{{"SECRET_KEY", cfg.SecretKey}, {"JWT_SECRET_KEY", cfg.JWTSecretKey}} {
		gen := false
		for _, g := range cfg.generated {
			gen = gen || g == s.name
		}
		switch {
		case gen:
			report(!cfg.Production(), "secret", s.name+" unset: a random value is used per run (development only)")
		case isDefaultSecret(s.v):
			report(false, "secret", s.name+" is a published default value")
		case len(s.v) < minSecretLength:
			report(false, "secret", s.name+" is shorter than "+strconv.Itoa(minSecretLength)+" characters")
		default:
			report(true, "secret", s.name+" set ("+strconv.Itoa(len(s.v))+" characters, "+mask(s.v)+")")
		}
	}

	if cfg.MailServer == "" {
		report(true, "mail", "not configured (MAIL_SERVER empty)")
	} else {
		addr := net.JoinHostPort(cfg.MailServer, strconv.Itoa(cfg.MailPort))
		d := net.Dialer{Timeout: 5 * time.Second}
		if c, err := d.DialContext(ctx, "tcp", addr); err != nil {
			report(false, "mail", addr+": "+errorLine(err))
		} else {
			_ = c.Close()
			report(true, "mail", addr+": reachable")
		}
	}

	if cfg.OpenAIKey == "" {
		report(true, "openai", "not configured: ARIA answers 503 (OPENAI_API_KEY empty)")
	} else {
		report(checkOpenAI(ctx, cfg), "openai", cfg.OpenAIBase+" model "+cfg.OpenAIModel+", key "+mask(cfg.OpenAIKey))
	}
	if failed {
		return 1
	}
	return 0
}

// checkOpenAI lists the models with the configured key.
func checkOpenAI(ctx context.Context, cfg *Config) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.OpenAIBase+"/models", nil)
	if err != nil {
		return false
	}
	req.Header.Set("Authorization", "Bearer "+cfg.OpenAIKey)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return false
	}
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// mask shows the first and last two characters of a secret at most.
func mask(s string) string {
	if len(s) < 12 {
		return "****"
	}
	return s[:2] + "…" + s[len(s)-2:]
}

// errorLine keeps the innermost cause (network or server error), which names no credentials.
func errorLine(err error) string {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			break
		}
		err = u
	}
	return err.Error()
}

// healthcheck probes the local server's /ready; it is the container HEALTHCHECK.
func healthcheck(ctx context.Context, cfg *Config, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "http://127.0.0.1:"+strconv.Itoa(cfg.Port)+"/ready", "URL to probe")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		fmt.Fprintln(stderr, "healthcheck:", err)
		return 1
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(stderr, "healthcheck:", err)
		return 1
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintln(stderr, "healthcheck:", resp.Status)
		return 1
	}
	return 0
}
