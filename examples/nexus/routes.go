package main

import (
	"net/http"
)

// routes registers every endpoint. Role checks live here so the authorization matrix
// reads in one place.
func (a *app) routes() *http.ServeMux {
	mux := http.NewServeMux()
	any := []string(nil)
	manage := []string{roleStudent, roleParent, roleAdmin} // act for a student
	staff := []string{roleParent, roleTeacher, roleAdmin}  // see several students

	mux.Handle("POST /api/auth/register", a.limited(ruleRegister, a.handle(a.handleRegister)))
	mux.Handle("POST /api/auth/login", a.limited(ruleLogin, a.handle(a.handleLogin)))
	mux.Handle("POST /api/auth/refresh", a.handle(a.handleRefresh))
	mux.Handle("POST /api/auth/logout", a.authed(a.handleLogout, any...))
	mux.Handle("GET /api/auth/me", a.authed(a.handleMe, any...))

	mux.Handle("GET /api/formulas", a.cached(tagFormulas, a.handle(a.handleFormulas)))
	mux.Handle("GET /api/formulas/{id}", a.cached(tagFormulas, a.handle(a.handleFormula)))
	mux.Handle("PUT /api/formulas/{id}", a.authed(a.handleUpdateFormula, roleAdmin))

	mux.Handle("GET /api/students", a.authed(a.handleListStudents, append(staff, roleStudent)...))
	mux.Handle("POST /api/students", a.authed(a.handleCreateStudent, roleParent, roleAdmin))
	mux.Handle("GET /api/students/{id}", a.authed(a.handleGetStudent, append(staff, roleStudent)...))
	mux.Handle("PUT /api/students/{id}", a.authed(a.handleUpdateStudent, manage...))
	mux.Handle("DELETE /api/students/{id}", a.authed(a.handleDeleteStudent, roleAdmin))
	mux.Handle("GET /api/students/{id}/dashboard", a.authed(a.handleStudentDashboard, append(staff, roleStudent)...))

	mux.Handle("GET /api/teachers", a.authed(a.handleTeachers, any...))
	mux.Handle("GET /api/bookings", a.authed(a.handleListBookings, any...))
	mux.Handle("POST /api/bookings", a.authed(a.handleCreateBooking, manage...))
	mux.Handle("POST /api/bookings/{id}/cancel", a.authed(a.handleCancelBooking, any...))
	mux.Handle("GET /api/groups", a.authed(a.handleGroups, any...))
	mux.Handle("POST /api/groups/{id}/enrollments", a.authed(a.handleEnroll, manage...))

	mux.Handle("POST /api/aria/chat", a.authed(a.handleAriaChat, roleStudent, roleParent, roleTeacher, roleAdmin))
	mux.Handle("GET /api/aria/history", a.authed(a.handleAriaHistory, any...))

	mux.Handle("GET /api/admin/cache/stats", a.authed(a.handleCacheStats, roleAdmin))
	mux.Handle("POST /api/admin/cache/invalidate", a.authed(a.handleCacheInvalidate, roleAdmin))
	mux.Handle("GET /api/admin/pool/stats", a.authed(a.handlePoolStats, roleAdmin))

	mux.Handle("POST "+cspReportPath, a.cspReports)
	mux.Handle("GET /api/config", a.handle(a.handleConfig))
	mux.Handle("GET /{$}", a.handle(a.handleIndex))
	mux.Handle("GET /favicon.ico", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		w.WriteHeader(http.StatusNoContent) // no icon; answered so browsers stop asking
	}))
	return mux
}
