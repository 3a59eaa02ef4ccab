package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// A session is one login: its refresh tokens, stored as digests, rotate within it, and
// revoking it ends them all. Times are stored as Unix seconds.

// CreateSession records a new session of the user.
func (q *Queries) CreateSession(ctx context.Context, sid string, userID int64, created, expires time.Time) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
		sid, userID, created.Unix(), expires.Unix())
	return err
}

// AddRefreshToken records the digest of a refresh token of the session.
func (q *Queries) AddRefreshToken(ctx context.Context, digest, sid string, expires time.Time) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO refresh_tokens (digest, session_id, expires_at) VALUES ($1, $2, $3)`,
		digest, sid, expires.Unix())
	return err
}

// RefreshUse is what presenting a refresh token found.
type RefreshUse uint8

// Outcomes of UseRefreshToken.
const (
	// RefreshRefused: the token is unknown or expired, its session revoked or expired,
	// or it was used before the grace window.
	RefreshRefused RefreshUse = iota
	// RefreshFirst: the token was unused and is now marked used.
	RefreshFirst
	// RefreshGraced: the token was used at most the grace window ago, in a live session.
	RefreshGraced
)

// UseRefreshToken marks a refresh token used, once. A token used already is
// RefreshGraced when that was at most grace ago (whole seconds) and its session is
// live, RefreshRefused otherwise.
func (q *Queries) UseRefreshToken(ctx context.Context, digest, sid string, now time.Time, grace time.Duration) (RefreshUse, error) {
	res, err := q.q.ExecContext(ctx,
		`UPDATE refresh_tokens SET used_at = $1
		 WHERE digest = $2 AND session_id = $3 AND used_at IS NULL AND expires_at > $1
		   AND session_id IN (SELECT id FROM sessions WHERE revoked_at IS NULL AND expires_at > $1)`,
		now.Unix(), digest, sid)
	if err != nil {
		return RefreshRefused, err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return RefreshFirst, nil
	}
	if grace <= 0 {
		return RefreshRefused, nil
	}
	var usedAt sql.NullInt64
	err = q.q.QueryRow(ctx,
		`SELECT rt.used_at FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id
		 WHERE rt.digest = $1 AND rt.session_id = $2 AND rt.expires_at > $3
		   AND s.revoked_at IS NULL AND s.expires_at > $3`,
		digest, sid, now.Unix()).Scan(&usedAt)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return RefreshRefused, nil
	case err != nil:
		return RefreshRefused, err
	case usedAt.Valid && now.Unix()-usedAt.Int64 <= int64(grace/time.Second):
		return RefreshGraced, nil
	}
	return RefreshRefused, nil
}

// RevokeSession revokes a session (a revoked one keeps its first revocation time).
func (q *Queries) RevokeSession(ctx context.Context, sid string, now time.Time) error {
	_, err := q.q.ExecContext(ctx, `UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`, now.Unix(), sid)
	return err
}

// LiveSessions lists the sessions of a user that are neither revoked nor expired.
func (q *Queries) LiveSessions(ctx context.Context, userID int64, now time.Time) ([]string, error) {
	return queryAll(ctx, q.q, func(r rowScanner) (id string, err error) { return id, r.Scan(&id) },
		`SELECT id FROM sessions WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2`, userID, now.Unix())
}

// SessionState is what a revocation check reads of a session.
type SessionState struct {
	Revoked   bool
	ExpiresAt time.Time
}

// Session reads the state of a session; found is false when there is none.
func (q *Queries) Session(ctx context.Context, sid string) (s SessionState, found bool, err error) {
	var revokedAt sql.NullInt64
	var expiresAt int64
	err = q.q.QueryRow(ctx, `SELECT revoked_at, expires_at FROM sessions WHERE id = $1`, sid).Scan(&revokedAt, &expiresAt)
	if errors.Is(err, sql.ErrNoRows) {
		return s, false, nil
	}
	if err != nil {
		return s, false, err
	}
	return SessionState{Revoked: revokedAt.Valid, ExpiresAt: time.Unix(expiresAt, 0)}, true, nil
}
