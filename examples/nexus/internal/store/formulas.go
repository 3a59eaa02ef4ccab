package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/nexus-reussite/harden/examples/nexus/internal/domain"
)

const formulaSelect = `SELECT id, name, type, level, price, hours_per_month, max_students, features FROM formulas`

func scanFormula(r rowScanner) (*domain.Formula, error) {
	f := &domain.Formula{Currency: domain.Currency}
	var feats string
	if err := r.Scan(&f.ID, &f.Name, &f.Type, &f.Level, &f.Price, &f.HoursPerMonth, &f.MaxStudents, &feats); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(feats), &f.Features); err != nil || f.Features == nil {
		f.Features = []string{}
	}
	return f, nil
}

// Formulas lists the formulas, cheapest first.
func (db *DB) Formulas(ctx context.Context) ([]*domain.Formula, error) {
	return queryAll(ctx, db.q, scanFormula, formulaSelect+` ORDER BY price, id`)
}

// Formula reads one formula; "formula not found" when there is none.
func (db *DB) Formula(ctx context.Context, id int64) (*domain.Formula, error) {
	f, err := scanFormula(db.q.QueryRow(ctx, formulaSelect+` WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, domain.NotFound("formula")
	}
	return f, err
}

// UpdateFormula replaces formula f.ID with f (validated by domain.ValidateFormula). A
// name another formula has is domain.ErrFormulaNameTaken.
func (db *DB) UpdateFormula(ctx context.Context, f *domain.Formula, now time.Time) error {
	feats, _ := json.Marshal(f.Features)
	res, err := db.q.ExecContext(ctx,
		`UPDATE formulas SET name = $1, type = $2, level = $3, price = $4, hours_per_month = $5, max_students = $6, features = $7, updated_at = $8 WHERE id = $9`,
		f.Name, f.Type, f.Level, f.Price, f.HoursPerMonth, f.MaxStudents, string(feats), now.Unix(), f.ID)
	if isUniqueViolation(err) {
		return domain.ErrFormulaNameTaken
	}
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return domain.NotFound("formula")
	}
	return nil
}
