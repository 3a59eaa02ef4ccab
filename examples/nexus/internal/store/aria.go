package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/nexus-reussite/harden/examples/nexus/internal/domain"
)

// ReserveAria takes one unit of the user's ARIA quota for the UTC day of now, in one
// conditional upsert: concurrent questions queue on the user's row for the day, and
// none passes the limit. ok is false when the day's quota is used up. Give the unit
// back with ReleaseAria when the question gets no answer.
func (db *DB) ReserveAria(ctx context.Context, userID int64, now time.Time) (ok bool, err error) {
	var used int64
	err = db.q.QueryRow(ctx, `INSERT INTO aria_usage (user_id, day, used) VALUES ($1, $2, 1)
		ON CONFLICT (user_id, day) DO UPDATE SET used = aria_usage.used + 1 WHERE aria_usage.used < $3
		RETURNING used`, userID, domain.AriaDay(now).Unix(), db.quotas.AriaDaily).Scan(&used)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// ReleaseAria gives back a unit ReserveAria took at now.
func (db *DB) ReleaseAria(ctx context.Context, userID int64, now time.Time) error {
	_, err := db.q.ExecContext(ctx, `UPDATE aria_usage SET used = used - 1 WHERE user_id = $1 AND day = $2 AND used > 0`,
		userID, domain.AriaDay(now).Unix())
	return err
}

// AriaHistory returns a user's last interactions with ARIA, latest first.
func (db *DB) AriaHistory(ctx context.Context, userID int64, limit int) ([]domain.Interaction, error) {
	return queryAll(ctx, db.q, scanInteraction,
		`SELECT id, question, answer, model, created_at FROM aria_interactions WHERE user_id = $1 ORDER BY id DESC LIMIT $2`, userID, limit)
}

func scanInteraction(r rowScanner) (it domain.Interaction, err error) {
	var created int64
	err = r.Scan(&it.ID, &it.Question, &it.Answer, &it.Model, &created)
	it.CreatedAt = time.Unix(created, 0).UTC()
	return it, err
}

// AddInteraction records a question and its answer (it.CreatedAt, to the second) and
// sets it.ID.
func (db *DB) AddInteraction(ctx context.Context, userID int64, it *domain.Interaction) error {
	return db.q.QueryRow(ctx, `INSERT INTO aria_interactions (user_id, question, answer, model, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		userID, it.Question, it.Answer, it.Model, it.CreatedAt.Unix()).Scan(&it.ID)
}
