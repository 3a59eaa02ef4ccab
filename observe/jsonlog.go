package observe

import (
	"io"
	"log/slog"
	"sync"
)

// NewJSONLogger returns a logger writing JSON lines to w at the given minimum level (nil
// means INFO), in exactly the format of slog.NewJSONHandler with only Level set. An
// Observer whose Logger it is, alone or with its handler under ContextHandler, encodes
// access lines itself instead of building a slog.Record: the bytes are the same and the
// cost is lower. Lines are written to w with one Write call each, serialized, so w need
// not be safe for concurrent use. The default Logger is NewJSONLogger(os.Stdout, nil).
//
// Its Handler may be wrapped, in ContextHandler say, before making a logger of it:
// slog.New(ContextHandler(NewJSONLogger(w, level).Handler())).
func NewJSONLogger(w io.Writer, level slog.Leveler) *slog.Logger {
	if level == nil {
		level = slog.LevelInfo
	}
	out := &lockedWriter{w: w}
	return slog.New(&jsonHandler{
		JSONHandler: slog.NewJSONHandler(out, &slog.HandlerOptions{Level: level}),
		out:         out,
		bufs:        sync.Pool{New: func() any { return new([]byte) }},
	})
}

// jsonHandler is slog's JSON handler over a serialized writer, which the Observer's
// access log writes to directly. Handlers derived from it with WithAttrs or WithGroup are
// plain slog JSON handlers, so only records logged through it unchanged take the fast path.
type jsonHandler struct {
	*slog.JSONHandler
	out   *lockedWriter
	bufs  sync.Pool // of *[]byte, line buffers for the access log
	clock secondCache
}

// writeAccess encodes a and writes it as one line.
func (h *jsonHandler) writeAccess(a *accessLine) {
	bp := h.bufs.Get().(*[]byte)
	b := a.appendJSON((*bp)[:0], &h.clock)
	_, _ = h.out.Write(b)
	if cap(b) <= 16<<10 { // keep the pool from holding a few huge buffers
		*bp = b
		h.bufs.Put(bp)
	}
}

// lockedWriter serializes the Write calls of slog's handler and of the access log.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// accessHandlers returns where access lines go for a logger's handler h: the handler
// itself, without a ContextHandler around it (the line carries request_id and trace_id
// already, and the wrapper would add them a second time), and the fast JSON writer when
// that handler is NewJSONLogger's.
func accessHandlers(h slog.Handler) (slog.Handler, *jsonHandler) {
	if c, ok := h.(contextHandler); ok {
		h = c.next
	}
	fast, _ := h.(*jsonHandler)
	return h, fast
}
