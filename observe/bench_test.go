package observe

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nexus-reussite/harden/internal/testenv"
)

// walkHandler is a slog.Handler that reads every attribute of a record and keeps
// nothing: the cost of the slog path without the cost of an encoder.
type walkHandler struct{ level slog.Level }

func (h *walkHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }
func (h *walkHandler) WithAttrs([]slog.Attr) slog.Handler           { return h }
func (h *walkHandler) WithGroup(string) slog.Handler                { return h }

func (h *walkHandler) Handle(_ context.Context, r slog.Record) error {
	r.Attrs(func(slog.Attr) bool { return true })
	return nil
}

// BenchmarkRequest is the cost of one observed request to a ServeMux route, with metrics,
// for each kind of access logging and a direct or proxied client. Figures are recorded in
// benchmarks/README.md.
func BenchmarkRequest(b *testing.B) {
	for _, bc := range []struct {
		name    string
		logger  *slog.Logger
		proxied bool   // through a trusted proxy naming the client in X-Forwarded-For
		id      string // incoming X-Request-Id
	}{
		{"no-line", slog.New(&walkHandler{level: slog.LevelWarn}), false, ""},
		{"no-line/incoming-id", slog.New(&walkHandler{level: slog.LevelWarn}), false, "req-1234"},
		{"slog-line", slog.New(&walkHandler{level: slog.LevelInfo}), false, ""},
		{"slog-line/proxied", slog.New(&walkHandler{level: slog.LevelInfo}), true, ""},
		{"json-line", NewJSONLogger(io.Discard, slog.LevelInfo), false, ""},
		{"json-line/proxied", NewJSONLogger(io.Discard, slog.LevelInfo), true, ""},
		{"slog-json-line", slog.New(slog.NewJSONHandler(io.Discard, nil)), false, ""},
	} {
		b.Run(bc.name, func(b *testing.B) {
			mux := http.NewServeMux()
			mux.HandleFunc("GET /api/formulas/{id}", func(w http.ResponseWriter, _ *http.Request) {
				_, _ = w.Write([]byte(`{"id":42}`))
			})
			o := mustNew(b, Config{
				Logger:         bc.logger,
				Registerer:     prometheus.NewRegistry(),
				TrustedProxies: []string{"127.0.0.1"},
			})
			h := o.Handler(mux)
			r := httptest.NewRequest(http.MethodGet, "/api/formulas/42", nil)
			r.RemoteAddr = "198.51.100.7:40000"
			if bc.proxied {
				r.RemoteAddr = "127.0.0.1:40000"
				r.Header.Set("X-Forwarded-For", "203.0.113.9")
			}
			r.Header.Set("User-Agent", "bench/1.0")
			if bc.id != "" {
				r.Header.Set("X-Request-Id", bc.id)
			}
			w := testenv.NewHeaderSink()
			b.ReportAllocs()
			for b.Loop() {
				w.Reset()
				h.ServeHTTP(w, r)
			}
		})
	}
}
