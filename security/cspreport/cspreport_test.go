package cspreport

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const legacyBody = `{"csp-report":{"document-uri":"https://app.example.com/page?token=secret#x","referrer":"",
"violated-directive":"script-src-elem 'self'","effective-directive":"","original-policy":"default-src 'none'",
"disposition":"enforce","blocked-uri":"https://evil.example/x.js?id=1","status-code":200,
"source-file":"https://app.example.com/app.js","line-number":12,"column-number":4,"script-sample":""}}`

const apiBody = `[{"type":"csp-violation","age":10,"url":"https://app.example.com/p","user_agent":"UA",
"body":{"documentURL":"https://app.example.com/p","blockedURL":"inline","effectiveDirective":"style-src-elem",
"originalPolicy":"default-src 'none'","disposition":"report","sample":"color:red","statusCode":200,
"lineNumber":3,"columnNumber":9}},
{"type":"deprecation","body":{"id":"x"}},
{"type":"csp-violation","url":"https://app.example.com/q","body":{"blockedURL":"eval","effectiveDirective":"made-up","disposition":"weird"}}]`

func TestParse(t *testing.T) {
	reps, err := Parse("application/csp-report", []byte(legacyBody))
	require.NoError(t, err)
	require.Len(t, reps, 1)
	r := reps[0]
	assert.Equal(t, "https://app.example.com/page", r.DocumentURL, "query and fragment dropped")
	assert.Equal(t, "https://evil.example/x.js", r.BlockedURL)
	assert.Equal(t, "script-src-elem", r.EffectiveDirective, "taken from violated-directive when missing")
	assert.Equal(t, "enforce", r.Disposition)
	assert.Equal(t, 12, r.Line)
	assert.Equal(t, 4, r.Column)

	reps, err = Parse("application/reports+json", []byte(apiBody))
	require.NoError(t, err)
	require.Len(t, reps, 2, "non-CSP reports skipped")
	assert.Equal(t, "style-src-elem", reps[0].EffectiveDirective)
	assert.Equal(t, "report", reps[0].Disposition)
	assert.Equal(t, "color:red", reps[0].Sample)
	assert.Equal(t, "https://app.example.com/q", reps[1].DocumentURL, "falls back to the report url")

	reps, err = Parse("application/json; charset=utf-8", []byte(" "+apiBody))
	require.NoError(t, err)
	assert.Len(t, reps, 2)
	reps, err = Parse("application/json", []byte(legacyBody))
	require.NoError(t, err)
	assert.Len(t, reps, 1)

	long := `{"csp-report":{"document-uri":"https://a.example/` + strings.Repeat("é", 600) + `"}}`
	reps, err = Parse("application/csp-report", []byte(long))
	require.NoError(t, err)
	assert.LessOrEqual(t, len(reps[0].DocumentURL), 512)
	assert.True(t, strings.HasSuffix(reps[0].DocumentURL, "é"), "cut on a rune boundary")

	for name, tc := range map[string][2]string{
		"not json":         {"application/csp-report", "{"},
		"no member":        {"application/csp-report", `{"other":{}}`},
		"null member":      {"application/csp-report", `{"csp-report":null}`},
		"wrong shape":      {"application/csp-report", `[1,2]`},
		"empty batch":      {"application/reports+json", `[]`},
		"no csp in batch":  {"application/reports+json", `[{"type":"intervention","body":{}}]`},
		"batch not array":  {"application/reports+json", `{"type":"csp-violation"}`},
		"bad field type":   {"application/csp-report", `{"csp-report":{"line-number":"x"}}`},
		"wrong media type": {"text/plain", legacyBody},
	} {
		_, err := Parse(tc[0], []byte(tc[1]))
		assert.ErrorIs(t, err, ErrMalformed, name)
	}
}

func TestHandler(t *testing.T) {
	reg := prometheus.NewRegistry()
	var logs bytes.Buffer
	rp, err := New(Config{Registerer: reg, Keep: 2, MaxReports: 1, MaxBodyBytes: 2048,
		Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	require.NoError(t, err)
	srv := httptest.NewServer(rp)
	defer srv.Close()
	post := func(ct, body string) *http.Response {
		resp, err := srv.Client().Post(srv.URL, ct, strings.NewReader(body))
		require.NoError(t, err)
		_ = resp.Body.Close()
		return resp
	}
	assert.Equal(t, http.StatusNoContent, post("application/csp-report", legacyBody).StatusCode)
	assert.Equal(t, http.StatusNoContent, post("application/reports+json", apiBody).StatusCode, "batch capped at MaxReports")
	assert.Equal(t, http.StatusNoContent, post("application/csp-report", strings.Replace(legacyBody, "enforce", "report", 1)).StatusCode)
	assert.Equal(t, uint64(3), rp.Total())
	recent := rp.Recent()
	require.Len(t, recent, 2, "ring keeps the last Keep reports")
	assert.Equal(t, "style-src-elem", recent[0].EffectiveDirective)
	assert.Equal(t, "report", recent[1].Disposition)
	assert.False(t, recent[1].Received.IsZero())

	assert.Equal(t, 1.0, counterValue(t, reg, "script-src-elem", "enforce"))
	assert.Equal(t, 1.0, counterValue(t, reg, "style-src-elem", "report"))
	assert.Contains(t, logs.String(), `"msg":"csp violation"`)
	assert.NotContains(t, logs.String(), "secret", "query strings never reach the log")

	resp, err := srv.Client().Get(srv.URL)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	assert.Equal(t, "POST", resp.Header.Get("Allow"))
	assert.Equal(t, http.StatusUnsupportedMediaType, post("text/plain", legacyBody).StatusCode)
	assert.Equal(t, http.StatusUnsupportedMediaType, post("", legacyBody).StatusCode)
	assert.Equal(t, http.StatusBadRequest, post("application/csp-report", "{nope").StatusCode)
	resp = post("application/csp-report", `{"csp-report":{"sample":"`+strings.Repeat("x", 4096)+`"}}`)
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	assert.Equal(t, uint64(3), rp.Total(), "rejected bodies are not counted")
}

func counterValue(t *testing.T, reg *prometheus.Registry, directive, disposition string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != "harden_security_csp_reports_total" {
			continue
		}
		for _, m := range mf.Metric {
			labels := map[string]string{}
			for _, l := range m.Label {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["directive"] == directive && labels["disposition"] == disposition {
				return m.Counter.GetValue()
			}
		}
	}
	t.Fatalf("no series directive=%s disposition=%s", directive, disposition)
	return 0
}

func TestReportLabelsAreBounded(t *testing.T) {
	reg := prometheus.NewRegistry()
	rp, err := New(Config{Registerer: reg, LogLimit: -1})
	require.NoError(t, err)
	for i := range 200 {
		body := `{"csp-report":{"effective-directive":"x-` + strings.Repeat("a", i) + `","disposition":"d` + strings.Repeat("b", i) + `"}}`
		rp.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body)))
	}
	mfs, err := reg.Gather()
	require.NoError(t, err)
	require.Len(t, mfs, 0, "requests without the report media type were refused")

	for i := range 200 {
		body := `{"csp-report":{"effective-directive":"x-` + strings.Repeat("a", i) + `","disposition":"d` + strings.Repeat("b", i) + `"}}`
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/csp-report")
		rp.ServeHTTP(httptest.NewRecorder(), req)
	}
	assert.Equal(t, 1, testutil.CollectAndCount(reg, "harden_security_csp_reports_total"), "every odd label collapses to other/unknown")
	assert.Equal(t, 200.0, counterValue(t, reg, "other", "unknown"))
}

// countingHandler counts log records.
type countingHandler struct {
	mu sync.Mutex
	n  int
}

func (h *countingHandler) Enabled(_ context.Context, _ slog.Level) bool { return true }
func (h *countingHandler) Handle(_ context.Context, _ slog.Record) error {
	h.mu.Lock()
	h.n++
	h.mu.Unlock()
	return nil
}
func (h *countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *countingHandler) WithGroup(string) slog.Handler      { return h }

func (h *countingHandler) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n
}

func TestReportLogBudgetPerMinute(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		logs := &countingHandler{}
		rp, err := New(Config{Logger: slog.New(logs), LogLimit: 3})
		require.NoError(t, err)
		send := func(n int) {
			for range n {
				req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(legacyBody))
				req.Header.Set("Content-Type", "application/csp-report")
				rec := httptest.NewRecorder()
				rp.ServeHTTP(rec, req)
				require.Equal(t, http.StatusNoContent, rec.Code)
			}
		}
		send(10)
		assert.Equal(t, 3, logs.count(), "log budget spent")
		time.Sleep(59 * time.Second)
		send(5)
		assert.Equal(t, 3, logs.count(), "same window")
		time.Sleep(time.Second)
		send(5)
		assert.Equal(t, 6, logs.count(), "new window, new budget")
		assert.Equal(t, uint64(20), rp.Total(), "every report counted even when not logged")
	})
}

func TestNewRejectsNegativeLimits(t *testing.T) {
	for _, cfg := range []Config{{MaxBodyBytes: -1}, {MaxReports: -1}, {Keep: -1}} {
		_, err := New(cfg)
		assert.ErrorIs(t, err, ErrInvalidConfig)
	}
}
