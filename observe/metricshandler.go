package observe

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/nexus-reussite/harden/internal/problem"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// MetricsHandler serves the Gatherer in the Prometheus text or OpenMetrics format (the
// latter carries exemplars), whichever the scraper asks for. With a MetricsToken it
// answers 401 application/problem+json unless the request carries "Authorization: Bearer
// <token>". Mount it outside rate limiting, or serve it on its own listener with
// ServeMetrics.
func (o *Observer) MetricsHandler() http.Handler {
	h := promhttp.HandlerFor(o.gatherer, promhttp.HandlerOpts{EnableOpenMetrics: true})
	if o.metricsToken == nil {
		return h
	}
	want := o.metricsToken
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := bearer(r.Header.Get("Authorization"))
		sum := sha256.Sum256([]byte(got))
		if !ok || subtle.ConstantTimeCompare(sum[:], want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			problem.Error(w, http.StatusUnauthorized, "A valid bearer token is required to read metrics.")
			return
		}
		h.ServeHTTP(w, r)
	})
}

func bearer(v string) (string, bool) {
	const prefix = "bearer "
	if len(v) <= len(prefix) || !strings.EqualFold(v[:len(prefix)], prefix) {
		return "", false
	}
	return strings.TrimSpace(v[len(prefix):]), true
}

// ServeMetrics serves MetricsHandler at /metrics on ln, a listener separate from the
// application's (for example on a port only the scraper can reach), until ctx is done.
// It then shuts the server down, waiting up to 5 s for scrapes in progress, and returns
// nil; any other serving error is returned.
func (o *Observer) ServeMetrics(ctx context.Context, ln net.Listener) error {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", o.MetricsHandler())
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		err := srv.Shutdown(sctx)
		if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
			err = serr
		}
		return err
	}
}
