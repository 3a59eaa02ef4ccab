package domain

import (
	"strings"
	"time"
	"unicode/utf8"
)

// Interaction is one question to ARIA, the assistant, and its answer.
type Interaction struct {
	ID        int64     `json:"id"`
	Question  string    `json:"question"`
	Answer    string    `json:"answer"`
	Model     string    `json:"model"`
	CreatedAt time.Time `json:"created_at"`
}

// ARIA limits.
const (
	AriaMaxQuestion = 2000 // characters
	AriaDailyLimit  = 50   // questions per user and UTC day, by default (ARIA_DAILY_LIMIT)
)

// AriaQuestion checks a question: 1 to AriaMaxQuestion characters once trimmed.
func AriaQuestion(s string) (string, error) {
	q := strings.TrimSpace(s)
	if q == "" || utf8.RuneCountInString(q) > AriaMaxQuestion || !utf8.ValidString(q) {
		return "", Invalid("message must be 1 to 2000 characters")
	}
	return q, nil
}
