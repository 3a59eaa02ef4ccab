package stack

import (
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5/middleware"
	"github.com/klauspost/compress/gzhttp"
	"github.com/nexus-reussite/harden/observe"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/sethvargo/go-limiter/httplimit"
	"github.com/sethvargo/go-limiter/memorystore"
	"github.com/unrolled/secure"
)

// Options are the settings both stacks share so they are compared like for like.
type Options struct {
	// Log receives access logs; nil discards them (through a JSON handler all the same).
	Log io.Writer
	// Registry receives metrics; nil creates a private one.
	Registry *prometheus.Registry
}

func (o Options) logger() *slog.Logger {
	w := o.Log
	if w == nil {
		w = io.Discard
	}
	return slog.New(slog.NewJSONHandler(w, nil))
}

// hardenLogger is the harden stack's logger: observe's JSON handler, which writes the
// same lines as logger's slog.JSONHandler and lets the access log bypass slog.
func (o Options) hardenLogger() *slog.Logger {
	w := o.Log
	if w == nil {
		w = io.Discard
	}
	return observe.NewJSONLogger(w, slog.LevelInfo)
}

func (o Options) registry() *prometheus.Registry {
	if o.Registry != nil {
		return o.Registry
	}
	return prometheus.NewRegistry()
}

// Bare is the handler alone.
func Bare(body []byte) http.Handler { return Mux(Handler(body)) }

// GzipOnly is the handler behind gzhttp at level 6 with a 500-byte minimum.
func GzipOnly(body []byte) (http.Handler, error) {
	wrap, err := gzhttp.NewWrapper(gzhttp.MinSize(500), gzhttp.CompressionLevel(6))
	if err != nil {
		return nil, err
	}
	return wrap(Mux(Handler(body))), nil
}

// Peer is what a Go user assembles today for the same concerns: chi RequestID and
// Recoverer, a slog JSON access log, promhttp instrumentation, unrolled/secure headers,
// go-limiter's httplimit and gzhttp — with the same settings as the harden stack.
func Peer(body []byte, o Options) (http.Handler, error) {
	reg := o.registry()
	logger := o.logger()

	// 1000 tokens per 10 ms (100k/s): memorystore refills only interval/tokens tokens per
	// tick after the first interval, so tokens must stay below the square root of the
	// interval in nanoseconds or it under-admits.
	store, err := memorystore.New(&memorystore.Config{Tokens: 1000, Interval: 10 * time.Millisecond})
	if err != nil {
		return nil, err
	}
	// Keyed by the client the (trusted, loopback) proxy names, as the harden stack is.
	limit, err := httplimit.NewMiddleware(store, httplimit.IPKeyFunc("X-Forwarded-For"))
	if err != nil {
		return nil, err
	}
	gz, err := gzhttp.NewWrapper(gzhttp.MinSize(500), gzhttp.CompressionLevel(6))
	if err != nil {
		return nil, err
	}
	sec := secure.New(secure.Options{
		SSLRedirect: true, SSLProxyHeaders: map[string]string{"X-Forwarded-Proto": "https"},
		STSSeconds: 31536000, STSIncludeSubdomains: true, FrameDeny: true, ContentTypeNosniff: true,
		ReferrerPolicy:          "strict-origin-when-cross-origin",
		ContentSecurityPolicy:   "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
		PermissionsPolicy:       "geolocation=(), microphone=(), camera=()",
		CrossOriginOpenerPolicy: "same-origin", IsDevelopment: false,
	})

	requests := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "peer_http_requests_total"}, []string{"code", "method"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "peer_http_request_duration_seconds", Buckets: prometheus.DefBuckets}, []string{"code", "method"})
	inflight := prometheus.NewGauge(prometheus.GaugeOpts{Name: "peer_http_in_flight_requests"})
	reg.MustRegister(requests, duration, inflight)

	var h http.Handler = Mux(Handler(body))
	h = gz(h)
	h = limit.Handle(h)
	h = sec.Handler(h)
	h = promhttp.InstrumentHandlerInFlight(inflight, promhttp.InstrumentHandlerDuration(duration, promhttp.InstrumentHandlerCounter(requests, h)))
	h = accessLog(logger, h)
	h = middleware.Recoverer(h)
	h = middleware.RequestID(h)
	return h, nil
}

// accessLog is the slog access log a chi user writes around middleware.WrapResponseWriter.
func accessLog(l *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		start := time.Now()
		next.ServeHTTP(ww, r)
		l.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", ww.Status()), slog.Int("bytes", ww.BytesWritten()),
			slog.Duration("duration", time.Since(start)),
			slog.String("request_id", middleware.GetReqID(r.Context())),
			slog.String("remote", r.RemoteAddr), slog.String("user_agent", r.UserAgent()))
	})
}
