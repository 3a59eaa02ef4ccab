package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/redis/go-redis/v9"
)

// Token lifetimes, as in the original deployment.
const (
	accessTTL  = time.Hour
	refreshTTL = 30 * 24 * time.Hour
	issuer     = "nexus-reussite"
)

// Token types carried in the "typ" claim.
const (
	typAccess  = "access"
	typRefresh = "refresh"
)

var (
	errTokenInvalid = errors.New("nexus: invalid or expired token")
	errTokenRevoked = errors.New("nexus: token revoked")
	errTokenReused  = errors.New("nexus: refresh token reused")
)

// claims are the JWT claims of both token types.
type claims struct {
	jwt.RegisteredClaims
	Type string `json:"typ"`
	Role string `json:"role,omitempty"`
	SID  string `json:"sid"`
}

// tokenPair is the body of login and refresh responses.
type tokenPair struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
}

// principal is the authenticated caller.
type principal struct {
	UserID    int64
	Role      string
	SessionID string
}

func (a *app) sign(c claims) (string, error) {
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte(a.cfg.JWTSecretKey))
}

// parseToken verifies signature (HS256 only), issuer, expiry and type.
func (a *app) parseToken(raw, typ string) (*claims, error) {
	c := &claims{}
	_, err := jwt.ParseWithClaims(raw, c, func(*jwt.Token) (any, error) {
		return []byte(a.cfg.JWTSecretKey), nil
	},
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(issuer),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(a.now),
		jwt.WithLeeway(5*time.Second),
	)
	if err != nil || c.Type != typ || c.SID == "" || c.Subject == "" {
		return nil, errTokenInvalid
	}
	return c, nil
}

// refreshDigest is what the database stores for a refresh token: HMAC(SECRET_KEY, jti).
func (a *app) refreshDigest(jti string) string {
	m := hmac.New(sha256.New, []byte(a.cfg.SecretKey))
	m.Write([]byte(jti))
	return hex.EncodeToString(m.Sum(nil))
}

// issuePair signs an access and a refresh token for the session and records the refresh
// token's digest inside tx.
func (a *app) issuePair(ctx context.Context, tx *sql.Tx, userID int64, role, sid string) (*tokenPair, error) {
	now := a.now()
	sub := strconv.FormatInt(userID, 10)
	access, err := a.sign(claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: issuer, Subject: sub, ID: randomHex(16),
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(accessTTL)),
		},
		Type: typAccess, Role: role, SID: sid,
	})
	if err != nil {
		return nil, err
	}
	jti := randomHex(16)
	refresh, err := a.sign(claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: issuer, Subject: sub, ID: jti,
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(refreshTTL)),
		},
		Type: typRefresh, SID: sid,
	})
	if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO refresh_tokens (digest, session_id, expires_at) VALUES ($1, $2, $3)`,
		a.refreshDigest(jti), sid, now.Add(refreshTTL).Unix()); err != nil {
		return nil, err
	}
	return &tokenPair{AccessToken: access, RefreshToken: refresh, TokenType: "Bearer", ExpiresIn: int(accessTTL / time.Second)}, nil
}

// startSession creates a session for the user and returns its first token pair.
func (a *app) startSession(ctx context.Context, userID int64, role string) (*tokenPair, error) {
	sid := randomHex(16)
	now := a.now()
	var pair *tokenPair
	err := a.db.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
			sid, userID, now.Unix(), now.Add(refreshTTL).Unix()); err != nil {
			return err
		}
		var err error
		pair, err = a.issuePair(ctx, tx, userID, role, sid)
		return err
	})
	if err == nil && a.rdb != nil {
		// A missing key only sends checks to the database, so a failed write is harmless.
		if rerr := a.rdb.Set(ctx, a.sessionKey(sid), sessionActive, refreshTTL).Err(); rerr != nil {
			a.log.WarnContext(ctx, "session not published to redis", "err", rerr)
		}
	}
	return pair, err
}

// rotate exchanges a refresh token for a new pair. A refresh token works once: presenting
// it again revokes its whole session (the token was stolen or replayed).
func (a *app) rotate(ctx context.Context, raw string) (*tokenPair, error) {
	c, err := a.parseToken(raw, typRefresh)
	if err != nil {
		return nil, err
	}
	userID, err := strconv.ParseInt(c.Subject, 10, 64)
	if err != nil {
		return nil, errTokenInvalid
	}
	revoked, err := a.sessionRevoked(ctx, c.SID)
	if err != nil {
		return nil, err
	}
	if revoked {
		return nil, errTokenRevoked
	}
	now := a.now().Unix()
	var pair *tokenPair
	reused := false
	err = a.db.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx,
			`UPDATE refresh_tokens SET used_at = $1
			 WHERE digest = $2 AND session_id = $3 AND used_at IS NULL AND expires_at > $1
			   AND session_id IN (SELECT id FROM sessions WHERE revoked_at IS NULL AND expires_at > $1)`,
			now, a.refreshDigest(c.ID), c.SID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			reused = true
			return errTokenReused
		}
		var role, status string
		if err := tx.QueryRowContext(ctx, `SELECT role, status FROM users WHERE id = $1`, userID).Scan(&role, &status); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return errTokenInvalid
			}
			return err
		}
		if status != "active" {
			return errTokenInvalid
		}
		pair, err = a.issuePair(ctx, tx, userID, role, c.SID)
		return err
	})
	if reused {
		if rerr := a.revokeSession(ctx, c.SID); rerr != nil {
			a.log.ErrorContext(ctx, "revoke session after refresh reuse", "err", rerr)
		}
		return nil, errTokenReused
	}
	return pair, err
}

// Session states kept in Redis under sessionKey.
const (
	sessionActive  = "active"
	sessionRevoked = "revoked"
)

func (a *app) sessionKey(sid string) string { return a.redisPrefix + "session:" + sid }

// revokeSession revokes a session (its access and refresh tokens) everywhere: in the
// database, which is authoritative, and in Redis when configured, which every instance
// consults first. A failed Redis write is reported so the caller can retry.
func (a *app) revokeSession(ctx context.Context, sid string) error {
	now := a.now()
	if _, err := a.db.ExecContext(ctx, `UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`, now.Unix(), sid); err != nil {
		return fmt.Errorf("revoke session in database: %w", err)
	}
	if a.rdb != nil {
		if err := a.rdb.Set(ctx, a.sessionKey(sid), sessionRevoked, refreshTTL).Err(); err != nil {
			return fmt.Errorf("publish revocation to redis: %w", err)
		}
	}
	return nil
}

// revokeUserSessions revokes every session of a user.
func (a *app) revokeUserSessions(ctx context.Context, userID int64) error {
	rows, err := a.db.QueryContext(ctx, `SELECT id FROM sessions WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2`, userID, a.now().Unix())
	if err != nil {
		return err
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, id := range ids {
		if err := a.revokeSession(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// sessionRevoked answers from Redis when configured and the session's state is there,
// from the database otherwise (Redis not configured, failing, or the key missing after a
// restart), and returns an error — the caller denies — when neither answers. Unknown
// sessions count as revoked.
func (a *app) sessionRevoked(ctx context.Context, sid string) (bool, error) {
	if a.rdb != nil {
		state, err := a.rdb.Get(ctx, a.sessionKey(sid)).Result()
		switch {
		case err == nil:
			return state != sessionActive, nil
		case errors.Is(err, redis.Nil):
		default:
			a.log.WarnContext(ctx, "revocation check falls back to the database", "err", err)
		}
	}
	var revokedAt sql.NullInt64
	var expiresAt int64
	err := a.db.QueryRowContext(ctx, `SELECT revoked_at, expires_at FROM sessions WHERE id = $1`, sid).Scan(&revokedAt, &expiresAt)
	if errors.Is(err, sql.ErrNoRows) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("revocation check: %w", err)
	}
	now := a.now()
	revoked := revokedAt.Valid || expiresAt <= now.Unix()
	if a.rdb != nil && !revoked {
		// Put the answer back in Redis (after a Redis restart, say) so the next checks
		// stay there. NX: a revocation written meanwhile is never overwritten.
		ttl := time.Unix(expiresAt, 0).Sub(now)
		if err := a.rdb.SetNX(ctx, a.sessionKey(sid), sessionActive, ttl).Err(); err != nil {
			a.log.DebugContext(ctx, "session state not restored to redis", "err", err)
		}
	}
	return revoked, nil
}
