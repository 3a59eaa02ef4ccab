package main

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"net/mail"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nexus-reussite/harden/internal/problem"
	"golang.org/x/crypto/bcrypt"
)

// Roles.
const (
	roleStudent = "student"
	roleParent  = "parent"
	roleTeacher = "teacher"
	roleAdmin   = "admin"
)

// Password bounds: bcrypt reads at most 72 bytes, so longer passwords are refused rather
// than silently truncated.
const (
	minPassword = 8
	maxPassword = 72
)

type principalKey struct{}

// authHandler is a handler that runs for an authenticated caller and may fail.
type authHandler func(w http.ResponseWriter, r *http.Request, p *principal) error

// authed wraps h: a valid, unrevoked Bearer access token is required, and when roles are
// given the caller's role must be one of them.
func (a *app) authed(h authHandler, roles ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := a.authenticate(r)
		if err != nil {
			if errors.Is(err, errTokenInvalid) || errors.Is(err, errTokenRevoked) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="nexus", error="invalid_token"`)
				problem.Error(w, http.StatusUnauthorized, "a valid access token is required")
				return
			}
			a.log.ErrorContext(r.Context(), "authentication unavailable", "err", err)
			problem.Error(w, http.StatusServiceUnavailable, "authentication is temporarily unavailable")
			return
		}
		if len(roles) > 0 && !hasRole(p.Role, roles) {
			problem.Error(w, http.StatusForbidden, "your role may not use this endpoint")
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), principalKey{}, p))
		if err := h(w, r, p); err != nil {
			a.fail(w, r, err)
		}
	})
}

// handle adapts a public handler that may fail.
func (a *app) handle(h func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			a.fail(w, r, err)
		}
	})
}

func hasRole(role string, roles []string) bool {
	for _, r := range roles {
		if r == role {
			return true
		}
	}
	return false
}

// authenticate checks the Bearer access token and its session.
func (a *app) authenticate(r *http.Request) (*principal, error) {
	h := r.Header.Get("Authorization")
	scheme, raw, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || raw == "" || len(raw) > 4096 {
		return nil, errTokenInvalid
	}
	c, err := a.parseToken(strings.TrimSpace(raw), typAccess)
	if err != nil {
		return nil, err
	}
	id, err := strconv.ParseInt(c.Subject, 10, 64)
	if err != nil || !hasRole(c.Role, []string{roleStudent, roleParent, roleTeacher, roleAdmin}) {
		return nil, errTokenInvalid
	}
	revoked, err := a.sessionRevoked(r.Context(), c.SID)
	if err != nil {
		return nil, err
	}
	if revoked {
		return nil, errTokenRevoked
	}
	return &principal{UserID: id, Role: c.Role, SessionID: c.SID}, nil
}

// hashPassword hashes with bcrypt at the app's cost.
func (a *app) hashPassword(pw string) (string, error) {
	b, err := bcrypt.GenerateFromPassword([]byte(pw), a.bcryptCost)
	return string(b), err
}

func validatePassword(pw string) error {
	if len(pw) < minPassword || len(pw) > maxPassword {
		return invalid("password must be 8 to 72 bytes long")
	}
	return nil
}

func normalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || len(s) > 254 || addr.Name != "" {
		return "", invalid("email is not a valid address")
	}
	return strings.ToLower(s), nil
}

func validName(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || utf8.RuneCountInString(s) > 100 || !utf8.ValidString(s) || strings.ContainsAny(s, "<>\x00") {
		return "", invalid(field + " must be 1 to 100 characters without markup")
	}
	return s, nil
}

type registerRequest struct {
	Email      string `json:"email"`
	Password   string `json:"password"`
	FirstName  string `json:"first_name"`
	LastName   string `json:"last_name"`
	Role       string `json:"role"`
	GradeLevel string `json:"grade_level,omitempty"`
	School     string `json:"school,omitempty"`
}

// handleRegister creates a student or parent account. Other roles are created by admins.
func (a *app) handleRegister(w http.ResponseWriter, r *http.Request) error {
	var req registerRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Role != roleStudent && req.Role != roleParent {
		return forbidden("only student and parent accounts can be registered")
	}
	nu, err := validateNewUser(req.Email, req.Password, req.FirstName, req.LastName)
	if err != nil {
		return err
	}
	nu.role = req.Role
	var sp *studentProfile
	if req.Role == roleStudent {
		sp, err = validateStudentProfile(req.GradeLevel, req.School, nil, "")
		if err != nil {
			return err
		}
	} else if req.GradeLevel != "" || req.School != "" {
		return invalid("grade_level and school are for students")
	}
	var u *userJSON
	err = a.db.tx(r.Context(), func(tx *sql.Tx) error {
		var err error
		u, err = a.insertUser(r.Context(), tx, nu, sp)
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, u)
	return nil
}

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

func (a *app) handleLogin(w http.ResponseWriter, r *http.Request) error {
	var req loginRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	email := strings.ToLower(strings.TrimSpace(req.Email))
	var (
		id           int64
		hash, role   string
		status       string
		unknownEmail bool
	)
	err := a.db.QueryRowContext(r.Context(), `SELECT id, password_hash, role, status FROM users WHERE email = $1`, email).Scan(&id, &hash, &role, &status)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		unknownEmail = true
		hash = string(a.dummyHash) // as slow as a wrong password
	case err != nil:
		return err
	}
	pwErr := bcrypt.CompareHashAndPassword([]byte(hash), []byte(req.Password))
	if unknownEmail || pwErr != nil || len(req.Password) > maxPassword {
		w.Header().Set("WWW-Authenticate", `Bearer realm="nexus"`)
		return &badRequest{status: http.StatusUnauthorized, msg: "email or password is incorrect"}
	}
	if status != "active" {
		return forbidden("this account is " + status)
	}
	pair, err := a.startSession(r.Context(), id, role)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, pair)
	return nil
}

type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

func (a *app) handleRefresh(w http.ResponseWriter, r *http.Request) error {
	var req refreshRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	pair, err := a.rotate(r.Context(), req.RefreshToken)
	switch {
	case errors.Is(err, errTokenInvalid), errors.Is(err, errTokenRevoked), errors.Is(err, errTokenReused):
		return &badRequest{status: http.StatusUnauthorized, msg: "refresh token is invalid, expired, revoked or already used"}
	case err != nil:
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, pair)
	return nil
}

func (a *app) handleLogout(w http.ResponseWriter, r *http.Request, p *principal) error {
	if err := a.revokeSession(r.Context(), p.SessionID); err != nil {
		a.log.ErrorContext(r.Context(), "logout", "err", err)
		return unavailable("logout could not be recorded everywhere; retry")
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *app) handleMe(w http.ResponseWriter, r *http.Request, p *principal) error {
	u, err := a.loadUser(r.Context(), p.UserID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}
