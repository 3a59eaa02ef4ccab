// Package auth logs users in and checks who calls: bcrypt password hashes, HS256 access
// tokens (1 h) and refresh tokens (30 days, rotated on use; presenting a used one again
// revokes its session), and session revocation that every instance sees.
//
// The database is the authority on sessions. With Redis, every instance reads a
// session's state there first and writes revocations there, so a logout on one instance
// holds on all of them at once; when Redis fails the checks fall back to the database, and
// when neither answers a protected call is refused, never let through.
package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/crypto/bcrypt"

	"github.com/nexus-reussite/harden/examples/nexus/internal/config"
	"github.com/nexus-reussite/harden/examples/nexus/internal/domain"
	"github.com/nexus-reussite/harden/examples/nexus/internal/store"
)

// Errors of token checks.
var (
	ErrTokenInvalid   = errors.New("nexus: invalid or expired token")
	ErrTokenRevoked   = errors.New("nexus: token revoked")
	ErrTokenReused    = errors.New("nexus: refresh token reused")
	ErrBadCredentials = errors.New("nexus: email or password is incorrect")
)

// DefaultBcryptCost is the bcrypt cost of password hashes.
const DefaultBcryptCost = 12

// Config configures a Service.
type Config struct {
	JWTSecretKey string // signs tokens (HS256)
	SecretKey    string // keys the digests of stored refresh tokens
	BcryptCost   int    // 0 = DefaultBcryptCost

	// Throttle slows down repeated login attempts on one account.
	Throttle ThrottleConfig
	// RefreshGrace is how long a refresh token that was just rotated out still yields a
	// new pair of its session (two tabs refreshing at once); 0 = none.
	RefreshGrace time.Duration

	// Redis, when not nil, holds session states under RedisPrefix + "session:".
	Redis       *redis.Client
	RedisPrefix string

	Now    func() time.Time // nil = time.Now
	Logger *slog.Logger     // nil = discard
}

// Service is the authentication of the backend.
type Service struct {
	cfg       Config
	db        *store.DB
	now       func() time.Time
	log       *slog.Logger
	dummyHash []byte // compared when the email is unknown, so that it takes as long
	throttle  *throttle
}

// New returns the Service of db.
func New(db *store.DB, cfg Config) (*Service, error) {
	s := &Service{cfg: cfg, db: db, now: cfg.Now, log: cfg.Logger}
	if s.cfg.BcryptCost == 0 {
		s.cfg.BcryptCost = DefaultBcryptCost
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.throttle = newThrottle(cfg.Throttle, cfg.Redis, cfg.RedisPrefix, s.log)
	var err error
	if s.dummyHash, err = bcrypt.GenerateFromPassword([]byte(config.RandomHex(8)), s.cfg.BcryptCost); err != nil {
		return nil, err
	}
	return s, nil
}

// HashPassword hashes a password with bcrypt.
func (s *Service) HashPassword(pw string) (string, error) {
	b, err := bcrypt.GenerateFromPassword([]byte(pw), s.cfg.BcryptCost)
	return string(b), err
}

// Login checks an email and password and starts a session. A wrong password and an
// unknown email are the same ErrBadCredentials, after the same bcrypt work; an account
// that is not active is refused. An account tried too often (see ThrottleConfig) is a
// KindQuota error with the wait, before any password check; a successful login clears
// the account's count.
func (s *Service) Login(ctx context.Context, email, password string) (*TokenPair, error) {
	email = domain.LoginEmail(email)
	if wait := s.throttle.attempt(ctx, email, s.now()); wait > 0 {
		return nil, &domain.Error{Kind: domain.KindQuota, RetryAfter: wait,
			Msg: "too many login attempts on this account; retry after the delay in Retry-After"}
	}
	c, found, err := s.db.Credentials(ctx, email)
	if err != nil {
		return nil, err
	}
	hash := c.PasswordHash
	if !found {
		hash = string(s.dummyHash)
	}
	pwErr := bcrypt.CompareHashAndPassword([]byte(hash), []byte(password))
	if !found || pwErr != nil || len(password) > domain.MaxPassword {
		return nil, ErrBadCredentials
	}
	if c.Status != domain.StatusActive {
		return nil, domain.Forbidden("this account is " + c.Status)
	}
	s.throttle.reset(ctx, email)
	return s.startSession(ctx, c.UserID, c.Role)
}

// maxAuthorization bounds the Authorization header read.
const maxAuthorization = 4096

// Authenticate checks the Authorization header of a request ("Bearer <access token>")
// and the token's session. A missing, malformed, forged or expired token is
// ErrTokenInvalid, a revoked session ErrTokenRevoked; any other error means the check
// could not be made and the caller must be refused.
func (s *Service) Authenticate(ctx context.Context, authorization string) (*domain.Principal, error) {
	scheme, raw, ok := strings.Cut(authorization, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || raw == "" || len(raw) > maxAuthorization {
		return nil, ErrTokenInvalid
	}
	c, id, err := s.verify(ctx, strings.TrimSpace(raw), typAccess)
	if err != nil {
		return nil, err
	}
	return &domain.Principal{UserID: id, Role: c.Role, SessionID: c.SID}, nil
}

// verify checks a token of type typ — signature, expiry, subject, role for an access
// token — and that its session is live. It returns the claims and the user id.
func (s *Service) verify(ctx context.Context, raw, typ string) (*claims, int64, error) {
	c, err := s.parseToken(raw, typ)
	if err != nil {
		return nil, 0, err
	}
	id, err := strconv.ParseInt(c.Subject, 10, 64)
	if err != nil || typ == typAccess && !c.Role.Valid() {
		return nil, 0, ErrTokenInvalid
	}
	revoked, err := s.sessionRevoked(ctx, c.SID)
	if err != nil {
		return nil, 0, err
	}
	if revoked {
		return nil, 0, ErrTokenRevoked
	}
	return c, id, nil
}

// startSession creates a session for the user and returns its first token pair.
func (s *Service) startSession(ctx context.Context, userID int64, role domain.Role) (*TokenPair, error) {
	sid := config.RandomHex(16)
	pair, digest, expires, err := s.newPair(userID, role, sid)
	if err != nil {
		return nil, err
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateSession(ctx, sid, userID, s.now(), expires); err != nil {
			return err
		}
		return tx.AddRefreshToken(ctx, digest, sid, expires)
	})
	if err != nil {
		return nil, err
	}
	if s.cfg.Redis != nil {
		// A missing key only sends checks to the database, so a failed write is harmless.
		if rerr := s.cfg.Redis.Set(ctx, s.sessionKey(sid), sessionActive, RefreshTTL).Err(); rerr != nil {
			s.log.WarnContext(ctx, "session not published to redis", "err", rerr)
		}
	}
	return pair, nil
}

// Refresh exchanges a refresh token for a new pair of its session. A refresh token works
// once, except within Config.RefreshGrace of its first use, when it yields another pair
// of the same session (two tabs that refreshed at once both go on); presenting it again
// later revokes its whole session (the token was stolen or replayed) and is
// ErrTokenReused.
func (s *Service) Refresh(ctx context.Context, raw string) (*TokenPair, error) {
	c, userID, err := s.verify(ctx, raw, typRefresh)
	if err != nil {
		return nil, err
	}
	var pair *TokenPair
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		use, err := tx.UseRefreshToken(ctx, s.refreshDigest(c.ID), c.SID, s.now(), s.cfg.RefreshGrace)
		if err != nil {
			return err
		}
		if use == store.RefreshRefused {
			return ErrTokenReused
		}
		role, status, found, err := tx.Account(ctx, userID)
		if err != nil {
			return err
		}
		if !found || status != domain.StatusActive {
			return ErrTokenInvalid
		}
		p, digest, expires, err := s.newPair(userID, role, c.SID)
		if err != nil {
			return err
		}
		pair = p
		return tx.AddRefreshToken(ctx, digest, c.SID, expires)
	})
	if errors.Is(err, ErrTokenReused) {
		if rerr := s.RevokeSession(ctx, c.SID); rerr != nil {
			s.log.ErrorContext(ctx, "revoke session after refresh reuse", "err", rerr)
		}
	}
	if err != nil {
		return nil, err
	}
	return pair, nil
}

// Session states kept in Redis under sessionKey.
const (
	sessionActive  = "active"
	sessionRevoked = "revoked"
)

func (s *Service) sessionKey(sid string) string { return s.cfg.RedisPrefix + "session:" + sid }

// RevokeSession revokes a session (its access and refresh tokens) everywhere: in the
// database, which is authoritative, and in Redis when configured, which every instance
// consults first. A failed Redis write is reported so the caller can retry.
func (s *Service) RevokeSession(ctx context.Context, sid string) error {
	if err := s.db.RevokeSession(ctx, sid, s.now()); err != nil {
		return fmt.Errorf("revoke session in database: %w", err)
	}
	if s.cfg.Redis != nil {
		if err := s.cfg.Redis.Set(ctx, s.sessionKey(sid), sessionRevoked, RefreshTTL).Err(); err != nil {
			return fmt.Errorf("publish revocation to redis: %w", err)
		}
	}
	return nil
}

// RevokeUser revokes every live session of a user.
func (s *Service) RevokeUser(ctx context.Context, userID int64) error {
	ids, err := s.db.LiveSessions(ctx, userID, s.now())
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := s.RevokeSession(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// sessionRevoked answers from Redis when configured and the session's state is there,
// from the database otherwise (Redis not configured, failing, or the key missing after a
// restart), and returns an error — the caller denies — when neither answers. Unknown
// sessions count as revoked.
func (s *Service) sessionRevoked(ctx context.Context, sid string) (bool, error) {
	if s.cfg.Redis != nil {
		state, err := s.cfg.Redis.Get(ctx, s.sessionKey(sid)).Result()
		switch {
		case err == nil:
			return state != sessionActive, nil
		case errors.Is(err, redis.Nil):
		default:
			s.log.WarnContext(ctx, "revocation check falls back to the database", "err", err)
		}
	}
	st, found, err := s.db.Session(ctx, sid)
	if err != nil {
		return false, fmt.Errorf("revocation check: %w", err)
	}
	if !found {
		return true, nil
	}
	now := s.now()
	revoked := st.Revoked || !st.ExpiresAt.After(now)
	if s.cfg.Redis != nil && !revoked {
		// Put the answer back in Redis (after a Redis restart, say) so the next checks
		// stay there. NX: a revocation written meanwhile is never overwritten.
		if err := s.cfg.Redis.SetNX(ctx, s.sessionKey(sid), sessionActive, st.ExpiresAt.Sub(now)).Err(); err != nil {
			s.log.DebugContext(ctx, "session state not restored to redis", "err", err)
		}
	}
	return revoked, nil
}
