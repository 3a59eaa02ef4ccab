package health

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const secret = "dial tcp db-primary.internal:5432: connection refused"

func TestEndpointsByLifecycleAndStatus(t *testing.T) {
	fail := func(context.Context) error { return errors.New(secret) }
	warn := func(context.Context) error { return Warning(errors.New(secret)) }
	tests := []struct {
		name      string
		fn        func(context.Context) error
		nonCrit   bool
		start     bool
		drain     bool
		wantReady int
		wantBody  string
	}{
		{"not started", pass, false, false, false, 503, `{"status":"fail"}`},
		{"started pass", pass, false, true, false, 200, `{"status":"pass"}`},
		{"started warn", warn, false, true, false, 200, `{"status":"warn"}`},
		{"non-critical failure", fail, true, true, false, 200, `{"status":"warn"}`},
		{"critical failure", fail, false, true, false, 503, `{"status":"fail"}`},
		{"draining", pass, false, true, true, 503, `{"status":"fail"}`},
		{"draining before start", pass, false, false, true, 503, `{"status":"fail"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := mustNew(t, Config{Checks: []Check{{Name: "db", Func: tt.fn, NonCritical: tt.nonCrit}}})
			if tt.start {
				h.Start(t.Context())
			}
			if tt.drain {
				h.Drain()
			}
			live := probe(h.LiveHandler(), "/live")
			if live.Code != 200 || strings.TrimSpace(live.Body.String()) != `{"status":"pass"}` {
				t.Errorf("/live: %d %s", live.Code, live.Body)
			}
			for _, path := range []string{"/ready", "/health"} {
				w := probe(h.Handler(nil), path)
				if w.Code != tt.wantReady {
					t.Errorf("%s: code %d, want %d", path, w.Code, tt.wantReady)
				}
				if got := strings.TrimSpace(w.Body.String()); got != tt.wantBody {
					t.Errorf("%s: body %s, want %s", path, got, tt.wantBody)
				}
				if ct := w.Header().Get("Content-Type"); ct != contentType {
					t.Errorf("%s: Content-Type %q", path, ct)
				}
				if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
					t.Errorf("%s: Cache-Control %q", path, cc)
				}
			}
		})
	}
}

func TestHeadAndMethods(t *testing.T) {
	h := mustNew(t, Config{})
	h.Start(t.Context())
	srv := h.Handler(nil)
	for _, path := range []string{"/live", "/ready", "/health"} {
		r := httptest.NewRequest(http.MethodHead, path, nil)
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, r)
		if w.Code != 200 || w.Body.Len() != 0 || w.Header().Get("Content-Length") != "18" {
			t.Errorf("HEAD %s: %d, body %q, length %q", path, w.Code, w.Body, w.Header().Get("Content-Length"))
		}
		for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, "BREW"} {
			r := httptest.NewRequest(m, path, strings.NewReader("x"))
			w := httptest.NewRecorder()
			srv.ServeHTTP(w, r)
			if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET, HEAD" ||
				w.Header().Get("Content-Type") != "application/problem+json" {
				t.Errorf("%s %s: %d %v", m, path, w.Code, w.Header())
			}
		}
	}
}

func TestMethodNotAllowedHandlerReplaceable(t *testing.T) {
	h := mustNew(t, Config{MethodNotAllowedHandler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "custom", http.StatusTeapot)
	})})
	r := httptest.NewRequest(http.MethodPost, "/live", nil)
	w := httptest.NewRecorder()
	h.Handler(nil).ServeHTTP(w, r)
	if w.Code != http.StatusTeapot {
		t.Errorf("code %d", w.Code)
	}
}

func TestHandlerRouting(t *testing.T) {
	h := mustNew(t, Config{LivePath: "/api/live", ReadyPath: "/api/ready", HealthPath: "/api/health"})
	h.Start(t.Context())
	var reached []string
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached = append(reached, r.URL.Path)
		w.WriteHeader(http.StatusAccepted)
	})
	srv := h.Handler(next)
	for path, want := range map[string]int{
		"/api/live": 200, "/api/ready": 200, "/api/health": 200,
		"/live": 202, "/api/health/": 202, "/api/healthz": 202,
	} {
		if w := probe(srv, path); w.Code != want {
			t.Errorf("%s: %d, want %d", path, w.Code, want)
		}
	}
	if len(reached) != 3 {
		t.Errorf("next reached for %v", reached)
	}
	if w := probe(h.Handler(nil), "/other"); w.Code != 404 {
		t.Errorf("nil next: %d", w.Code)
	}
}

// Details reach authorised callers only; everyone else gets the status alone, never an
// error string, host name, component id, version or runtime fact.
func TestDetailHiding(t *testing.T) {
	const token = "0123456789abcdef-health"
	cfg := Config{
		Checks: []Check{
			{Name: "db", ComponentID: "db-primary.internal", Func: func(context.Context) error { return errors.New(secret) }},
		},
		Version:        "1.4.2",
		Token:          token,
		DetailCIDRs:    []string{"10.1.0.0/16", "192.0.2.7", "2001:db8::/32"},
		TrustedProxies: []string{"172.16.0.1"},
	}
	tests := []struct {
		name   string
		mod    []func(*http.Request)
		detail bool
	}{
		{"anonymous", nil, false},
		{"right token", []func(*http.Request){withBearer(token)}, true},
		{"lowercase scheme", []func(*http.Request){func(r *http.Request) { r.Header.Set("Authorization", "bearer "+token) }}, true},
		{"wrong token", []func(*http.Request){withBearer(token + "x")}, false},
		{"token prefix", []func(*http.Request){withBearer(token[:16])}, false},
		{"empty bearer", []func(*http.Request){withBearer("")}, false},
		{"basic scheme", []func(*http.Request){func(r *http.Request) { r.Header.Set("Authorization", "Basic "+token) }}, false},
		{"token in query", []func(*http.Request){func(r *http.Request) { r.URL.RawQuery = "token=" + token }}, false},
		{"allowed network", []func(*http.Request){fromAddr("10.1.2.3:4444")}, true},
		{"allowed single address", []func(*http.Request){fromAddr("192.0.2.7:1")}, true},
		{"neighbour of single address", []func(*http.Request){fromAddr("192.0.2.8:1")}, false},
		{"allowed v6", []func(*http.Request){fromAddr("[2001:db8::1]:1")}, true},
		{"v4-mapped v6", []func(*http.Request){fromAddr("[::ffff:10.1.2.3]:1")}, true},
		{"other network", []func(*http.Request){fromAddr("10.2.0.1:1")}, false},
		{"garbage remote addr", []func(*http.Request){fromAddr("nonsense")}, false},
		{"spoofed XFF from untrusted peer", []func(*http.Request){fromAddr("203.0.113.9:1"),
			func(r *http.Request) { r.Header.Set("X-Forwarded-For", "10.1.2.3") }}, false},
		{"XFF through trusted proxy", []func(*http.Request){fromAddr("172.16.0.1:1"),
			func(r *http.Request) { r.Header.Set("X-Forwarded-For", "10.1.2.3") }}, true},
		{"prepended XFF through trusted proxy", []func(*http.Request){fromAddr("172.16.0.1:1"),
			func(r *http.Request) { r.Header.Set("X-Forwarded-For", "10.1.2.3, 203.0.113.9") }}, false},
		{"trusted proxy itself", []func(*http.Request){fromAddr("172.16.0.1:1")}, false},
	}
	h := mustNew(t, cfg)
	h.Start(t.Context())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, path := range []string{"/ready", "/health"} {
				w := probe(h.Handler(nil), path, tt.mod...)
				body := w.Body.String()
				if w.Code != 503 {
					t.Errorf("%s: code %d", path, w.Code)
				}
				leaked := strings.Contains(body, "db-primary") || strings.Contains(body, "1.4.2") ||
					strings.Contains(body, "goroutines") || strings.Contains(body, "checks")
				if tt.detail != leaked {
					t.Errorf("%s: details shown = %v, want %v: %s", path, leaked, tt.detail, body)
				}
				if !tt.detail && strings.TrimSpace(body) != `{"status":"fail"}` {
					t.Errorf("%s: public body %s", path, body)
				}
			}
		})
	}
}

func TestAuthorizeOverrides(t *testing.T) {
	h := mustNew(t, Config{
		Token:     "0123456789abcdef",
		Authorize: func(r *http.Request) bool { return r.Header.Get("X-Ops") == "yes" },
		Checks:    []Check{{Name: "db", Func: pass}},
	})
	h.Start(t.Context())
	if body := probe(h.HealthHandler(), "/health", withBearer("0123456789abcdef")).Body.String(); strings.Contains(body, "checks") {
		t.Errorf("token accepted although Authorize decides: %s", body)
	}
	if body := probe(h.HealthHandler(), "/health", func(r *http.Request) { r.Header.Set("X-Ops", "yes") }).Body.String(); !strings.Contains(body, `"db"`) {
		t.Errorf("Authorize ignored: %s", body)
	}
}

// healthDoc is the draft's document as a client decodes it.
type healthDoc struct {
	Status      string   `json:"status"`
	Version     string   `json:"version"`
	ReleaseID   string   `json:"releaseId"`
	ServiceID   string   `json:"serviceId"`
	Description string   `json:"description"`
	Notes       []string `json:"notes"`
	Checks      map[string][]map[string]any
}

// wantMembers reports each member of got that differs from want.
func wantMembers(t *testing.T, name string, got, want map[string]any) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s.%s = %#v, want %#v", name, k, got[k], v)
		}
	}
}

// wantRuntimeFacts checks that doc reports goroutines and memory.
func wantRuntimeFacts(t *testing.T, doc healthDoc) {
	t.Helper()
	for _, k := range []string{"runtime:goroutines", "runtime:memory", "runtime:heap"} {
		if v, ok := doc.Checks[k][0]["observedValue"].(float64); !ok || v <= 0 {
			t.Errorf("%s: %v", k, doc.Checks[k])
		}
	}
}

// The authorised /health answer follows the draft and carries every fact promised.
func TestHealthDocument(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	h := mustNew(t, Config{
		Now:         clock,
		Version:     "1.4.2",
		ReleaseID:   "1.4.2-abc",
		ServiceID:   "nexus",
		Description: "Nexus API",
		DetailCIDRs: []string{"127.0.0.1"},
		Checks: []Check{
			{Name: "postgres", ComponentType: "datastore", ComponentID: "pg-1", Func: func(ctx context.Context) error {
				Observe(ctx, 12.5, "ms")
				return nil
			}},
			{Name: "openai", NonCritical: true, ComponentType: "component", Func: func(context.Context) error { return errors.New("status 502") }},
		},
	})
	h.Start(t.Context())
	now = now.Add(90 * time.Second)
	w := probe(h.HealthHandler(), "/health", fromAddr("127.0.0.1:5555"))
	if w.Code != 200 {
		t.Fatalf("code %d: %s", w.Code, w.Body)
	}
	var doc healthDoc
	if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
		t.Fatalf("%v: %s", err, w.Body)
	}
	if doc.Status != "warn" || doc.Version != "1.4.2" || doc.ReleaseID != "1.4.2-abc" || doc.ServiceID != "nexus" || doc.Description != "Nexus API" {
		t.Errorf("top level: %+v", doc)
	}
	pg := doc.Checks["postgres"][0]
	wantMembers(t, "postgres", pg, map[string]any{"componentId": "pg-1", "componentType": "datastore", "observedValue": 12.5,
		"observedUnit": "ms", "status": "pass", "time": "2026-03-01T12:01:30Z", "durationMs": 0.0, "critical": true})
	if _, ok := pg["output"]; ok {
		t.Errorf("passing check has an output: %v", pg)
	}
	wantMembers(t, "openai", doc.Checks["openai"][0], map[string]any{"status": "warn", "output": "status 502", "critical": false,
		"lastError": "status 502", "lastErrorTime": "2026-03-01T12:01:30Z"})
	wantMembers(t, "uptime", doc.Checks["uptime"][0], map[string]any{"observedValue": 90.0, "observedUnit": "s", "componentType": "system"})
	wantRuntimeFacts(t, doc)

	// /ready for the same caller: notes and checks, no runtime facts.
	h.Drain()
	w = probe(h.ReadyHandler(), "/ready", fromAddr("127.0.0.1:5555"))
	body := w.Body.String()
	if w.Code != 503 || !strings.Contains(body, noteDraining) || !strings.Contains(body, `"postgres"`) || strings.Contains(body, "uptime") {
		t.Errorf("/ready while draining: %d %s", w.Code, body)
	}
}

// An observed value json cannot encode loses the observation, not the answer.
func TestUnencodableObservation(t *testing.T) {
	h := mustNew(t, Config{Authorize: func(*http.Request) bool { return true }, Checks: []Check{{Name: "odd", Func: func(ctx context.Context) error {
		Observe(ctx, func() {}, "fn")
		return nil
	}}}})
	h.Start(t.Context())
	w := probe(h.HealthHandler(), "/health")
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"odd"`) || strings.Contains(w.Body.String(), `"fn"`) {
		t.Errorf("%d %s", w.Code, w.Body)
	}
	var doc struct{ Checks map[string][]map[string]any }
	if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if v, ok := doc.Checks["runtime:memory"][0]["observedValue"].(float64); !ok || v <= 0 {
		t.Errorf("the other observations were dropped too: %s", w.Body)
	}
}

func TestHealthBeforeStartShowsChecks(t *testing.T) {
	h := mustNew(t, Config{Authorize: func(*http.Request) bool { return true }, Checks: []Check{{Name: "db", Func: pass}}})
	w := probe(h.HealthHandler(), "/health")
	if w.Code != 503 || !strings.Contains(w.Body.String(), noteStarting) || !strings.Contains(w.Body.String(), `"db"`) {
		t.Errorf("%d %s", w.Code, w.Body)
	}
}

// An outer handler that writes to the response's header values in place changes that
// response only.
func TestResponseHeaderValuesNotShared(t *testing.T) {
	h := mustNew(t, Config{Checks: []Check{{Name: "db", Func: pass}}, Authorize: func(r *http.Request) bool {
		return r.Header.Get("X-Ops") != ""
	}})
	h.Start(t.Context())
	tamper := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r)
			for _, v := range w.Header() {
				for i := range v {
					v[i] = "tampered"
				}
			}
		})
	}
	srv := tamper(h.Handler(nil))
	requests := map[string]func(*http.Request){
		"public":     func(*http.Request) {},
		"authorised": func(r *http.Request) { r.Header.Set("X-Ops", "1") },
		"POST":       func(r *http.Request) { r.Method = http.MethodPost },
	}
	for name, mod := range requests {
		for _, path := range []string{"/live", "/ready", "/health"} {
			before := probe(h.Handler(nil), path, mod).Header()
			for range 2 {
				probe(srv, path, mod)
			}
			after := probe(h.Handler(nil), path, mod).Header()
			if len(after) != len(before) {
				t.Errorf("%s %s: headers %v, then %v", name, path, before, after)
			}
			for k, v := range before {
				got := after.Get(k)
				if got == "tampered" || got == "" || k != "Content-Length" && got != v[0] {
					t.Errorf("%s %s: %s = %q after tampering, was %q", name, path, k, got, v[0])
				}
			}
		}
	}
}
