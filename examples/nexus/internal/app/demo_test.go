package app

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nexus-reussite/harden/examples/nexus/internal/domain"
)

// TestDemoPasswordAppliedOnEveryStart: a development start sets NEXUS_DEMO_PASSWORD on
// the demo accounts of a database that already has them, as a fresh clone reusing the
// database of another checkout would: the second start's password works and the first's
// no longer does. A start without NEXUS_DEMO_PASSWORD keeps the password in place.
func TestDemoPasswordAppliedOnEveryStart(t *testing.T) {
	const first, second = "first-demo-password", "second-demo-password"
	eachBackend(t, func(t *testing.T, be backend) {
		s1 := newTestServer(t, be, map[string]string{"NEXUS_DEMO_PASSWORD": first})
		for _, u := range []string{demoAdmin, demoTeacher, demoParent, demoStudent} {
			s1.login(u, first)
		}
		s2 := newTestServer(t, be, map[string]string{"NEXUS_DEMO_PASSWORD": second})
		for _, u := range []string{demoAdmin, demoTeacher, demoParent, demoStudent} {
			s2.login(u, second)
			s2.expect(http.StatusUnauthorized, "POST", "/api/auth/login", "", map[string]string{"email": u, "password": first})
		}
		if !strings.Contains(s2.logs.String(), `"msg":"demo password set from NEXUS_DEMO_PASSWORD"`) {
			t.Errorf("second start did not log the demo password change:\n%s", s2.logs.String())
		}

		s3 := newTestServer(t, be, map[string]string{"NEXUS_DEMO_PASSWORD": ""})
		s3.login(demoStudent, second)
		if !strings.Contains(s3.logs.String(), "demo password unchanged") {
			t.Errorf("a start without NEXUS_DEMO_PASSWORD did not say the password stays:\n%s", s3.logs.String())
		}
	})
}

// TestResetDemo: a start with Options.ResetDemo ("nexus reset-demo") recreates the demo
// accounts and groups from scratch: what the demo student booked and enrolled in is gone,
// the new demo password works, an account that is not a demo one stays, and the
// groups are not duplicated.
func TestResetDemo(t *testing.T) {
	eachBackend(t, func(t *testing.T, be backend) {
		s1 := newTestServer(t, be, nil)
		tok := s1.demoTokens()
		s1.expect(http.StatusCreated, "POST", "/api/auth/register", "", map[string]string{
			"email": "reste@example.tn", "password": "motdepasse-solide", "first_name": "Rim", "last_name": "Sassi", "role": "student",
		})
		teachers := s1.expect(http.StatusOK, "GET", "/api/teachers", tok[domain.RoleStudent], nil).json(t)
		teacherID := num(t, teachers["teachers"].([]any)[0].(map[string]any), "id")
		s1.expect(http.StatusCreated, "POST", "/api/bookings", tok[domain.RoleStudent], map[string]any{
			"teacher_id": teacherID, "starts_at": nextSlot(s1.clock.now(), 0).Format(time.RFC3339), "format": "online",
		})
		groups := s1.expect(http.StatusOK, "GET", "/api/groups", tok[domain.RoleStudent], nil).json(t)["groups"].([]any)
		groupID := num(t, groups[0].(map[string]any), "id")
		s1.expect(http.StatusCreated, "POST", fmt.Sprintf("/api/groups/%d/enrollments", groupID), tok[domain.RoleStudent], nil)
		oldStudent := s1.userID(demoStudent)

		const reset = "password-after-reset"
		s2 := newTestServerOpts(t, be, map[string]string{"NEXUS_DEMO_PASSWORD": reset},
			Options{RouteRules: relaxedRouteRules, ResetDemo: true})
		if s2.userID(demoStudent) == oldStudent {
			t.Fatal("the demo student was not recreated")
		}
		s2.expect(http.StatusUnauthorized, "POST", "/api/auth/login", "", map[string]string{"email": demoStudent, "password": demoPassword})
		student := s2.login(demoStudent, reset).AccessToken
		if bl := s2.expect(http.StatusOK, "GET", "/api/bookings", student, nil).json(t); len(bl["bookings"].([]any)) != 0 {
			t.Errorf("bookings survived the reset: %v", bl)
		}
		groups = s2.expect(http.StatusOK, "GET", "/api/groups", student, nil).json(t)["groups"].([]any)
		if len(groups) != 2 {
			t.Fatalf("%d groups after the reset, want the 2 demo groups", len(groups))
		}
		for _, g := range groups {
			if n := num(t, g.(map[string]any), "enrolled"); n != 0 {
				t.Errorf("group %v keeps %d enrolments", g, n)
			}
		}
		s2.login("reste@example.tn", "motdepasse-solide")
		if !strings.Contains(s2.logs.String(), `"msg":"demo data deleted"`) {
			t.Errorf("the reset was not logged:\n%s", s2.logs.String())
		}
	})
}

// TestResetDemoRefusedInProduction: production has no demo data to reset, and its
// database is not even opened.
func TestResetDemoRefusedInProduction(t *testing.T) {
	be := sqliteBackend(t)
	_, err := startTestServer(t, be, map[string]string{
		"APP_ENV": "production", "SECRET_KEY": goodSecret, "JWT_SECRET_KEY": goodJWTSecret, "ALLOWED_HOSTS": "*",
	}, Options{ResetDemo: true})
	if err == nil || !strings.Contains(err.Error(), "production") {
		t.Fatalf("reset in production: %v", err)
	}
	if _, err := os.Stat(strings.TrimPrefix(be.env["DATABASE_URL"], "sqlite://")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the production database was opened: %v", err)
	}
}
