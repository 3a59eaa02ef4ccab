package app

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nexus-reussite/harden/examples/nexus/internal/auth"
	"github.com/nexus-reussite/harden/examples/nexus/internal/domain"
)

// TestEveryRouteHappyPath walks every route once as the role allowed to use it, on
// SQLite and on PostgreSQL + Redis.
func TestEveryRouteHappyPath(t *testing.T) {
	eachBackend(t, func(t *testing.T, be backend) {
		s := newTestServer(t, be, nil)
		tok := s.demoTokens()

		// Auth.
		reg := s.expect(http.StatusCreated, "POST", "/api/auth/register", "", map[string]string{
			"email": "Nouvel.Eleve@example.tn", "password": "motdepasse-solide", "first_name": "Nour", "last_name": "Jaziri", "role": "student",
		}).json(t)
		if reg["email"] != "nouvel.eleve@example.tn" || reg["role"] != "student" || reg["password_hash"] != nil {
			t.Fatalf("register: %v", reg)
		}
		pair := s.login("nouvel.eleve@example.tn", "motdepasse-solide")
		me := s.expect(http.StatusOK, "GET", "/api/auth/me", pair.AccessToken, nil).json(t)
		if me["email"] != "nouvel.eleve@example.tn" || me["student"].(map[string]any)["grade_level"] != "seconde" {
			t.Fatalf("me: %v", me)
		}
		var rotated auth.TokenPair
		r := s.expect(http.StatusOK, "POST", "/api/auth/refresh", "", map[string]string{"refresh_token": pair.RefreshToken})
		if err := json.Unmarshal(r.body, &rotated); err != nil || rotated.AccessToken == "" || rotated.RefreshToken == pair.RefreshToken {
			t.Fatalf("refresh: %s", r.body)
		}
		s.expect(http.StatusOK, "GET", "/api/auth/me", rotated.AccessToken, nil)
		s.expect(http.StatusNoContent, "POST", "/api/auth/logout", rotated.AccessToken, nil)
		s.expect(http.StatusUnauthorized, "GET", "/api/auth/me", rotated.AccessToken, nil)
		s.expect(http.StatusUnauthorized, "POST", "/api/auth/refresh", "", map[string]string{"refresh_token": rotated.RefreshToken})

		// Formulas.
		list := s.expect(http.StatusOK, "GET", "/api/formulas", "", nil).json(t)
		formulas := list["formulas"].([]any)
		names := map[string]float64{}
		for _, f := range formulas {
			m := f.(map[string]any)
			for _, k := range []string{"id", "name", "type", "level", "price", "hours_per_month", "max_students", "features"} {
				if _, ok := m[k]; !ok {
					t.Fatalf("formula lacks %q: %v", k, m)
				}
			}
			names[m["name"].(string)] = m["price"].(float64)
		}
		for name, price := range map[string]float64{"Groupe Réussite": 180, "Combo Révision": 290, "Duo Sciences": 400, "Grand Oral": 390} {
			if names[name] != price {
				t.Fatalf("formula %q price %v, want %v (all: %v)", name, names[name], price, names)
			}
		}
		first := formulas[0].(map[string]any)
		fid := num(t, first, "id")
		one := s.expect(http.StatusOK, "GET", fmt.Sprintf("/api/formulas/%d", fid), "", nil).json(t)
		if one["name"] != first["name"] {
			t.Fatalf("formula %d: %v", fid, one)
		}
		first["price"] = 185
		upd := s.expect(http.StatusOK, "PUT", fmt.Sprintf("/api/formulas/%d", fid), tok[domain.RoleAdmin], first).json(t)
		if upd["price"].(float64) != 185 {
			t.Fatalf("update: %v", upd)
		}
		after := s.expect(http.StatusOK, "GET", fmt.Sprintf("/api/formulas/%d", fid), "", nil).json(t)
		if after["price"].(float64) != 185 {
			t.Fatalf("formula after update still served as %v", after["price"])
		}

		// Students.
		studentID := s.userID(demoStudent)
		sl := s.expect(http.StatusOK, "GET", "/api/students?search=hadd&per_page=5", tok[domain.RoleParent], nil).json(t)
		if num(t, sl, "total") != 1 {
			t.Fatalf("parent's students: %v", sl)
		}
		st := sl["students"].([]any)[0].(map[string]any)
		for _, k := range []string{"id", "email", "first_name", "last_name", "grade_level", "school"} {
			if _, ok := st[k]; !ok {
				t.Fatalf("student lacks %q: %v", k, st)
			}
		}
		s.expect(http.StatusOK, "GET", fmt.Sprintf("/api/students/%d", studentID), tok[domain.RoleStudent], nil)
		child := s.expect(http.StatusCreated, "POST", "/api/students", tok[domain.RoleParent], map[string]any{
			"email": "cadet@example.tn", "password": "cadet-password", "first_name": "Sami", "last_name": "Haddad",
			"grade_level": "première", "school": "Lycée Bourguiba", "specialties": []string{"NSI"},
		}).json(t)
		childID := num(t, child, "id")
		upd = s.expect(http.StatusOK, "PUT", fmt.Sprintf("/api/students/%d", childID), tok[domain.RoleParent], map[string]any{"school": "Lycée Carnot", "learning_style": "visual"}).json(t)
		if upd["school"] != "Lycée Carnot" || upd["learning_style"] != "visual" || upd["grade_level"] != "première" {
			t.Fatalf("student update: %v", upd)
		}
		sl = s.expect(http.StatusOK, "GET", "/api/students", tok[domain.RoleParent], nil).json(t)
		if num(t, sl, "total") != 2 {
			t.Fatalf("parent sees %v", sl)
		}

		// Teachers, bookings, dashboard.
		tl := s.expect(http.StatusOK, "GET", "/api/teachers", tok[domain.RoleStudent], nil).json(t)
		teacher := tl["teachers"].([]any)[0].(map[string]any)
		teacherID := num(t, teacher, "id")
		slot := nextSlot(s.clock.now(), 0)
		b := s.expect(http.StatusCreated, "POST", "/api/bookings", tok[domain.RoleStudent], map[string]any{
			"teacher_id": teacherID, "starts_at": slot.Format(time.RFC3339), "format": "online",
		}).json(t)
		if b["status"] != "confirmed" || num(t, b, "student_id") != studentID || b["ends_at"] != slot.Add(time.Hour).Format(time.RFC3339) {
			t.Fatalf("booking: %v", b)
		}
		bl := s.expect(http.StatusOK, "GET", "/api/bookings", tok[domain.RoleTeacher], nil).json(t)
		if len(bl["bookings"].([]any)) != 1 {
			t.Fatalf("teacher's bookings: %v", bl)
		}
		// The teacher now sees the student.
		s.expect(http.StatusOK, "GET", fmt.Sprintf("/api/students/%d", studentID), tok[domain.RoleTeacher], nil)
		dash := s.expect(http.StatusOK, "GET", fmt.Sprintf("/api/students/%d/dashboard", studentID), tok[domain.RoleParent], nil).json(t)
		if num(t, dash, "upcoming_bookings") != 1 || len(dash["next_bookings"].([]any)) != 1 {
			t.Fatalf("dashboard: %v", dash)
		}
		cancelled := s.expect(http.StatusOK, "POST", fmt.Sprintf("/api/bookings/%d/cancel", num(t, b, "id")), tok[domain.RoleParent], nil).json(t)
		if cancelled["status"] != "cancelled" {
			t.Fatalf("cancel: %v", cancelled)
		}
		s.expect(http.StatusConflict, "POST", fmt.Sprintf("/api/bookings/%d/cancel", num(t, b, "id")), tok[domain.RoleParent], nil)
		// A cancelled slot can be booked again.
		s.expect(http.StatusCreated, "POST", "/api/bookings", tok[domain.RoleParent], map[string]any{
			"teacher_id": teacherID, "student_id": childID, "starts_at": slot.Format(time.RFC3339), "format": "in_person",
		})

		// Groups.
		gl := s.expect(http.StatusOK, "GET", "/api/groups", tok[domain.RoleStudent], nil).json(t)
		group := gl["groups"].([]any)[0].(map[string]any)
		if num(t, group, "capacity") != 6 || num(t, group, "enrolled") != 0 {
			t.Fatalf("group: %v", group)
		}
		en := s.expect(http.StatusCreated, "POST", fmt.Sprintf("/api/groups/%d/enrollments", num(t, group, "id")), tok[domain.RoleStudent], nil).json(t)
		if num(t, en["group"].(map[string]any), "enrolled") != 1 {
			t.Fatalf("enroll: %v", en)
		}
		s.expect(http.StatusConflict, "POST", fmt.Sprintf("/api/groups/%d/enrollments", num(t, group, "id")), tok[domain.RoleStudent], nil)

		// ARIA without a key.
		r = s.expect(http.StatusServiceUnavailable, "POST", "/api/aria/chat", tok[domain.RoleStudent], map[string]string{"message": "Bonjour"})
		if !strings.Contains(string(r.body), "assistant not configured") {
			t.Fatalf("aria: %s", r.body)
		}
		h := s.expect(http.StatusOK, "GET", "/api/aria/history", tok[domain.RoleStudent], nil).json(t)
		if len(h["interactions"].([]any)) != 0 {
			t.Fatalf("history: %v", h)
		}

		// Admin.
		cs := s.expect(http.StatusOK, "GET", "/api/admin/cache/stats", tok[domain.RoleAdmin], nil).json(t)
		if _, ok := cs["metrics"]; !ok {
			t.Fatalf("cache stats: %v", cs)
		}
		s.expect(http.StatusOK, "POST", "/api/admin/cache/invalidate", tok[domain.RoleAdmin], map[string]string{"tag": "formulas"})
		ps := s.expect(http.StatusOK, "GET", "/api/admin/pool/stats", tok[domain.RoleAdmin], nil).json(t)
		if num(t, ps, "max_open") < 1 {
			t.Fatalf("pool stats: %v", ps)
		}

		// Deleting a student revokes their sessions.
		childTok := s.login("cadet@example.tn", "cadet-password").AccessToken
		s.expect(http.StatusNoContent, "DELETE", fmt.Sprintf("/api/students/%d", childID), tok[domain.RoleAdmin], nil)
		s.expect(http.StatusUnauthorized, "GET", "/api/auth/me", childTok, nil)
		s.expect(http.StatusNotFound, "GET", fmt.Sprintf("/api/students/%d", childID), tok[domain.RoleAdmin], nil)

		// Public config, page, probes, metrics.
		c := s.expect(http.StatusOK, "GET", "/api/config", "", nil)
		for _, secret := range []string{s.app.cfg.JWTSecretKey, s.app.cfg.SecretKey, demoPassword, "postgres://"} {
			if strings.Contains(string(c.body), secret) {
				t.Fatalf("/api/config leaks %q: %s", secret, c.body)
			}
		}
		page := s.expect(http.StatusOK, "GET", "/", "", nil)
		if !strings.Contains(string(page.body), `<form id="login">`) {
			t.Fatalf("index page: %.200s", page.body)
		}
		for _, p := range []string{"/live", "/ready", "/health"} {
			r := s.expect(http.StatusOK, "GET", p, "", nil)
			if r.header.Get("Content-Type") != "application/health+json" {
				t.Fatalf("%s Content-Type %q", p, r.header.Get("Content-Type"))
			}
		}
		m := s.expect(http.StatusOK, "GET", "/metrics", "", nil)
		for _, want := range []string{`harden_http_requests_total{code="2xx",method="GET",route="GET /api/formulas"}`, "harden_ratelimit_requests_total", "harden_cache_"} {
			if !strings.Contains(string(m.body), want) {
				t.Fatalf("/metrics lacks %s", want)
			}
		}
		if strings.Contains(string(m.body), fmt.Sprintf(`route="/api/students/%d"`, studentID)) {
			t.Fatal("/metrics carries a raw path label")
		}
	})
}

// TestFormulasResponseCache: the formulas routes are served from the response cache with
// ETag revalidation, and an admin edit invalidates them at once.
func TestFormulasResponseCache(t *testing.T) {
	s := newTestServer(t, sqliteBackend(t), nil)
	admin := s.login(demoAdmin, demoPassword).AccessToken
	first := s.expect(http.StatusOK, "GET", "/api/formulas/1", "", nil)
	second := s.expect(http.StatusOK, "GET", "/api/formulas/1", "", nil)
	if !strings.Contains(second.header.Get("Cache-Status"), "hit") {
		t.Fatalf("second GET Cache-Status %q, want a hit", second.header.Get("Cache-Status"))
	}
	etag := first.header.Get("ETag")
	if etag == "" || second.header.Get("ETag") != etag {
		t.Fatalf("ETag %q then %q", etag, second.header.Get("ETag"))
	}
	s.expect(http.StatusNotModified, "GET", "/api/formulas/1", "", nil, "If-None-Match", etag)

	var f map[string]any
	_ = json.Unmarshal(first.body, &f)
	f["name"] = "Groupe Réussite Plus"
	s.expect(http.StatusOK, "PUT", "/api/formulas/1", admin, f)
	third := s.expect(http.StatusOK, "GET", "/api/formulas/1", "", nil)
	if !strings.Contains(string(third.body), "Groupe Réussite Plus") || strings.Contains(third.header.Get("Cache-Status"), "hit") {
		t.Fatalf("after update: Cache-Status %q body %s", third.header.Get("Cache-Status"), third.body)
	}
	if third.header.Get("ETag") == etag {
		t.Fatal("ETag unchanged after update")
	}
	s.expect(http.StatusOK, "GET", "/api/formulas/1", "", nil, "If-None-Match", etag)
}

// TestCSPReportEndpoint: browsers' violation reports are accepted (outside CSRF), counted,
// and malformed ones refused.
func TestCSPReportEndpoint(t *testing.T) {
	s := newTestServer(t, sqliteBackend(t), nil)
	report := `{"csp-report":{"document-uri":"http://nexus.test/?token=secret","violated-directive":"script-src","effective-directive":"script-src","blocked-uri":"inline","disposition":"enforce","original-policy":"default-src 'none'"}}`
	s.expect(http.StatusNoContent, "POST", cspReportPath, "", report, "Content-Type", "application/csp-report", "Origin", "null", "Sec-Fetch-Site", "cross-site")
	if s.app.api.CSPReports().Total() != 1 {
		t.Fatalf("%d reports recorded", s.app.api.CSPReports().Total())
	}
	if got := s.app.api.CSPReports().Recent()[0]; got.EffectiveDirective != "script-src" || strings.Contains(got.DocumentURL, "secret") {
		t.Fatalf("report %+v", got)
	}
	s.expect(http.StatusBadRequest, "POST", cspReportPath, "", `{"csp-report": 42}`, "Content-Type", "application/csp-report")
	s.expect(http.StatusNoContent, "GET", "/favicon.ico", "", nil)
}
