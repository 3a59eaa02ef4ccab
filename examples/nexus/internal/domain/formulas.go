package domain

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// Formula is an offer: a price in Tunisian dinars for a number of hours per month.
type Formula struct {
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

// Currency is the currency of every price.
const Currency = "TND"

// FormulaTypes are the kinds of formulas.
var FormulaTypes = []string{"individual", "group", "workshop", "intensive"}

// ValidateFormula checks an edited formula and normalises it in place (trimmed name,
// features never nil). A group formula takes at most GroupCapacity students.
func ValidateFormula(f *Formula) error {
	f.Name = strings.TrimSpace(f.Name)
	if f.Name == "" || utf8.RuneCountInString(f.Name) > 100 || hasMarkup(f.Name) {
		return Invalid("name must be 1 to 100 characters without markup")
	}
	if !slices.Contains(FormulaTypes, f.Type) {
		return Invalid("type must be individual, group, workshop or intensive")
	}
	if f.Level == "" || utf8.RuneCountInString(f.Level) > 60 || hasMarkup(f.Level) {
		return Invalid("level must be 1 to 60 characters without markup")
	}
	if f.Price < 0 || f.Price > 100000 {
		return Invalid("price must be between 0 and 100000 TND")
	}
	if f.HoursPerMonth < 0 || f.HoursPerMonth > 200 {
		return Invalid("hours_per_month must be between 0 and 200")
	}
	if f.MaxStudents < 1 || f.MaxStudents > GroupCapacity && f.Type == "group" || f.MaxStudents > 100 {
		return Invalid("max_students must be 1 to 100 (at most 6 for a group)")
	}
	if f.Currency != "" && f.Currency != Currency {
		return Invalid("currency is TND")
	}
	if len(f.Features) > 20 {
		return Invalid("at most 20 features")
	}
	for _, s := range f.Features {
		if s == "" || utf8.RuneCountInString(s) > 200 || hasMarkup(s) {
			return Invalid("each feature must be 1 to 200 characters without markup")
		}
	}
	if f.Features == nil {
		f.Features = []string{}
	}
	return nil
}
