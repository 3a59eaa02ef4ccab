package observe

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"sync/atomic"
	"unsafe"
)

// request is the per-request state shared by the middleware and the context getters. One
// is allocated per request and carries the response writer wrapper, the request's context
// (the parent context with the request as the value of ctxKey, as context.WithValue would
// make, without an allocation of its own), the X-Request-Id header value and the bytes of
// a generated ID and of the logged client address. It is never reused: handlers may keep
// the context, and strings point into it.
type request struct {
	context.Context // the parent

	rw        responseWriter
	id        string
	traceID   string
	route     atomic.Pointer[string]
	logger    atomic.Pointer[slog.Logger]
	parentLog *slog.Logger

	idValue [1]string          // backs the request ID header value
	idBuf   [idLen]byte        // a generated request ID; written once, then read through id
	ipBuf   [maxIPTextLen]byte // the logged client address; written once by clientIP
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

// randomID writes a new random ID into st.idBuf and returns it. The string shares the
// array's memory, which is never written again, so the ID costs no allocation of its own.
func (st *request) randomID() string {
	fillRandomID(&st.idBuf)
	return unsafe.String(&st.idBuf[0], len(st.idBuf))
}

// clientIP returns a.String(), formatted into st.ipBuf when it fits. It is called at most
// once per request (for the access log line), so the returned string's bytes are never
// overwritten.
func (st *request) clientIP(a netip.Addr) string {
	if !a.IsValid() {
		return a.String()
	}
	b := a.AppendTo(st.ipBuf[:0])
	return unsafe.String(unsafe.SliceData(b), len(b))
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
