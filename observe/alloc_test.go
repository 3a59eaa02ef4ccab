package observe

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-reussite/harden/internal/testenv"
)

var allocBody = []byte(`{"id":42}`)

// walkHandler is a slog.Handler that reads every attribute of a record and keeps
// nothing. Unlike the standard handlers it uses no sync.Pool, which the race detector
// makes drop items at random, so allocation counts are the same with and without -race.
type walkHandler struct {
	level slog.Level
	attrs int
}

func (h *walkHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }
func (h *walkHandler) WithAttrs([]slog.Attr) slog.Handler           { return h }
func (h *walkHandler) WithGroup(string) slog.Handler                { return h }

func (h *walkHandler) Handle(_ context.Context, r slog.Record) error {
	n := 0
	r.Attrs(func(a slog.Attr) bool {
		if a.Value.Kind() == slog.KindString && a.Value.String() != "" {
			n++
		}
		return true
	})
	h.attrs = n
	return nil
}

// TestRequestAllocations pins the allocations of an observed request, so a change that
// adds one to the hot path fails here rather than in a benchmark nobody reads. Per
// request the Observer allocates its state (which is also the context value, the
// X-Request-Id header value and the bytes of a generated ID and of the logged client
// address) and the request copy of r.WithContext. Logging adds the slog record's
// attributes beyond its five inline ones, except with NewJSONHandler, whose lines are
// encoded into a pooled buffer without slog; a client address taken from X-Forwarded-For
// adds nothing, since the shared resolver walks the header in place.
func TestRequestAllocations(t *testing.T) {
	logger := slog.New(&walkHandler{level: slog.LevelInfo})
	quiet := slog.New(&walkHandler{level: slog.LevelWarn})
	fast := NewJSONLogger(io.Discard, slog.LevelInfo)
	for _, tc := range []struct {
		name    string
		logger  *slog.Logger
		proxied bool   // through a trusted proxy naming the client in X-Forwarded-For
		id      string // incoming X-Request-Id
		want    float64
	}{
		{"no log line, generated id", quiet, false, "", 2},
		{"no log line, incoming id", quiet, false, "req-1234", 2},
		{"no log line, proxied", quiet, true, "", 2},
		{"log line, direct peer", logger, false, "", 2 + growAllocs},
		{"log line, incoming id", logger, false, "req-1234", 2 + growAllocs},
		{"log line, proxied", logger, true, "", 2 + growAllocs},
		{"JSON handler line, direct peer", fast, false, "", 2 + poolDropAllocs},
		{"JSON handler line, proxied", fast, true, "", 2 + poolDropAllocs},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := mustNew(t, Config{
				Logger:         tc.logger,
				Registerer:     prometheus.NewRegistry(),
				TrustedProxies: []string{"127.0.0.1"},
			})
			mux := http.NewServeMux()
			mux.HandleFunc("GET /api/formulas/{id}", func(w http.ResponseWriter, _ *http.Request) {
				_, _ = w.Write(allocBody)
			})
			h := o.Handler(mux)
			r := httptest.NewRequest(http.MethodGet, "/api/formulas/42", nil)
			r.RemoteAddr = "198.51.100.7:40000"
			if tc.proxied {
				r.RemoteAddr = "127.0.0.1:40000"
				r.Header.Set("X-Forwarded-For", "203.0.113.9")
			}
			r.Header.Set("User-Agent", "alloc-test/1.0")
			if tc.id != "" {
				r.Header.Set("X-Request-Id", tc.id)
			}
			w := testenv.NewHeaderSink()
			h.ServeHTTP(w, r)
			require.Equal(t, http.StatusOK, w.Code)
			require.Len(t, w.H.Values("X-Request-Id"), 1)
			if tc.id != "" {
				require.Equal(t, tc.id, w.H.Get("X-Request-Id"))
			}
			// The route of a ServeMux match costs the mux one allocation of its own.
			muxAllocs := testing.AllocsPerRun(200, func() { mux.ServeHTTP(w, r) })
			got := testing.AllocsPerRun(500, func() {
				clear(w.H)
				h.ServeHTTP(w, r)
			}) - muxAllocs
			assert.LessOrEqual(t, got, tc.want, "allocations per request")
			if tc.logger == logger {
				// method, route, path, request_id, client_ip, user_agent
				assert.Equal(t, 6, tc.logger.Handler().(*walkHandler).attrs)
			}
		})
	}
}
