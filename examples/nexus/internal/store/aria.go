package store

import (
	"context"
	"time"

	"github.com/nexus-reussite/harden/examples/nexus/internal/domain"
)

// AriaQuestionsSince counts the questions a user asked ARIA since a time.
func (db *DB) AriaQuestionsSince(ctx context.Context, userID int64, since time.Time) (int, error) {
	var n int
	err := db.q.QueryRow(ctx, `SELECT COUNT(*) FROM aria_interactions WHERE user_id = $1 AND created_at >= $2`, userID, since.Unix()).Scan(&n)
	return n, err
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
