package security

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/nexus-reussite/harden/internal/problem"
	"github.com/prometheus/client_golang/prometheus"
)

// ErrBadReport is returned by ParseReports for a body that is not a CSP violation report.
var ErrBadReport = errors.New("security: malformed CSP report")

// ReportsConfig configures the CSP violation report endpoint.
type ReportsConfig struct {
	// Logger receives one warning per report, within LogLimit. Nil (default) discards.
	Logger *slog.Logger
	// Registerer receives harden_security_csp_reports_total{directive,disposition}; the
	// directive label is a known CSP directive name or "other". Nil (default): no metrics.
	Registerer prometheus.Registerer
	// MaxBodyBytes caps a report request body; larger ones get 413. 0 (default) means 64 KiB.
	MaxBodyBytes int64
	// MaxReports caps the reports accepted from one request (a Reporting API batch);
	// the rest are dropped. 0 (default) means 20.
	MaxReports int
	// Keep is how many recent reports Recent returns. 0 (default) means 100.
	Keep int
	// LogLimit is how many reports are logged per minute; the others are only counted.
	// 0 (default) means 30; negative logs none.
	LogLimit int
	// Now is the clock. Nil (default) means time.Now.
	Now func() time.Time
}

// Report is one CSP violation, normalised from either report format. URLs lose their
// query and fragment (which may carry tokens) and every string is cut to 512 bytes.
type Report struct {
	DocumentURL        string    `json:"document_url"`
	Referrer           string    `json:"referrer,omitempty"`
	BlockedURL         string    `json:"blocked_url,omitempty"`
	EffectiveDirective string    `json:"effective_directive"`
	OriginalPolicy     string    `json:"original_policy,omitempty"`
	Disposition        string    `json:"disposition"`
	SourceFile         string    `json:"source_file,omitempty"`
	Sample             string    `json:"sample,omitempty"`
	StatusCode         int       `json:"status_code,omitempty"`
	Line               int       `json:"line,omitempty"`
	Column             int       `json:"column,omitempty"`
	Received           time.Time `json:"received"`
}

// Reports is an http.Handler receiving CSP violation reports sent by browsers to a
// report-uri (application/csp-report) or a Reporting API endpoint
// (application/reports+json). It logs and counts them with bounded memory: a capped body,
// a capped batch, a fixed ring of recent reports and a per-minute log budget. Mount it at
// CSPConfig.ReportURI for POST, and exempt that route from CSRF (CSRF.BypassPatterns),
// since browsers send reports outside the page's origin context.
type Reports struct {
	log        *slog.Logger
	counter    *prometheus.CounterVec
	maxBody    int64
	maxReports int
	logLimit   int
	now        func() time.Time

	mu          sync.Mutex
	ring        []Report
	next        int
	filled      bool
	total       uint64
	windowStart time.Time
	logged      int
}

// NewReports builds a report endpoint.
func NewReports(cfg ReportsConfig) (*Reports, error) {
	rp := &Reports{log: cfg.Logger, maxBody: cfg.MaxBodyBytes, maxReports: cfg.MaxReports,
		logLimit: cfg.LogLimit, now: cfg.Now}
	if rp.log == nil {
		rp.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if rp.maxBody == 0 {
		rp.maxBody = 64 << 10
	}
	if rp.maxReports == 0 {
		rp.maxReports = 20
	}
	keep := cfg.Keep
	if keep == 0 {
		keep = 100
	}
	if rp.maxBody < 0 || rp.maxReports < 0 || keep < 0 {
		return nil, fmt.Errorf("%w: ReportsConfig limits must not be negative", ErrConfig)
	}
	rp.ring = make([]Report, keep)
	if rp.logLimit == 0 {
		rp.logLimit = 30
	}
	if rp.now == nil {
		rp.now = time.Now
	}
	if cfg.Registerer != nil {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "harden_security_csp_reports_total",
			Help: "CSP violation reports received, by effective directive and disposition.",
		}, []string{"directive", "disposition"})
		var err error
		if rp.counter, err = register(cfg.Registerer, c); err != nil {
			return nil, err
		}
	}
	return rp, nil
}

// ServeHTTP accepts POSTed reports and answers 204. Wrong method: 405; unknown media
// type: 415; oversized body: 413; unparsable body: 400 — all problem+json.
func (rp *Reports) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		problem.Error(w, http.StatusMethodNotAllowed, "Reports are sent with POST.")
		return
	}
	ct := r.Header.Get("Content-Type")
	if !acceptedReportType(ct) {
		problem.Error(w, http.StatusUnsupportedMediaType, "Send application/csp-report or application/reports+json.")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, rp.maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			problem.Error(w, http.StatusRequestEntityTooLarge, "The report is too large.")
			return
		}
		problem.Error(w, http.StatusBadRequest, "The report body could not be read.")
		return
	}
	reports, err := ParseReports(ct, body)
	if err != nil {
		problem.Error(w, http.StatusBadRequest, "The body is not a CSP violation report.")
		return
	}
	if len(reports) > rp.maxReports {
		reports = reports[:rp.maxReports]
	}
	for i := range reports {
		rp.record(r, &reports[i])
	}
	w.WriteHeader(http.StatusNoContent)
}

func (rp *Reports) record(r *http.Request, rep *Report) {
	now := rp.now()
	rep.Received = now
	if rp.counter != nil {
		rp.counter.WithLabelValues(directiveLabel(rep.EffectiveDirective), dispositionLabel(rep.Disposition)).Inc()
	}
	rp.mu.Lock()
	rp.total++
	if len(rp.ring) > 0 {
		rp.ring[rp.next] = *rep
		rp.next = (rp.next + 1) % len(rp.ring)
		if rp.next == 0 {
			rp.filled = true
		}
	}
	if now.Sub(rp.windowStart) >= time.Minute || now.Before(rp.windowStart) {
		rp.windowStart, rp.logged = now, 0
	}
	doLog := rp.logLimit > 0 && rp.logged < rp.logLimit
	if doLog {
		rp.logged++
	}
	rp.mu.Unlock()
	if doLog {
		rp.log.LogAttrs(r.Context(), slog.LevelWarn, "csp violation",
			slog.String("directive", rep.EffectiveDirective), slog.String("blocked", rep.BlockedURL),
			slog.String("document", rep.DocumentURL), slog.String("disposition", rep.Disposition),
			slog.String("source", rep.SourceFile), slog.Int("line", rep.Line))
	}
}

// Recent returns the most recent reports, oldest first.
func (rp *Reports) Recent() []Report {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	if !rp.filled {
		return append([]Report(nil), rp.ring[:rp.next]...)
	}
	out := make([]Report, 0, len(rp.ring))
	out = append(out, rp.ring[rp.next:]...)
	return append(out, rp.ring[:rp.next]...)
}

// Total returns the number of reports recorded since NewReports.
func (rp *Reports) Total() uint64 {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	return rp.total
}

func acceptedReportType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	switch mt {
	case "application/csp-report", "application/reports+json", "application/json":
		return true
	}
	return false
}

// legacyReport is the body of a report-uri report.
type legacyReport struct {
	Body *struct {
		DocumentURI        string `json:"document-uri"`
		Referrer           string `json:"referrer"`
		BlockedURI         string `json:"blocked-uri"`
		ViolatedDirective  string `json:"violated-directive"`
		EffectiveDirective string `json:"effective-directive"`
		OriginalPolicy     string `json:"original-policy"`
		Disposition        string `json:"disposition"`
		SourceFile         string `json:"source-file"`
		ScriptSample       string `json:"script-sample"`
		StatusCode         int    `json:"status-code"`
		LineNumber         int    `json:"line-number"`
		ColumnNumber       int    `json:"column-number"`
	} `json:"csp-report"`
}

// apiReport is one entry of a Reporting API batch.
type apiReport struct {
	Type string `json:"type"`
	URL  string `json:"url"`
	Body *struct {
		DocumentURL        string `json:"documentURL"`
		Referrer           string `json:"referrer"`
		BlockedURL         string `json:"blockedURL"`
		EffectiveDirective string `json:"effectiveDirective"`
		OriginalPolicy     string `json:"originalPolicy"`
		Disposition        string `json:"disposition"`
		SourceFile         string `json:"sourceFile"`
		Sample             string `json:"sample"`
		StatusCode         int    `json:"statusCode"`
		LineNumber         int    `json:"lineNumber"`
		ColumnNumber       int    `json:"columnNumber"`
	} `json:"body"`
}

// ParseReports parses a report body of the given Content-Type: a single report-uri report
// ({"csp-report": {…}}) or a Reporting API batch ([{"type": "csp-violation", "body": {…}}],
// other report types skipped). With application/json either shape is accepted. The
// result is normalised as described on Report; errors wrap ErrBadReport.
func ParseReports(contentType string, body []byte) ([]Report, error) {
	mt, _, _ := mime.ParseMediaType(contentType)
	trimmed := strings.TrimLeft(string(body), " \t\r\n")
	isArray := strings.HasPrefix(trimmed, "[")
	switch {
	case mt == "application/reports+json" || (mt == "application/json" && isArray):
		var batch []apiReport
		if err := json.Unmarshal(body, &batch); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadReport, err)
		}
		out := make([]Report, 0, len(batch))
		for _, e := range batch {
			if e.Type != "csp-violation" || e.Body == nil {
				continue
			}
			b := e.Body
			doc := b.DocumentURL
			if doc == "" {
				doc = e.URL
			}
			out = append(out, normalise(Report{DocumentURL: doc, Referrer: b.Referrer, BlockedURL: b.BlockedURL,
				EffectiveDirective: b.EffectiveDirective, OriginalPolicy: b.OriginalPolicy,
				Disposition: b.Disposition, SourceFile: b.SourceFile, Sample: b.Sample,
				StatusCode: b.StatusCode, Line: b.LineNumber, Column: b.ColumnNumber}))
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("%w: no csp-violation entry", ErrBadReport)
		}
		return out, nil
	case mt == "application/csp-report" || mt == "application/json":
		var lr legacyReport
		if err := json.Unmarshal(body, &lr); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadReport, err)
		}
		b := lr.Body
		if b == nil {
			return nil, fmt.Errorf("%w: no csp-report member", ErrBadReport)
		}
		dir := b.EffectiveDirective
		if dir == "" {
			dir, _, _ = strings.Cut(strings.TrimSpace(b.ViolatedDirective), " ")
		}
		return []Report{normalise(Report{DocumentURL: b.DocumentURI, Referrer: b.Referrer, BlockedURL: b.BlockedURI,
			EffectiveDirective: dir, OriginalPolicy: b.OriginalPolicy, Disposition: b.Disposition,
			SourceFile: b.SourceFile, Sample: b.ScriptSample, StatusCode: b.StatusCode,
			Line: b.LineNumber, Column: b.ColumnNumber})}, nil
	}
	return nil, fmt.Errorf("%w: media type %q", ErrBadReport, mt)
}

const maxReportField = 512

func normalise(r Report) Report {
	r.DocumentURL = cut(stripQuery(r.DocumentURL))
	r.Referrer = cut(stripQuery(r.Referrer))
	r.BlockedURL = cut(stripQuery(r.BlockedURL))
	r.SourceFile = cut(stripQuery(r.SourceFile))
	r.EffectiveDirective = cut(strings.ToLower(strings.TrimSpace(r.EffectiveDirective)))
	r.OriginalPolicy = cut(r.OriginalPolicy)
	r.Disposition = cut(strings.ToLower(r.Disposition))
	r.Sample = cut(r.Sample)
	return r
}

func stripQuery(u string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		return u[:i]
	}
	return u
}

// cut bounds s to maxReportField bytes without splitting a UTF-8 sequence.
func cut(s string) string {
	if len(s) <= maxReportField {
		return s
	}
	i := maxReportField
	for i > 0 && s[i]&0xC0 == 0x80 {
		i--
	}
	return s[:i]
}

// directiveLabel maps a directive to a bounded metric label.
func directiveLabel(d string) string {
	switch d {
	case "child-src", "connect-src", "default-src", "font-src", "frame-src", "img-src", "manifest-src",
		"media-src", "object-src", "prefetch-src", "script-src", "script-src-elem", "script-src-attr",
		"style-src", "style-src-elem", "style-src-attr", "worker-src", "base-uri", "sandbox",
		"form-action", "frame-ancestors", "navigate-to", "require-trusted-types-for", "trusted-types",
		"upgrade-insecure-requests", "fenced-frame-src", "webrtc":
		return d
	}
	return "other"
}

func dispositionLabel(d string) string {
	switch d {
	case "enforce", "report":
		return d
	}
	return "unknown"
}
