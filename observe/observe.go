package observe

import (
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/getsentry/sentry-go"
	"github.com/nexus-reussite/harden/internal/clientip"
	"github.com/nexus-reussite/harden/internal/problem"
	"github.com/prometheus/client_golang/prometheus"
)

// Observer assigns request IDs, logs, measures and recovers requests, and reports panics
// and transactions to Sentry. It is safe for concurrent use.
type Observer struct {
	cfg          Config
	logger       *slog.Logger
	logHandler   slog.Handler // where access lines go: the logger's, without ContextHandler
	fastLog      *jsonHandler // set when logHandler is a NewJSONHandler: lines bypass slog
	ips          *clientip.Resolver
	skip         map[string]bool
	idHeader     string
	newID        func() string // nil: the built-in random ID, written into the request state
	panicHandler http.Handler
	metrics      *metrics
	gatherer     prometheus.Gatherer
	metricsToken []byte // SHA-256 of the token, nil when none
	sentry       *sentry.Client
	now          func() time.Time
	logPC        atomic.Uintptr // program counter of the access log call, set on first use

	shutdownOnce sync.Once
	shutdownErr  error
}

// New validates cfg, applies its defaults, registers the metrics and, when SentryDSN is
// set, creates the Sentry client. Call Shutdown on exit to flush Sentry.
func New(cfg Config) (*Observer, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.RequestIDHeader == "" {
		cfg.RequestIDHeader = DefaultRequestIDHeader
	}
	if cfg.MaxRequestIDLength == 0 {
		cfg.MaxRequestIDLength = DefaultMaxRequestIDLength
	}
	if cfg.UnmatchedRoute == "" {
		cfg.UnmatchedRoute = DefaultUnmatchedRoute
	}
	if cfg.FlushTimeout == 0 {
		cfg.FlushTimeout = DefaultFlushTimeout
	}
	o := &Observer{
		cfg:          cfg,
		logger:       cfg.Logger,
		idHeader:     http.CanonicalHeaderKey(cfg.RequestIDHeader),
		newID:        cfg.GenerateRequestID,
		panicHandler: cfg.PanicHandler,
		gatherer:     cfg.Gatherer,
		now:          cfg.Now,
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	o.logHandler, o.fastLog = accessHandlers(o.logger.Handler())
	if o.panicHandler == nil {
		o.panicHandler = http.HandlerFunc(defaultPanicHandler)
	}
	if o.now == nil {
		o.now = time.Now
	}
	ips, err := clientip.New(clientip.Config{TrustedProxies: cfg.TrustedProxies, Header: cfg.ClientIPHeader})
	if err != nil {
		return nil, fmt.Errorf("%w: TrustedProxies, ClientIPHeader: %w", ErrInvalidConfig, err)
	}
	o.ips = ips
	if len(cfg.SkipPaths) > 0 {
		o.skip = make(map[string]bool, len(cfg.SkipPaths))
		for _, p := range cfg.SkipPaths {
			o.skip[p] = true
		}
	}
	if cfg.Registerer != nil {
		if o.metrics, err = newMetrics(cfg.Registerer, &cfg); err != nil {
			return nil, err
		}
		if o.gatherer == nil {
			o.gatherer, _ = cfg.Registerer.(prometheus.Gatherer)
		}
	}
	if o.gatherer == nil {
		o.gatherer = prometheus.Gatherers{}
	}
	if cfg.MetricsToken != "" {
		sum := sha256.Sum256([]byte(cfg.MetricsToken))
		o.metricsToken = sum[:]
	}
	if cfg.SentryDSN != "" {
		if o.sentry, err = newSentryClient(&o.cfg, newScrubber(&cfg)); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// defaultPanicHandler writes a 500 problem naming the request ID, so a user's report
// can be matched with the log line and the Sentry event.
func defaultPanicHandler(w http.ResponseWriter, r *http.Request) {
	p := problem.Problem{
		Status: http.StatusInternalServerError,
		Detail: "The server encountered an unexpected error.",
	}
	if id := RequestID(r.Context()); id != "" {
		p.Extensions = map[string]any{"request_id": id}
	}
	problem.Write(w, p)
}

// Handler returns next wrapped with, in order: request ID (read or generated, echoed in
// the response, stored in the context), trace ID from traceparent, Sentry hub and
// transaction, in-flight gauge, panic recovery, then after next returns the metrics and
// the access log line. Place it directly around the http.ServeMux so it sees the
// matched pattern, or wrap the ServeMux with CaptureRoute.
func (o *Observer) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.serve(next, w, r)
	})
}

func (o *Observer) serve(next http.Handler, w http.ResponseWriter, r *http.Request) {
	start := o.now()
	st := &request{parentLog: o.logger}
	st.rw.reset(w)

	tp, hasTP := parseTraceparent(headerValue(r.Header, "Traceparent"))
	if hasTP {
		st.traceID = tp.traceID
	}
	st.id = headerValue(r.Header, o.idHeader)
	if !validRequestID(st.id, o.cfg.MaxRequestIDLength) {
		if o.newID == nil {
			st.id = st.randomID()
		} else {
			st.id = o.newID()
		}
	}
	st.idValue[0] = st.id
	w.Header()[o.idHeader] = st.idValue[:1:1]

	ctx := r.Context()
	var sr sentryRequest
	if o.sentry != nil {
		ctx, sr = o.startSentry(ctx, r, st.id, tp, hasTP)
		if sr.tx != nil && st.traceID == "" {
			st.traceID = sr.tx.TraceID.String()
		}
	}
	st.Context = ctx
	r = r.WithContext(st)

	var body *countingBody
	if o.metrics != nil {
		o.metrics.inFlight.Inc()
		if r.ContentLength < 0 && r.Body != nil && r.Body != http.NoBody {
			body = &countingBody{ReadCloser: r.Body}
			r.Body = body
		}
	}

	defer func() {
		rec := recover()
		panicked := rec != nil && rec != http.ErrAbortHandler
		var stack []byte
		committed := st.rw.wroteHeader || st.rw.hijacked
		route := o.route(r, st)
		if panicked {
			stack = debug.Stack()
			sr.recovered(r.Context(), route, rec)
			if !committed {
				h := w.Header()
				clear(h)
				h[o.idHeader] = []string{st.id}
				o.panicHandler.ServeHTTP(&st.rw, r)
			}
		}
		status := st.rw.status
		switch {
		case st.rw.hijacked && !st.rw.wroteHeader:
			status = http.StatusSwitchingProtocols
		case status == 0 && rec != nil:
			// Aborted before anything was written: the client saw no response.
			status = http.StatusInternalServerError
		case status == 0:
			status = http.StatusOK
		}
		var end time.Time
		var elapsed time.Duration
		if o.cfg.Now == nil {
			// One monotonic reading instead of a full time.Now: the end is the start's
			// wall clock plus the elapsed time.
			elapsed = time.Since(start)
			end = start.Add(elapsed)
		} else {
			end = o.now()
			elapsed = end.Sub(start)
		}
		sr.finish(route, status)
		if o.metrics != nil {
			o.metrics.inFlight.Dec()
			reqBytes := r.ContentLength
			if body != nil {
				reqBytes = body.n
			}
			method := methodLabel(r.Method)
			o.metrics.observe(method, route, status, elapsed.Seconds(), max(reqBytes, 0), st.rw.bytes, st.traceID)
			if panicked {
				o.metrics.panics.WithLabelValues(method, route).Inc()
			}
		}
		o.log(r, st, route, status, end, elapsed, rec, panicked, stack)
		if rec != nil && (!panicked || committed) {
			// The response is cut short: make the server abort the connection instead
			// of ending the body as if it were complete.
			panic(http.ErrAbortHandler)
		}
	}()
	next.ServeHTTP(&st.rw, r)
}

func (o *Observer) route(r *http.Request, st *request) string {
	if r.Pattern != "" {
		return r.Pattern
	}
	if p := st.route.Load(); p != nil {
		return *p
	}
	return o.cfg.UnmatchedRoute
}

func (o *Observer) log(r *http.Request, st *request, route string, status int, end time.Time, elapsed time.Duration, rec any, panicked bool, stack []byte) {
	level := slog.LevelInfo
	switch {
	case status >= 500 || panicked:
		level = slog.LevelError
	case status >= 400:
		level = slog.LevelWarn
	case o.skip[r.URL.Path]:
		return
	}
	ctx := r.Context()
	if !o.logHandler.Enabled(ctx, level) {
		return
	}
	t := end
	if o.cfg.Now != nil {
		t = time.Now()
	}
	a := accessLine{
		time: t, level: level, method: r.Method, route: route, path: r.URL.Path,
		status: status, bytes: st.rw.bytes, durationMS: float64(elapsed.Microseconds()) / 1000,
		requestID: st.id, traceID: st.traceID, clientIP: st.clientIP(o.ips.ClientIP(r)),
		userAgent: headerValue(r.Header, "User-Agent"), aborted: rec != nil && !panicked,
	}
	if o.fastLog != nil && !panicked && a.encodable() {
		o.fastLog.writeAccess(&a)
		return
	}
	// The record is built here rather than by LogAttrs: the call site is always this
	// line, so its program counter is looked up once, and with the default clock the
	// time read for the duration doubles as the record's time.
	pc := o.logPC.Load()
	if pc == 0 {
		var pcs [1]uintptr
		runtime.Callers(1, pcs[:])
		pc = pcs[0]
		o.logPC.Store(pc)
	}
	record := slog.NewRecord(t, level, accessMessage, pc)
	attrs := a.attrs(make([]slog.Attr, 0, 14))
	if panicked {
		attrs = append(attrs, slog.Any("panic", rec), slog.String("stack", string(stack)))
	}
	record.AddAttrs(attrs...)
	_ = o.logHandler.Handle(ctx, record)
}

// headerValue is h.Get(key) for a key already in canonical form, without canonicalizing
// it again.
func headerValue(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}
