// Package cspreport receives the Content-Security-Policy violation reports browsers send,
// in both formats in use: the legacy report-uri body (application/csp-report) and the
// Reporting API batch (application/reports+json).
//
// A Handler is mounted where the policy's report-uri points (security.CSPConfig.ReportURI
// adds the directives). It logs and counts reports with bounded memory: the body is capped
// at 64 KiB, a batch at 20 reports, the most recent 100 are kept for Recent, at most 30 per
// minute are logged, and every one is counted in
// harden_security_csp_reports_total{directive,disposition} when a Registerer is given.
// Browsers send reports outside the page's origin context, so exempt the route from CSRF
// checks (security.CSRF.BypassPatterns).
//
// Parse is the parser on its own, for a service that stores reports elsewhere. Reports are
// untrusted input: URLs lose their query and fragment (which may carry tokens) and every
// string is cut to 512 bytes.
package cspreport

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nexus-reussite/harden/internal/problem"
	"github.com/nexus-reussite/harden/security/internal/promreg"
)

// Errors. Configuration problems returned by New wrap ErrInvalidConfig; bodies Parse
// cannot read wrap ErrMalformed.
var (
	ErrInvalidConfig = errors.New("cspreport: invalid configuration")
	ErrMalformed     = errors.New("cspreport: malformed CSP report")
)

// Config configures a Handler.
type Config struct {
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

// Defaults of the Config fields left zero.
const (
	defaultMaxBody    = 64 << 10
	defaultMaxReports = 20
	defaultKeep       = 100
	defaultLogLimit   = 30
)

// Handler is an http.Handler receiving CSP violation reports. It is safe for concurrent
// use.
type Handler struct {
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

// New builds a report endpoint. Negative limits are errors wrapping ErrInvalidConfig.
func New(cfg Config) (*Handler, error) {
	if cfg.MaxBodyBytes < 0 || cfg.MaxReports < 0 || cfg.Keep < 0 {
		return nil, fmt.Errorf("%w: MaxBodyBytes, MaxReports and Keep must not be negative", ErrInvalidConfig)
	}
	h := &Handler{
		log:        cfg.Logger,
		maxBody:    orDefault(cfg.MaxBodyBytes, defaultMaxBody),
		maxReports: orDefault(cfg.MaxReports, defaultMaxReports),
		logLimit:   orDefault(cfg.LogLimit, defaultLogLimit),
		now:        cfg.Now,
		ring:       make([]Report, orDefault(cfg.Keep, defaultKeep)),
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.now == nil {
		h.now = time.Now
	}
	if cfg.Registerer != nil {
		var err error
		if h.counter, err = registerCounter(cfg.Registerer); err != nil {
			return nil, err
		}
	}
	return h, nil
}

func orDefault[T int | int64](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

// registerCounter registers the report counter, sharing the one another Handler
// registered on reg.
func registerCounter(reg prometheus.Registerer) (*prometheus.CounterVec, error) {
	c, err := promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "harden_security_csp_reports_total",
		Help: "CSP violation reports received, by effective directive and disposition.",
	}, []string{"directive", "disposition"}))
	if err != nil {
		return nil, fmt.Errorf("%w: registering metrics: %v", ErrInvalidConfig, err)
	}
	return c, nil
}

// ServeHTTP accepts POSTed reports and answers 204. Wrong method: 405; unknown media
// type: 415; oversized body: 413; unparsable body: 400 — all application/problem+json.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		problem.Error(w, http.StatusMethodNotAllowed, "Reports are sent with POST.")
		return
	}
	ct := r.Header.Get("Content-Type")
	if !acceptedType(ct) {
		problem.Error(w, http.StatusUnsupportedMediaType, "Send application/csp-report or application/reports+json.")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			problem.Error(w, http.StatusRequestEntityTooLarge, "The report is too large.")
			return
		}
		problem.Error(w, http.StatusBadRequest, "The report body could not be read.")
		return
	}
	reports, err := Parse(ct, body)
	if err != nil {
		problem.Error(w, http.StatusBadRequest, "The body is not a CSP violation report.")
		return
	}
	if len(reports) > h.maxReports {
		reports = reports[:h.maxReports]
	}
	for i := range reports {
		h.record(r, &reports[i])
	}
	w.WriteHeader(http.StatusNoContent)
}

// record stamps a report, counts it, keeps it in the ring and logs it within the
// per-minute budget.
func (h *Handler) record(r *http.Request, rep *Report) {
	now := h.now()
	rep.Received = now
	if h.counter != nil {
		h.counter.WithLabelValues(directiveLabel(rep.EffectiveDirective), dispositionLabel(rep.Disposition)).Inc()
	}
	h.mu.Lock()
	h.total++
	if len(h.ring) > 0 {
		h.ring[h.next] = *rep
		h.next = (h.next + 1) % len(h.ring)
		if h.next == 0 {
			h.filled = true
		}
	}
	if now.Sub(h.windowStart) >= time.Minute || now.Before(h.windowStart) {
		h.windowStart, h.logged = now, 0
	}
	doLog := h.logLimit > 0 && h.logged < h.logLimit
	if doLog {
		h.logged++
	}
	h.mu.Unlock()
	if doLog {
		h.log.LogAttrs(r.Context(), slog.LevelWarn, "csp violation",
			slog.String("directive", rep.EffectiveDirective), slog.String("blocked", rep.BlockedURL),
			slog.String("document", rep.DocumentURL), slog.String("disposition", rep.Disposition),
			slog.String("source", rep.SourceFile), slog.Int("line", rep.Line))
	}
}

// Recent returns the most recent reports, oldest first.
func (h *Handler) Recent() []Report {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.filled {
		return append([]Report(nil), h.ring[:h.next]...)
	}
	out := make([]Report, 0, len(h.ring))
	out = append(out, h.ring[h.next:]...)
	return append(out, h.ring[:h.next]...)
}

// Total returns the number of reports recorded since New.
func (h *Handler) Total() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.total
}

func acceptedType(ct string) bool {
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
