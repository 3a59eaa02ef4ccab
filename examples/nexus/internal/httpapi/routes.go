package httpapi

import (
	"errors"
	"net/http"

	"github.com/nexus-reussite/harden/examples/nexus/internal/auth"
	"github.com/nexus-reussite/harden/examples/nexus/internal/domain"
)

// Role sets of the routes.
var (
	anyRole = domain.Roles
	// manage acts for a student: the student, a parent, an admin.
	manage = []domain.Role{domain.RoleStudent, domain.RoleParent, domain.RoleAdmin}
	// staff sees several students.
	staff = []domain.Role{domain.RoleParent, domain.RoleTeacher, domain.RoleAdmin}
	// seeStudents sees students: staff and the students themselves.
	seeStudents = append([]domain.Role{domain.RoleStudent}, staff...)
	adminOnly   = []domain.Role{domain.RoleAdmin}
)

// routes registers every endpoint on mux with the roles that may call it.
func (a *API) routes(mux interface{ Handle(string, http.Handler) }) {
	mux.Handle("POST /api/auth/register", a.limited("register", a.handle(a.handleRegister)))
	mux.Handle("POST /api/auth/login", a.limited("login", a.handle(a.handleLogin)))
	mux.Handle("POST /api/auth/refresh", a.handle(a.handleRefresh))
	mux.Handle("POST /api/auth/logout", a.authed(a.handleLogout, anyRole))
	mux.Handle("GET /api/auth/me", a.authed(a.handleMe, anyRole))
	mux.Handle("POST /api/auth/password", a.authed(a.handlePassword, anyRole))

	mux.Handle("GET /api/formulas", a.cached(tagFormulas, a.handle(a.handleFormulas)))
	mux.Handle("GET /api/formulas/{id}", a.cached(tagFormulas, a.handle(a.handleFormula)))
	mux.Handle("PUT /api/formulas/{id}", a.authed(a.handleUpdateFormula, adminOnly))

	mux.Handle("GET /api/students", a.authed(a.handleListStudents, seeStudents))
	mux.Handle("POST /api/students", a.authed(a.handleCreateStudent, []domain.Role{domain.RoleParent, domain.RoleAdmin}))
	mux.Handle("GET /api/students/{id}", a.authed(a.handleGetStudent, seeStudents))
	mux.Handle("PUT /api/students/{id}", a.authed(a.handleUpdateStudent, manage))
	mux.Handle("DELETE /api/students/{id}", a.authed(a.handleDeleteStudent, adminOnly))
	mux.Handle("GET /api/students/{id}/dashboard", a.authed(a.handleStudentDashboard, seeStudents))

	mux.Handle("GET /api/teachers", a.authed(a.handleTeachers, anyRole))
	mux.Handle("GET /api/bookings", a.authed(a.handleListBookings, anyRole))
	mux.Handle("POST /api/bookings", a.authed(a.handleCreateBooking, manage))
	mux.Handle("POST /api/bookings/{id}/cancel", a.authed(a.handleCancelBooking, anyRole))
	mux.Handle("GET /api/groups", a.authed(a.handleGroups, anyRole))
	mux.Handle("POST /api/groups/{id}/enrollments", a.authed(a.handleEnroll, manage))

	mux.Handle("POST /api/aria/chat", a.authed(a.handleAriaChat, anyRole))
	mux.Handle("GET /api/aria/history", a.authed(a.handleAriaHistory, anyRole))

	mux.Handle("GET /api/admin/cache/stats", a.authed(a.handleCacheStats, adminOnly))
	mux.Handle("POST /api/admin/cache/invalidate", a.authed(a.handleCacheInvalidate, adminOnly))
	mux.Handle("GET /api/admin/pool/stats", a.authed(a.handlePoolStats, adminOnly))

	mux.Handle("POST "+cspReportPath, a.limited("csp_report", a.cspReports))
	mux.Handle("GET /api/config", a.handle(a.handleConfig))
	mux.Handle("GET "+openapiPath, openapiHandler())
	mux.Handle("GET /{$}", a.handle(a.handleIndex))
	mux.Handle("GET /favicon.ico", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		w.WriteHeader(http.StatusNoContent) // no icon; answered so browsers stop asking
	}))
}

// handle adapts a public handler that may fail.
func (a *API) handle(h func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			a.fail(w, r, err)
		}
	})
}

// authedHandler is a handler that runs for an authenticated caller and may fail.
type authedHandler func(w http.ResponseWriter, r *http.Request, p *domain.Principal) error

// authed wraps h: a valid, unrevoked Bearer access token is required, and the caller's
// role must be one of roles.
func (a *API) authed(h authedHandler, roles []domain.Role) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := a.auth.Authenticate(r.Context(), r.Header.Get("Authorization"))
		if err != nil {
			if errors.Is(err, auth.ErrTokenInvalid) || errors.Is(err, auth.ErrTokenRevoked) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="nexus", error="invalid_token"`)
				writeProblem(w, http.StatusUnauthorized, "a valid access token is required")
				return
			}
			a.log.ErrorContext(r.Context(), "authentication unavailable", "err", err)
			writeProblem(w, http.StatusServiceUnavailable, "authentication is temporarily unavailable")
			return
		}
		if !p.Role.In(roles...) {
			writeProblem(w, http.StatusForbidden, "your role may not use this endpoint")
			return
		}
		if err := h(w, r, p); err != nil {
			a.fail(w, r, err)
		}
	})
}
