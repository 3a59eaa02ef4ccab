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
	"syscall"

	"github.com/nexus-reussite/harden/observe"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes a subcommand and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 {
		cmd = args[0]
	}
	dotenv, err := readDotenvFile(".env")
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	cfg, cfgErr := loadConfig(envLookup(dotenv))
	switch cmd {
	case "serve":
		if cfgErr != nil {
			fmt.Fprintln(stderr, cfgErr)
			return 2
		}
		return serveMain(ctx, cfg, newLogger(stdout, cfg))
	case "diagnose":
		return diagnose(ctx, cfg, cfgErr, stdout)
	case "healthcheck":
		if cfgErr != nil {
			fmt.Fprintln(stderr, cfgErr)
			return 2
		}
		return healthcheck(ctx, cfg, args[1:], stderr)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, "usage: nexus [serve|diagnose|healthcheck]")
		return 0
	}
	fmt.Fprintf(stderr, "nexus: unknown command %q (want serve, diagnose or healthcheck)\n", cmd)
	return 2
}

func newLogger(w io.Writer, cfg *Config) *slog.Logger {
	return slog.New(observe.ContextHandler(observe.NewJSONHandler(w, cfg.LogLevel)))
}

func serveMain(ctx context.Context, cfg *Config, log *slog.Logger) int {
	for _, name := range cfg.generated {
		log.Warn("secret not set; using a random one for this run (sessions end at restart)", "variable", name)
	}
	a, err := newApp(ctx, cfg, log, appOptions{})
	if err != nil {
		log.Error("startup failed", "err", err)
		return 1
	}
	defer a.close()
	ln, err := net.Listen("tcp", cfg.Addr())
	if err != nil {
		log.Error("listen", "addr", cfg.Addr(), "err", err)
		return 1
	}
	if err := a.serve(ctx, ln); err != nil && !errors.Is(err, context.Canceled) {
		log.Error("server stopped with an error", "err", err)
		return 1
	}
	return 0
}
