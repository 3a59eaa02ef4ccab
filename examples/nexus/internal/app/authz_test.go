package app

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/nexus-reussite/harden/examples/nexus/internal/domain"
)

// TestAuthorizationMatrix sends every protected route as each role (and anonymously) and
// checks the status: 401 without a token, 403 for a role the route refuses, and for the
// roles it accepts anything but 401/403 (the handler ran).
func TestAuthorizationMatrix(t *testing.T) {
	eachBackend(t, func(t *testing.T, be backend) {
		s := newTestServer(t, be, nil)
		tok := s.demoTokens()
		tok["anonymous"] = ""
		studentID := s.userID(demoStudent)
		teacherID := s.userID(demoTeacher)

		// A booking and an otherwise unrelated student to probe object-level checks.
		slot := nextSlot(s.clock.now(), 5).Format(time.RFC3339)
		b := s.expect(http.StatusCreated, "POST", "/api/bookings", tok[domain.RoleStudent], map[string]any{"teacher_id": teacherID, "starts_at": slot, "format": "online"}).json(t)
		bookingID := num(t, b, "id")
		other := s.expect(http.StatusCreated, "POST", "/api/students", tok[domain.RoleAdmin], map[string]any{
			"email": "autre@example.tn", "password": "autre-password", "first_name": "Autre", "last_name": "Eleve",
		}).json(t)
		otherID := num(t, other, "id")

		const (
			ok     = 0 // any status but 401/403
			denied = http.StatusForbidden
			hidden = http.StatusNotFound
		)
		type route struct {
			method, path string
			body         any
			want         map[domain.Role]int // role → status (ok, denied, hidden); missing roles are denied
		}
		all := func(code int) map[domain.Role]int {
			return map[domain.Role]int{domain.RoleStudent: code, domain.RoleParent: code, domain.RoleTeacher: code, domain.RoleAdmin: code}
		}
		routes := []route{
			{"GET", "/api/auth/me", nil, all(ok)},
			{"GET", "/api/students", nil, all(ok)},
			{"POST", "/api/students", map[string]any{}, map[domain.Role]int{domain.RoleParent: ok, domain.RoleAdmin: ok}},
			{"GET", fmt.Sprintf("/api/students/%d", studentID), nil, all(ok)},
			{"GET", fmt.Sprintf("/api/students/%d", otherID), nil, map[domain.Role]int{domain.RoleStudent: hidden, domain.RoleParent: hidden, domain.RoleTeacher: hidden, domain.RoleAdmin: ok}},
			{"PUT", fmt.Sprintf("/api/students/%d", studentID), map[string]any{"school": "Lycée X"}, map[domain.Role]int{domain.RoleStudent: ok, domain.RoleParent: ok, domain.RoleAdmin: ok}},
			{"PUT", fmt.Sprintf("/api/students/%d", otherID), map[string]any{"school": "Lycée X"}, map[domain.Role]int{domain.RoleStudent: hidden, domain.RoleParent: hidden, domain.RoleAdmin: ok}},
			{"DELETE", fmt.Sprintf("/api/students/%d", 999999), nil, map[domain.Role]int{domain.RoleAdmin: hidden}},
			{"GET", fmt.Sprintf("/api/students/%d/dashboard", studentID), nil, all(ok)},
			{"GET", fmt.Sprintf("/api/students/%d/dashboard", otherID), nil, map[domain.Role]int{domain.RoleStudent: hidden, domain.RoleParent: hidden, domain.RoleTeacher: hidden, domain.RoleAdmin: ok}},
			{"GET", "/api/teachers", nil, all(ok)},
			{"GET", "/api/bookings", nil, all(ok)},
			{"POST", "/api/bookings", map[string]any{}, map[domain.Role]int{domain.RoleStudent: ok, domain.RoleParent: ok, domain.RoleAdmin: ok}},
			{"POST", "/api/bookings/999999/cancel", nil, map[domain.Role]int{domain.RoleStudent: hidden, domain.RoleParent: hidden, domain.RoleTeacher: hidden, domain.RoleAdmin: hidden}},
			{"GET", "/api/groups", nil, all(ok)},
			{"POST", "/api/groups/999999/enrollments", map[string]any{"student_id": studentID}, map[domain.Role]int{domain.RoleStudent: hidden, domain.RoleParent: hidden, domain.RoleAdmin: hidden}},
			{"POST", "/api/aria/chat", map[string]any{"message": "x"}, all(ok)},
			{"GET", "/api/aria/history", nil, all(ok)},
			{"PUT", "/api/formulas/1", map[string]any{}, map[domain.Role]int{domain.RoleAdmin: ok}},
			{"GET", "/api/admin/cache/stats", nil, map[domain.Role]int{domain.RoleAdmin: ok}},
			{"POST", "/api/admin/cache/invalidate", map[string]any{"tag": "formulas"}, map[domain.Role]int{domain.RoleAdmin: ok}},
			{"GET", "/api/admin/pool/stats", nil, map[domain.Role]int{domain.RoleAdmin: ok}},
			// Cancelling someone else's booking: only its participants and admins see it.
			{"POST", fmt.Sprintf("/api/bookings/%d/cancel", bookingID), nil, map[domain.Role]int{domain.RoleStudent: ok, domain.RoleParent: ok, domain.RoleTeacher: ok, domain.RoleAdmin: ok}},
		}
		for _, rt := range routes {
			for _, role := range []domain.Role{"anonymous", domain.RoleStudent, domain.RoleParent, domain.RoleTeacher, domain.RoleAdmin} {
				want, listed := rt.want[role]
				if !listed {
					want = denied
				}
				if role == "anonymous" {
					want = http.StatusUnauthorized
				}
				r := s.request(rt.method, rt.path, tok[role], rt.body)
				switch {
				case want == ok && (r.status == http.StatusUnauthorized || r.status == http.StatusForbidden):
					t.Errorf("%s %s as %s: %d, want access; %s", rt.method, rt.path, role, r.status, r.body)
				case want != ok && r.status != want:
					t.Errorf("%s %s as %s: %d, want %d; %s", rt.method, rt.path, role, r.status, want, r.body)
				}
			}
		}

		// Public routes answer without a token.
		for _, p := range []string{"/api/formulas", "/api/formulas/1", "/api/config", "/", "/live", "/ready", "/health", "/metrics"} {
			s.expect(http.StatusOK, "GET", p, "", nil)
		}
	})
}

// TestRegistrationCannotCreatePrivilegedRoles: self-registration makes students and
// parents only.
func TestRegistrationCannotCreatePrivilegedRoles(t *testing.T) {
	s := newTestServer(t, sqliteBackend(t), nil)
	for _, role := range []string{"admin", "teacher", "ADMIN", "", "superuser"} {
		s.expect(http.StatusForbidden, "POST", "/api/auth/register", "", map[string]string{
			"email": "x" + role + "@example.tn", "password": "long-enough-pw", "first_name": "X", "last_name": "Y", "role": role,
		})
	}
	s.expect(http.StatusCreated, "POST", "/api/auth/register", "", map[string]string{
		"email": "parent2@example.tn", "password": "long-enough-pw", "first_name": "P", "last_name": "Q", "role": "parent",
	})
	s.expect(http.StatusConflict, "POST", "/api/auth/register", "", map[string]string{
		"email": "PARENT2@example.tn", "password": "long-enough-pw", "first_name": "P", "last_name": "Q", "role": "parent",
	})
}
