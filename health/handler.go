package health

import (
	"encoding/json"
	"io"
	"math"
	"net/http"
	"runtime"
	"strconv"
	"time"

	"github.com/nexus-reussite/harden/internal/problem"
)

// contentType is the media type of every health response.
const contentType = "application/health+json"

// Notes explaining a fail that comes from the lifecycle rather than from a check.
const (
	noteStarting = "starting: Start has not been called"
	noteDraining = "draining: shutdown in progress"
	noteNoResult = "no check result yet"
)

// publicBody is what unauthorised callers get: the status alone.
func publicBody(s Status) string {
	switch s {
	case StatusPass:
		return `{"status":"pass"}` + "\n"
	case StatusWarn:
		return `{"status":"warn"}` + "\n"
	default:
		return `{"status":"fail"}` + "\n"
	}
}

// LiveHandler answers GET and HEAD with 200 pass as long as the process serves
// requests. It runs no check, so a failing dependency never gets the process
// restarted; it stays 200 while draining.
func (h *Health) LiveHandler() http.Handler { return http.HandlerFunc(h.serveLive) }

// ReadyHandler answers 200 when startup is complete, the process is not draining and
// no critical check fails (cached results, see Config.Interval), 503 otherwise.
// Authorised callers also get the notes and the check results.
func (h *Health) ReadyHandler() http.Handler { return http.HandlerFunc(h.serveReady) }

// HealthHandler answers with the same status and code as ReadyHandler. Authorised
// callers get every check with its status, duration, observed value, current and last
// error, plus the version and runtime facts (uptime, goroutines, memory).
func (h *Health) HealthHandler() http.Handler { return http.HandlerFunc(h.serveHealth) }

// Handler serves LivePath, ReadyPath and HealthPath and passes every other request to
// next (a nil next answers 404). Put it outside authentication and rate limiting so
// probes always reach it, and before other routes so none can shadow it.
func (h *Health) Handler(next http.Handler) http.Handler {
	if next == nil {
		next = http.NotFoundHandler()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case h.livePath:
			h.serveLive(w, r)
		case h.readyPath:
			h.serveReady(w, r)
		case h.healthPath:
			h.serveHealth(w, r)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

func (h *Health) serveLive(w http.ResponseWriter, r *http.Request) {
	if !h.allowMethod(w, r) {
		return
	}
	writePublic(w, r, StatusPass)
}

// readiness returns the status of /ready and /health and, when the lifecycle decides
// it, a note. It only runs checks when the lifecycle allows traffic.
func (h *Health) readiness(r *http.Request) (Status, string, *snapshot) {
	switch {
	case h.draining.Load():
		return StatusFail, noteDraining, h.snap.Load()
	case !h.started.Load():
		return StatusFail, noteStarting, h.snap.Load()
	}
	s := h.current(r.Context())
	if s == nil {
		return StatusFail, noteNoResult, nil
	}
	return s.rep.Status, "", s
}

func (h *Health) serveReady(w http.ResponseWriter, r *http.Request) {
	if !h.allowMethod(w, r) {
		return
	}
	status, note, s := h.readiness(r)
	if !h.auth.allowed(r) {
		writePublic(w, r, status)
		return
	}
	body := response{Status: status}
	if note != "" {
		body.Notes = []string{note}
	}
	if s != nil {
		body.Checks = checksJSON(s.rep, 1)
	}
	writeJSON(w, r, status, body)
}

func (h *Health) serveHealth(w http.ResponseWriter, r *http.Request) {
	if !h.allowMethod(w, r) {
		return
	}
	status, note, s := h.readiness(r)
	if !h.auth.allowed(r) {
		writePublic(w, r, status)
		return
	}
	if s == nil && note != noteNoResult {
		// Starting or draining: the checks are still worth showing to an operator.
		s = h.current(r.Context())
	}
	body := response{
		Status:      status,
		Version:     h.info.Version,
		ReleaseID:   h.info.ReleaseID,
		ServiceID:   h.info.ServiceID,
		Description: h.info.Description,
	}
	if note != "" {
		body.Notes = []string{note}
	}
	var rep report
	if s != nil {
		rep = s.rep
	}
	body.Checks = checksJSON(rep, 4)
	h.addRuntime(body.Checks)
	writeJSON(w, r, status, body)
}

func (h *Health) allowMethod(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	h.methodNA.ServeHTTP(w, r)
	return false
}

func methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Allow", "GET, HEAD")
	problem.Error(w, http.StatusMethodNotAllowed, "health endpoints answer GET and HEAD only")
}

func statusCode(s Status) int {
	if s == StatusFail {
		return http.StatusServiceUnavailable
	}
	return http.StatusOK
}

func setHeaders(w http.ResponseWriter, n int) {
	hdr := w.Header()
	hdr.Set("Content-Type", contentType)
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("Content-Length", strconv.Itoa(n))
}

func writePublic(w http.ResponseWriter, r *http.Request, s Status) {
	body := publicBody(s)
	setHeaders(w, len(body))
	w.WriteHeader(statusCode(s))
	if r.Method != http.MethodHead {
		_, _ = io.WriteString(w, body)
	}
}

func writeJSON(w http.ResponseWriter, r *http.Request, s Status, v response) {
	b, err := json.Marshal(v)
	if err != nil {
		// An observed value json cannot encode: drop that observation rather than
		// the whole answer.
		for _, list := range v.Checks {
			for i := range list {
				if _, err := json.Marshal(list[i].ObservedValue); err != nil {
					list[i].ObservedValue, list[i].ObservedUnit = nil, ""
				}
			}
		}
		b, err = json.Marshal(v)
		if err != nil {
			writePublic(w, r, s)
			return
		}
	}
	b = append(b, '\n')
	setHeaders(w, len(b))
	w.WriteHeader(statusCode(s))
	if r.Method != http.MethodHead {
		_, _ = w.Write(b)
	}
}

// response is the draft's top-level object.
type response struct {
	Status      Status                 `json:"status"`
	Version     string                 `json:"version,omitempty"`
	ReleaseID   string                 `json:"releaseId,omitempty"`
	ServiceID   string                 `json:"serviceId,omitempty"`
	Description string                 `json:"description,omitempty"`
	Notes       []string               `json:"notes,omitempty"`
	Checks      map[string][]checkJSON `json:"checks,omitempty"`
}

// checkJSON is the draft's check object, with durationMs, critical, lastError and
// lastErrorTime as extensions.
type checkJSON struct {
	ComponentID   string   `json:"componentId,omitempty"`
	ComponentType string   `json:"componentType,omitempty"`
	ObservedValue any      `json:"observedValue,omitempty"`
	ObservedUnit  string   `json:"observedUnit,omitempty"`
	Status        Status   `json:"status"`
	Time          string   `json:"time,omitempty"`
	Output        string   `json:"output,omitempty"`
	DurationMs    *float64 `json:"durationMs,omitempty"`
	Critical      *bool    `json:"critical,omitempty"`
	LastError     string   `json:"lastError,omitempty"`
	LastErrorTime string   `json:"lastErrorTime,omitempty"`
}

func checksJSON(rep report, extra int) map[string][]checkJSON {
	m := make(map[string][]checkJSON, len(rep.Checks)+extra)
	for _, c := range rep.Checks {
		critical := c.Critical
		ms := math.Round(float64(c.Duration)/float64(time.Microsecond)) / 1000
		j := checkJSON{
			ComponentID:   c.ComponentID,
			ComponentType: c.ComponentType,
			ObservedValue: c.ObservedValue,
			ObservedUnit:  c.ObservedUnit,
			Status:        c.Status,
			Time:          formatTime(c.Time),
			DurationMs:    &ms,
			Critical:      &critical,
			LastErrorTime: formatTime(c.LastErrTime),
		}
		if c.Err != nil {
			j.Output = c.Err.Error()
		}
		if c.LastErr != nil {
			j.LastError = c.LastErr.Error()
		}
		m[c.Name] = append(m[c.Name], j)
	}
	return m
}

// addRuntime adds the process facts to a /health answer.
func (h *Health) addRuntime(m map[string][]checkJSON) {
	now := h.now()
	t := formatTime(now)
	fact := func(name string, v any, unit string) {
		m[name] = append(m[name], checkJSON{ComponentType: "system", ObservedValue: v, ObservedUnit: unit, Status: StatusPass, Time: t})
	}
	fact("uptime", math.Round(now.Sub(h.created).Seconds()*1000)/1000, "s")
	fact("runtime:goroutines", runtime.NumGoroutine(), "")
	mem := readMemory()
	fact("runtime:memory", mem.total, "B")
	fact("runtime:heap", mem.heap, "B")
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}
