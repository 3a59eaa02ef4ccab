package observe

import (
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"runtime/debug"
	"strings"
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
	cfg          Config       // with defaults applied
	logHandler   slog.Handler // where access lines go: the logger's, without ContextHandler
	fastLog      *jsonHandler // set when logHandler is NewJSONLogger's: lines bypass slog
	ips          *clientip.Resolver
	skip         map[string]bool
	idHeader     string
	metrics      *metrics
	gatherer     prometheus.Gatherer
	metricsToken []byte // SHA-256 of the token, nil when none
	sentry       *sentry.Client
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
	cfg.setDefaults()
	ips, err := clientip.New(clientip.Config{TrustedProxies: cfg.TrustedProxies, Header: cfg.ClientIPHeader})
	if err != nil {
		return nil, fmt.Errorf("%w: TrustedProxies, ClientIPHeader: %w", ErrInvalidConfig, err)
	}
	o := &Observer{cfg: cfg, ips: ips, idHeader: http.CanonicalHeaderKey(cfg.RequestIDHeader)}
	o.logHandler, o.fastLog = accessHandlers(cfg.Logger.Handler())
	if len(cfg.SkipPaths) > 0 {
		o.skip = make(map[string]bool, len(cfg.SkipPaths))
		for _, p := range cfg.SkipPaths {
			o.skip[p] = true
		}
	}
	if err := o.setupMetrics(); err != nil {
		return nil, err
	}
	if cfg.SentryDSN != "" {
		if o.sentry, err = newSentryClient(&o.cfg, newScrubber(&cfg)); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// setupMetrics registers the metrics with the Registerer and chooses what
// MetricsHandler serves.
func (o *Observer) setupMetrics() error {
	o.gatherer = o.cfg.Gatherer
	if reg := o.cfg.Registerer; reg != nil {
		var err error
		if o.metrics, err = newMetrics(reg, &o.cfg); err != nil {
			return err
		}
		if o.gatherer == nil {
			o.gatherer, _ = reg.(prometheus.Gatherer)
		}
	}
	if o.gatherer == nil {
		o.gatherer = prometheus.Gatherers{}
	}
	if o.cfg.MetricsToken != "" {
		sum := sha256.Sum256([]byte(o.cfg.MetricsToken))
		o.metricsToken = sum[:]
	}
	return nil
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
// the response, stored in the context), trace ID from traceparent, the route from
// Config.Router, Sentry hub and transaction, in-flight gauge, panic recovery, then after
// next returns the metrics and the access log line. Without a Router, place it directly
// around the http.ServeMux so it sees the matched pattern.
func (o *Observer) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st, r := o.start(w, r)
		defer func() { o.finish(st, w, r, recover()) }()
		next.ServeHTTP(&st.rw, r)
	})
}

// start prepares a request: its ID and trace ID, its Sentry hub, the context carrying
// them, its route when a Router is set, and the request body count for the metrics. It
// returns the state and the request to pass on.
func (o *Observer) start(w http.ResponseWriter, r *http.Request) (*request, *http.Request) {
	st := &request{start: o.cfg.Now(), parentLog: o.cfg.Logger}
	st.rw.reset(w)
	tp, hasTP := o.identify(st, w.Header(), r.Header)
	ctx := r.Context()
	if o.sentry != nil {
		ctx, st.sentry = o.startSentry(ctx, r, st.id, tp, hasTP)
		if st.sentry.tx != nil && st.traceID == "" {
			st.traceID = st.sentry.tx.TraceID.String()
		}
	}
	st.Context = ctx
	r = r.WithContext(st)
	if o.cfg.Router != nil {
		_, st.routed = o.cfg.Router.Handler(r)
	}
	if o.metrics != nil {
		o.metrics.inFlight.Inc()
		if r.ContentLength < 0 && r.Body != nil && r.Body != http.NoBody {
			st.body = &countingBody{ReadCloser: r.Body}
			r.Body = st.body
		}
	}
	return st, r
}

// identify sets the request ID (the incoming one when valid, otherwise a new one) and
// the trace ID of a valid traceparent, and echoes the request ID in the response.
func (o *Observer) identify(st *request, resp, req http.Header) (traceParent, bool) {
	tp, hasTP := parseTraceparent(headerValue(req, "Traceparent"))
	if hasTP {
		st.traceID = tp.traceID
	}
	st.id = headerValue(req, o.idHeader)
	if !validRequestID(st.id, o.cfg.MaxRequestIDLength) {
		st.id = o.cfg.GenerateRequestID()
	}
	st.idValue[0] = st.id
	resp[o.idHeader] = st.idValue[:]
	return tp, hasTP
}

// outcome is what Sentry, the metrics and the access log report about a request.
type outcome struct {
	route    string
	status   int
	end      time.Time
	elapsed  time.Duration
	rec      any    // the recovered panic value, nil when none
	panicked bool   // rec is a panic to report, not http.ErrAbortHandler
	stack    []byte // the stack of a reported panic
}

// finish runs when the handler returned or panicked with rec: it answers a panic, then
// reports the request to Sentry, the metrics and the access log. When the response was
// cut short it aborts the connection, so the client cannot take a truncated body for a
// complete one.
func (o *Observer) finish(st *request, w http.ResponseWriter, r *http.Request, rec any) {
	out := outcome{route: o.route(r, st), rec: rec, panicked: rec != nil && rec != http.ErrAbortHandler}
	committed := st.rw.wroteHeader || st.rw.hijacked
	if out.panicked {
		out.stack = debug.Stack()
		st.sentry.recovered(r.Context(), out.route, rec)
		if !committed {
			o.answerPanic(st, w, r)
		}
	}
	out.status = st.status(rec != nil)
	out.end = o.cfg.Now()
	out.elapsed = out.end.Sub(st.start)
	st.sentry.finish(out.route, out.status)
	o.measure(st, r, &out)
	o.log(st, r, &out)
	if rec != nil && (!out.panicked || committed) {
		panic(http.ErrAbortHandler)
	}
}

// answerPanic replaces the headers the handler had set (keeping the request ID) and
// lets PanicHandler write the response.
func (o *Observer) answerPanic(st *request, w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	clear(h)
	h[o.idHeader] = []string{st.id}
	o.cfg.PanicHandler.ServeHTTP(&st.rw, r)
}

// status is the status the client got: 101 for a connection hijacked without a
// response, 500 when the handler panicked before writing, 200 when it wrote nothing.
func (st *request) status(recovered bool) int {
	switch {
	case st.rw.hijacked && !st.rw.wroteHeader:
		return http.StatusSwitchingProtocols
	case st.rw.status != 0:
		return st.rw.status
	case recovered:
		return http.StatusInternalServerError
	}
	return http.StatusOK
}

// route names the request's route: what SetRoute recorded, else the pattern a ServeMux
// the Observer wraps directly set on the request, else the one the Router gave, else
// UnmatchedRoute. A CONNECT request keeps a pattern only when it names CONNECT: for a
// CONNECT redirect, ServeMux reports the redirect's path, which the client chose.
func (o *Observer) route(r *http.Request, st *request) string {
	if p := st.route.Load(); p != nil {
		return *p
	}
	pattern := r.Pattern
	if pattern == "" {
		pattern = st.routed
	}
	if pattern == "" || r.Method == http.MethodConnect && !strings.HasPrefix(pattern, "CONNECT ") {
		return o.cfg.UnmatchedRoute
	}
	return pattern
}

// measure records the request in the metrics.
func (o *Observer) measure(st *request, r *http.Request, out *outcome) {
	if o.metrics == nil {
		return
	}
	o.metrics.inFlight.Dec()
	reqBytes := r.ContentLength
	if st.body != nil {
		reqBytes = st.body.n
	}
	method := methodLabel(r.Method)
	o.metrics.observe(method, out.route, out.status, out.elapsed.Seconds(), max(reqBytes, 0), st.rw.bytes, st.traceID)
	if out.panicked {
		o.metrics.panics.WithLabelValues(method, out.route).Inc()
	}
}

// log writes the access log line: ERROR for status >= 500 or a panic, WARN for 4xx,
// INFO otherwise unless the path is in SkipPaths.
func (o *Observer) log(st *request, r *http.Request, out *outcome) {
	level := slog.LevelInfo
	switch {
	case out.status >= 500 || out.panicked:
		level = slog.LevelError
	case out.status >= 400:
		level = slog.LevelWarn
	case o.skip[r.URL.Path]:
		return
	}
	ctx := r.Context()
	if !o.logHandler.Enabled(ctx, level) {
		return
	}
	a := accessLine{
		time: out.end, level: level, method: r.Method, route: out.route, path: r.URL.Path,
		status: out.status, bytes: st.rw.bytes, durationMS: float64(out.elapsed.Microseconds()) / 1000,
		requestID: st.id, traceID: st.traceID, clientIP: o.ips.ClientIP(r),
		userAgent: headerValue(r.Header, "User-Agent"), aborted: out.rec != nil && !out.panicked,
	}
	if o.fastLog != nil && !out.panicked && a.encodable() {
		o.fastLog.writeAccess(&a)
		return
	}
	// The record is built here rather than by LogAttrs, which would add the request
	// fields a second time through a ContextHandler. Its call site is always this line,
	// so the program counter is looked up once.
	pc := o.logPC.Load()
	if pc == 0 {
		var pcs [1]uintptr
		runtime.Callers(1, pcs[:])
		pc = pcs[0]
		o.logPC.Store(pc)
	}
	record := slog.NewRecord(out.end, level, accessMessage, pc)
	record.AddAttrs(a.attrs(make([]slog.Attr, 0, 14))...)
	if out.panicked {
		record.AddAttrs(slog.Any("panic", out.rec), slog.String("stack", string(out.stack)))
	}
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
