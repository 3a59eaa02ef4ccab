package observe

import (
	"context"
	"log/slog"
)

// ContextHandler wraps h so that every record logged with the context of an observed
// request (slog.InfoContext(ctx, ...), logger.LogAttrs(ctx, ...)) carries that request's
// request_id and trace_id. Records logged without such a context pass through unchanged.
// Use it for loggers that do not come from Logger(ctx), for example slog.SetDefault in a
// main package. When the handler has open groups the attributes land in the innermost one.
func ContextHandler(h slog.Handler) slog.Handler {
	return contextHandler{h}
}

type contextHandler struct{ next slog.Handler }

func (h contextHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h contextHandler) Handle(ctx context.Context, r slog.Record) error {
	if st := fromContext(ctx); st != nil {
		r = r.Clone()
		r.AddAttrs(slog.String("request_id", st.id))
		if st.traceID != "" {
			r.AddAttrs(slog.String("trace_id", st.traceID))
		}
	}
	return h.next.Handle(ctx, r)
}

func (h contextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return contextHandler{h.next.WithAttrs(attrs)}
}

func (h contextHandler) WithGroup(name string) slog.Handler {
	return contextHandler{h.next.WithGroup(name)}
}
