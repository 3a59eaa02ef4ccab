package observe

import (
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"
)

// request is the per-request state shared by the middleware and the context getters. One
// is allocated per request, together with the response writer wrapper it embeds.
type request struct {
	rw        responseWriter
	id        string
	traceID   string
	route     atomic.Pointer[string]
	logger    atomic.Pointer[slog.Logger]
	parentLog *slog.Logger
}

type ctxKey struct{}

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

// SetRoute records the route pattern of the request ctx belongs to, for routers other than
// http.ServeMux or when a middleware between the Observer and the ServeMux replaces the
// request (r.WithContext) so that the Pattern the ServeMux sets is not visible to the
// Observer. The pattern must come from the router's table, never from the raw path, or
// metrics lose their bounded cardinality. It does nothing outside an Observer's Handler.
func SetRoute(ctx context.Context, pattern string) {
	if st := fromContext(ctx); st != nil && pattern != "" {
		st.route.Store(&pattern)
	}
}

func contextWith(ctx context.Context, st *request) context.Context {
	return context.WithValue(ctx, ctxKey{}, st)
}

// CaptureRoute wraps a router (an http.ServeMux) so that the pattern it matched reaches the
// Observer even when middleware between the two replaces the request with r.WithContext,
// which hides the Pattern the ServeMux sets from the Observer. Use it when the Observer is
// the outermost middleware, so it also logs and measures responses written by the
// middleware in between (rate limiting, security). The pattern is recorded even when the
// handler panics.
func CaptureRoute(router http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { SetRoute(r.Context(), r.Pattern) }()
		router.ServeHTTP(w, r)
	})
}
