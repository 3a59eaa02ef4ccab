package auth

import (
	"context"

	"golang.org/x/crypto/bcrypt"

	"github.com/nexus-reussite/harden/examples/nexus/internal/domain"
)

// ErrWrongPassword is a wrong current password given to ChangePassword.
var ErrWrongPassword = domain.Forbidden("the current password is incorrect")

// ChangePassword replaces the password of the caller's account: the current password
// must match (attempts count against the account's login throttle, as logins do), and
// the new one must pass the password policy with the account's email and names as
// context. Every other session of the account is revoked; the caller's goes on.
func (s *Service) ChangePassword(ctx context.Context, p *domain.Principal, current, next string) error {
	u, err := s.db.User(ctx, p.UserID)
	if err != nil {
		return err
	}
	if wait := s.throttle.attempt(ctx, u.Email, s.now()); wait > 0 {
		return &domain.Error{Kind: domain.KindQuota, RetryAfter: wait,
			Msg: "too many password attempts on this account; retry after the delay in Retry-After"}
	}
	hash, found, err := s.db.PasswordHash(ctx, p.UserID)
	if err != nil {
		return err
	}
	if !found || len(current) > domain.MaxPassword || bcrypt.CompareHashAndPassword([]byte(hash), []byte(current)) != nil {
		return ErrWrongPassword
	}
	s.throttle.reset(ctx, u.Email)
	if err := domain.ValidatePassword(next, u.Email, u.FirstName, u.LastName); err != nil {
		return err
	}
	newHash, err := s.HashPassword(next)
	if err != nil {
		return err
	}
	if err := s.db.SetPasswordHash(ctx, p.UserID, newHash); err != nil {
		return err
	}
	ids, err := s.db.LiveSessions(ctx, p.UserID, s.now())
	if err != nil {
		return err
	}
	for _, id := range ids {
		if id == p.SessionID {
			continue
		}
		if err := s.RevokeSession(ctx, id); err != nil {
			return err
		}
	}
	return nil
}
