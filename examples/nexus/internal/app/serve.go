package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Server limits. WriteTimeout leaves room for an ARIA answer (60 s upstream timeout).
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 90 * time.Second
	idleTimeout       = 60 * time.Second
	maxHeaderBytes    = 64 << 10
	shutdownTimeout   = 30 * time.Second
)

// newHTTPServer wraps h with the production timeouts.
func newHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// ServeMetrics serves /metrics alone on ln until ctx ends: the listener of METRICS_ADDR,
// which only the scraper should reach.
func (a *App) ServeMetrics(ctx context.Context, ln net.Listener) error {
	a.log.InfoContext(ctx, "serving metrics", "addr", ln.Addr().String(), "token", a.cfg.MetricsToken != "")
	return a.api.ServeMetrics(ctx, ln)
}

// Serve serves on ln until ctx is cancelled (SIGTERM/SIGINT), then drains: /ready
// answers 503 for SHUTDOWN_DELAY so load balancers stop sending, the listener closes,
// in-flight requests finish (up to 30 s), and buffered telemetry is sent.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	srv := newHTTPServer(a.Handler(), a.log)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	a.log.InfoContext(ctx, "listening", "addr", ln.Addr().String(), "env", a.cfg.Env, "database", a.db.Driver(), "redis", a.rdb != nil,
		"rate_limit", a.cfg.RateLimitDefault.String())

	health := a.api.Health()
	health.Start(ctx)

	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	a.log.Info("shutdown requested; draining", "delay", a.cfg.ShutdownDelay.String())
	sctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownDelay+shutdownTimeout)
	defer cancel()
	err := health.Shutdown(sctx, a.cfg.ShutdownDelay, srv.Shutdown)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	a.api.Flush()
	a.log.Info("stopped")
	return err
}
