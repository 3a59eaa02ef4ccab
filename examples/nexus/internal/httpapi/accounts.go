package httpapi

import (
	"errors"
	"net/http"

	"github.com/nexus-reussite/harden/examples/nexus/internal/auth"
	"github.com/nexus-reussite/harden/examples/nexus/internal/domain"
)

type registerRequest struct {
	Email      string      `json:"email"`
	Password   string      `json:"password"`
	FirstName  string      `json:"first_name"`
	LastName   string      `json:"last_name"`
	Role       domain.Role `json:"role"`
	GradeLevel string      `json:"grade_level,omitempty"`
	School     string      `json:"school,omitempty"`
}

// handleRegister creates a student or parent account. Other roles are created by admins.
func (a *API) handleRegister(w http.ResponseWriter, r *http.Request) error {
	var req registerRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := domain.CheckRegistration(req.Role); err != nil {
		return err
	}
	nu, err := domain.ValidateNewUser(req.Email, req.Password, req.FirstName, req.LastName, req.Role)
	if err != nil {
		return err
	}
	var sp *domain.StudentProfile
	if req.Role == domain.RoleStudent {
		if sp, err = domain.ValidateStudentProfile(req.GradeLevel, req.School, nil, ""); err != nil {
			return err
		}
	} else if req.GradeLevel != "" || req.School != "" {
		return domain.Invalid("grade_level and school are for students")
	}
	u, err := a.createUser(r, nu, sp, 0)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, u)
	return nil
}

// createUser hashes the password, then creates the account (a child of parentID when
// not 0).
func (a *API) createUser(r *http.Request, nu *domain.NewUser, sp *domain.StudentProfile, parentID int64) (*domain.User, error) {
	hash, err := a.auth.HashPassword(nu.Password)
	if err != nil {
		return nil, err
	}
	return a.db.CreateUser(r.Context(), nu, hash, sp, parentID, a.now())
}

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

func (a *API) handleLogin(w http.ResponseWriter, r *http.Request) error {
	var req loginRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	pair, err := a.auth.Login(r.Context(), req.Email, req.Password)
	if errors.Is(err, auth.ErrBadCredentials) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="nexus"`)
		return &httpError{status: http.StatusUnauthorized, msg: "email or password is incorrect"}
	}
	if err != nil {
		return err
	}
	// Under a flood of hashing requests, this address is served ahead of fresh ones.
	a.trusted.add(a.clientKey(r))
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, pair)
	return nil
}

type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

func (a *API) handleRefresh(w http.ResponseWriter, r *http.Request) error {
	var req refreshRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	pair, err := a.auth.Refresh(r.Context(), req.RefreshToken)
	switch {
	case errors.Is(err, auth.ErrTokenInvalid), errors.Is(err, auth.ErrTokenRevoked), errors.Is(err, auth.ErrTokenReused):
		return &httpError{status: http.StatusUnauthorized, msg: "refresh token is invalid, expired, revoked or already used"}
	case err != nil:
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, pair)
	return nil
}

func (a *API) handleLogout(w http.ResponseWriter, r *http.Request, p *domain.Principal) error {
	if err := a.auth.RevokeSession(r.Context(), p.SessionID); err != nil {
		a.log.ErrorContext(r.Context(), "logout", "err", err)
		return unavailable("logout could not be recorded everywhere; retry")
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) handleMe(w http.ResponseWriter, r *http.Request, p *domain.Principal) error {
	u, err := a.db.User(r.Context(), p.UserID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

type passwordRequest struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

// handlePassword changes the caller's password; the caller's other sessions end.
func (a *API) handlePassword(w http.ResponseWriter, r *http.Request, p *domain.Principal) error {
	var req passwordRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := a.auth.ChangePassword(r.Context(), p, req.CurrentPassword, req.NewPassword); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
