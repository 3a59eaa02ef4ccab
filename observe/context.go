package observe

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"
)

// request is the per-request state the middleware keeps and the context getters read.
// It is also the request's context: its parent with the state as the value of ctxKey,
// as context.WithValue would make, without an allocation of its own. One is allocated
// per request and never reused: handlers may keep the context, and the request ID
// header value is backed by it.
type request struct {
	context.Context // the parent

	start     time.Time
	rw        responseWriter
	body      *countingBody // the request body, counted when its length is unknown
	sentry    sentryRequest
	id        string
	traceID   string
	route     atomic.Pointer[string] // set by SetRoute
	routed    string                 // the pattern Config.Router gave, if any
	logger    atomic.Pointer[slog.Logger]
	parentLog *slog.Logger
	idValue   [1]string // the X-Request-Id header value
}

type ctxKey struct{}

// Value returns the request state for ctxKey and asks the parent for any other key.
// Deadline, Done and Err are the parent's, so cancellation propagates as it does through
// context.WithValue.
func (st *request) Value(key any) any {
	if _, ok := key.(ctxKey); ok {
		return st
	}
	return st.Context.Value(key)
}

// String names the context like context.WithValue does, for debugging output.
func (st *request) String() string {
	return fmt.Sprint(st.Context) + ".WithValue(observe.ctxKey)"
}

func fromContext(ctx context.Context) *request {
	if ctx == nil {
		return nil
	}
	st, _ := ctx.Value(ctxKey{}).(*request)
	return st
}

// RequestID returns the request ID of the request ctx belongs to, or "" outside an
// Observer's Handler.
func RequestID(ctx context.Context) string {
	if st := fromContext(ctx); st != nil {
		return st.id
	}
	return ""
}

// TraceID returns the trace ID of the request: the one of an incoming W3C traceparent
// header or, when Sentry tracing is on, the Sentry transaction's. It is "" when the request
// is not part of a trace or outside an Observer's Handler.
func TraceID(ctx context.Context) string {
	if st := fromContext(ctx); st != nil {
		return st.traceID
	}
	return ""
}

// Logger returns the Observer's logger with the request_id (and trace_id, when there is
// one) attributes of the request ctx belongs to, so handler logs join the access log line.
// Outside an Observer's Handler it returns slog.Default().
func Logger(ctx context.Context) *slog.Logger {
	st := fromContext(ctx)
	if st == nil {
		return slog.Default()
	}
	if l := st.logger.Load(); l != nil {
		return l
	}
	l := st.parentLog.With(st.idAttrs()...)
	if st.logger.CompareAndSwap(nil, l) {
		return l
	}
	return st.logger.Load()
}

func (st *request) idAttrs() []any {
	if st.traceID == "" {
		return []any{slog.String("request_id", st.id)}
	}
	return []any{slog.String("request_id", st.id), slog.String("trace_id", st.traceID)}
}

// Route returns the route pattern recorded so far for the request ctx belongs to: the
// last SetRoute, else the pattern Config.Router matched; "" when neither named one, or
// outside an Observer's Handler. The pattern a ServeMux sets on the request it serves is
// not seen here (that request is a copy): a handler inside records it with SetRoute.
func Route(ctx context.Context) string {
	st := fromContext(ctx)
	if st == nil {
		return ""
	}
	if p := st.route.Load(); p != nil {
		return *p
	}
	return st.routed
}

// SetRoute records the route pattern of the request ctx belongs to, for a handler that
// routes outside Config.Router (a probe served ahead of the application's ServeMux, say).
// The pattern must be a fixed string, never the raw path, or metrics lose their bounded
// cardinality. It does nothing outside an Observer's Handler.
func SetRoute(ctx context.Context, pattern string) {
	if st := fromContext(ctx); st != nil && pattern != "" {
		st.route.Store(&pattern)
	}
}
