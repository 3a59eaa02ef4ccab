package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"
)

// formula is an offer: a price in Tunisian dinars for a number of hours per month.
type formula struct {
	ID            int64    `json:"id"`
	Name          string   `json:"name"`
	Type          string   `json:"type"`
	Level         string   `json:"level"`
	Price         int      `json:"price"`
	Currency      string   `json:"currency"`
	HoursPerMonth int      `json:"hours_per_month"`
	MaxStudents   int      `json:"max_students"`
	Features      []string `json:"features"`
}

var formulaTypes = []string{"individual", "group", "workshop", "intensive"}

const formulaColumns = `id, name, type, level, price, hours_per_month, max_students, features`

func scanFormula(s interface{ Scan(...any) error }) (*formula, error) {
	f := &formula{Currency: "TND"}
	var feats string
	if err := s.Scan(&f.ID, &f.Name, &f.Type, &f.Level, &f.Price, &f.HoursPerMonth, &f.MaxStudents, &feats); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(feats), &f.Features); err != nil || f.Features == nil {
		f.Features = []string{}
	}
	return f, nil
}

func (a *app) listFormulas(ctx context.Context) ([]*formula, error) {
	rows, err := a.db.QueryContext(ctx, `SELECT `+formulaColumns+` FROM formulas ORDER BY price, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*formula{}
	for rows.Next() {
		f, err := scanFormula(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

func (a *app) handleFormulas(w http.ResponseWriter, r *http.Request) error {
	fs, err := a.listFormulas(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"formulas": fs, "count": len(fs)})
	return nil
}

func (a *app) handleFormula(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	f, err := scanFormula(a.db.QueryRowContext(r.Context(), `SELECT `+formulaColumns+` FROM formulas WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return notFound("formula")
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, f)
	return nil
}

func validateFormula(f *formula) error {
	f.Name = strings.TrimSpace(f.Name)
	if f.Name == "" || utf8.RuneCountInString(f.Name) > 100 || strings.ContainsAny(f.Name, "<>\x00") {
		return invalid("name must be 1 to 100 characters without markup")
	}
	if !oneOf(f.Type, formulaTypes) {
		return invalid("type must be individual, group, workshop or intensive")
	}
	if f.Level == "" || utf8.RuneCountInString(f.Level) > 60 || strings.ContainsAny(f.Level, "<>\x00") {
		return invalid("level must be 1 to 60 characters without markup")
	}
	if f.Price < 0 || f.Price > 100000 {
		return invalid("price must be between 0 and 100000 TND")
	}
	if f.HoursPerMonth < 0 || f.HoursPerMonth > 200 {
		return invalid("hours_per_month must be between 0 and 200")
	}
	if f.MaxStudents < 1 || f.MaxStudents > 6 && f.Type == "group" || f.MaxStudents > 100 {
		return invalid("max_students must be 1 to 100 (at most 6 for a group)")
	}
	if f.Currency != "" && f.Currency != "TND" {
		return invalid("currency is TND")
	}
	if len(f.Features) > 20 {
		return invalid("at most 20 features")
	}
	for _, s := range f.Features {
		if s == "" || utf8.RuneCountInString(s) > 200 || strings.ContainsAny(s, "<>\x00") {
			return invalid("each feature must be 1 to 200 characters without markup")
		}
	}
	if f.Features == nil {
		f.Features = []string{}
	}
	return nil
}

// handleUpdateFormula replaces a formula (admin) and invalidates its cached responses.
func (a *app) handleUpdateFormula(w http.ResponseWriter, r *http.Request, _ *principal) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var f formula
	if err := decodeJSON(w, r, &f); err != nil {
		return err
	}
	if f.ID != 0 && f.ID != id {
		return invalid("id in the body differs from the URL")
	}
	f.ID = id
	if err := validateFormula(&f); err != nil {
		return err
	}
	feats, _ := json.Marshal(f.Features)
	res, err := a.db.ExecContext(r.Context(),
		`UPDATE formulas SET name = $1, type = $2, level = $3, price = $4, hours_per_month = $5, max_students = $6, features = $7, updated_at = $8 WHERE id = $9`,
		f.Name, f.Type, f.Level, f.Price, f.HoursPerMonth, f.MaxStudents, string(feats), a.now().Unix(), id)
	if isUniqueViolation(err) {
		return conflict("another formula has this name")
	}
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("formula")
	}
	if err := a.invalidateTags(r.Context(), tagFormulas); err != nil {
		a.log.ErrorContext(r.Context(), "formula cache invalidation", "err", err)
		return unavailable("formula saved but cached copies could not be invalidated; retry")
	}
	f.Currency = "TND"
	writeJSON(w, http.StatusOK, f)
	return nil
}
