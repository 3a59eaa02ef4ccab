package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/nexus-reussite/harden/observe"

	"github.com/nexus-reussite/harden/examples/nexus/internal/app"
	"github.com/nexus-reussite/harden/examples/nexus/internal/config"
	"github.com/nexus-reussite/harden/examples/nexus/internal/diagnose"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run reads .env and the environment, then runs a subcommand; it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 {
		cmd = args[0]
	}
	dotenv, err := config.ReadDotenv(".env")
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	cfg, cfgErr := config.Load(config.Env(dotenv))
	switch cmd {
	case "serve":
		if cfgErr != nil {
			fmt.Fprintln(stderr, cfgErr)
			return 2
		}
		return serve(ctx, cfg, newLogger(stdout, cfg), func() (net.Listener, error) { return listen(cfg) })
	case "diagnose":
		return diagnose.Run(ctx, cfg, cfgErr, stdout)
	case "healthcheck":
		if cfgErr != nil {
			fmt.Fprintln(stderr, cfgErr)
			return 2
		}
		return healthcheck(ctx, cfg, args[1:], stderr)
	case "reset-demo":
		if cfgErr != nil {
			fmt.Fprintln(stderr, cfgErr)
			return 2
		}
		return resetDemo(ctx, cfg, newLogger(stdout, cfg), stderr)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, "usage: nexus [serve|diagnose|healthcheck|reset-demo]")
		return 0
	}
	fmt.Fprintf(stderr, "nexus: unknown command %q (want serve, diagnose, healthcheck or reset-demo)\n", cmd)
	return 2
}

func newLogger(w io.Writer, cfg *config.Config) *slog.Logger {
	return slog.New(observe.ContextHandler(observe.NewJSONLogger(w, cfg.LogLevel).Handler()))
}

// serve starts the backend, then listens and serves until ctx ends.
func serve(ctx context.Context, cfg *config.Config, log *slog.Logger, listen func() (net.Listener, error)) int {
	for _, name := range cfg.GeneratedSecrets {
		log.Warn("secret not set; using a random one for this run (sessions end at restart)", "variable", name)
	}
	a, err := app.New(ctx, cfg, log, app.Options{})
	if err != nil {
		log.Error("startup failed", "err", err)
		return 1
	}
	defer a.Close()
	ln, err := listen()
	if err != nil {
		log.Error("listen", "addr", cfg.Addr(), "err", err)
		return 1
	}
	if cfg.MetricsAddr != "" {
		mln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			_ = ln.Close()
			log.Error("listen", "addr", cfg.MetricsAddr, "variable", "METRICS_ADDR", "err", err)
			return 1
		}
		mctx, stop := context.WithCancel(ctx)
		metricsDone := make(chan error, 1)
		go func() { metricsDone <- a.ServeMetrics(mctx, mln) }()
		defer func() {
			stop()
			if err := <-metricsDone; err != nil {
				log.Error("metrics server stopped with an error", "err", err)
			}
		}()
	}
	if err := a.Serve(ctx, ln); err != nil && !errors.Is(err, context.Canceled) {
		log.Error("server stopped with an error", "err", err)
		return 1
	}
	return 0
}

// resetDemo deletes the demo accounts, their data and the demo groups of the development
// database and creates them afresh, with NEXUS_DEMO_PASSWORD or a new random password
// (logged), then exits.
func resetDemo(ctx context.Context, cfg *config.Config, log *slog.Logger, stderr io.Writer) int {
	if cfg.IsProduction() {
		fmt.Fprintln(stderr, "nexus: reset-demo runs in development only (APP_ENV=production has no demo data)")
		return 2
	}
	a, err := app.New(ctx, cfg, log, app.Options{ResetDemo: true})
	if err != nil {
		log.Error("demo data reset failed", "err", err)
		return 1
	}
	if err := a.Close(); err != nil {
		log.Error("close", "err", err)
		return 1
	}
	log.Info("demo data reset")
	return 0
}

// listen returns the socket passed by systemd socket activation — LISTEN_PID is this
// process and LISTEN_FDS is 1: the socket is file descriptor 3 — or a new socket on PORT.
func listen(cfg *config.Config) (net.Listener, error) {
	if os.Getenv("LISTEN_PID") == strconv.Itoa(os.Getpid()) && os.Getenv("LISTEN_FDS") == "1" {
		f := os.NewFile(3, "LISTEN_FDS")
		defer f.Close()
		return net.FileListener(f)
	}
	return net.Listen("tcp", cfg.Addr())
}
