package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// ARIA settings, as in the original deployment.
const (
	ariaTemperature = 0.7
	ariaMaxTokens   = 1000
	ariaTimeout     = 60 * time.Second
	ariaMaxQuestion = 2000 // characters
	ariaDailyLimit  = 50   // questions per user per day, counted in the database
	ariaSystem      = "Tu es ARIA, l'assistante pédagogique de Nexus Réussite. Tu aides des lycéens tunisiens " +
		"(seconde, première, terminale) en mathématiques, physique, NSI et français. Réponds en français, avec " +
		"des explications progressives, sans donner directement la réponse d'un exercice noté."
)

var (
	errAssistantUnconfigured = errors.New("nexus: assistant not configured")
	errAssistantUpstream     = errors.New("nexus: assistant upstream failed")
)

// ariaClient calls an OpenAI-compatible chat completions API.
type ariaClient struct {
	base, key, model string
	http             *http.Client
}

func newAriaClient(cfg *Config) *ariaClient {
	return &ariaClient{
		base: cfg.OpenAIBase, key: cfg.OpenAIKey, model: cfg.OpenAIModel,
		http: &http.Client{Timeout: ariaTimeout},
	}
}

func (c *ariaClient) configured() bool { return c.key != "" }

type chatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type chatRequest struct {
	Model       string        `json:"model"`
	Messages    []chatMessage `json:"messages"`
	Temperature float64       `json:"temperature"`
	MaxTokens   int           `json:"max_tokens"`
}

type chatResponse struct {
	Choices []struct {
		Message chatMessage `json:"message"`
	} `json:"choices"`
}

// complete sends the conversation and returns the assistant's reply.
func (c *ariaClient) complete(ctx context.Context, msgs []chatMessage) (string, error) {
	if !c.configured() {
		return "", errAssistantUnconfigured
	}
	body, _ := json.Marshal(chatRequest{Model: c.model, Messages: msgs, Temperature: ariaTemperature, MaxTokens: ariaMaxTokens})
	// Errors naming the URL are redacted: OPENAI_API_BASE may carry credentials.
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/chat/completions", bytes.NewReader(body))
	if err != nil {
		return "", redactErr(err, c.base)
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("%w: %v", errAssistantUpstream, redactErr(err, c.base))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("%w: reading reply: %v", errAssistantUpstream, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%w: status %d", errAssistantUpstream, resp.StatusCode)
	}
	var cr chatResponse
	if err := json.Unmarshal(raw, &cr); err != nil || len(cr.Choices) == 0 || strings.TrimSpace(cr.Choices[0].Message.Content) == "" {
		return "", fmt.Errorf("%w: malformed reply", errAssistantUpstream)
	}
	return cr.Choices[0].Message.Content, nil
}

type ariaChatRequest struct {
	Message string `json:"message"`
}

type ariaInteraction struct {
	ID        int64     `json:"id"`
	Question  string    `json:"question"`
	Answer    string    `json:"answer"`
	Model     string    `json:"model"`
	CreatedAt time.Time `json:"created_at"`
}

func (a *app) handleAriaChat(w http.ResponseWriter, r *http.Request, p *principal) error {
	if !a.aria.configured() {
		return unavailable("assistant not configured")
	}
	var req ariaChatRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	q := strings.TrimSpace(req.Message)
	if q == "" || utf8.RuneCountInString(q) > ariaMaxQuestion || !utf8.ValidString(q) {
		return invalid("message must be 1 to 2000 characters")
	}
	ctx := r.Context()
	now := a.now()
	var today int
	if err := a.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM aria_interactions WHERE user_id = $1 AND created_at >= $2`,
		p.UserID, now.Add(-24*time.Hour).Unix()).Scan(&today); err != nil {
		return err
	}
	if today >= ariaDailyLimit {
		w.Header().Set("Retry-After", "3600")
		return &badRequest{status: http.StatusTooManyRequests, msg: fmt.Sprintf("ARIA answers at most %d questions per day", ariaDailyLimit)}
	}
	history, err := a.ariaHistory(ctx, p.UserID, 5)
	if err != nil {
		return err
	}
	msgs := []chatMessage{{Role: "system", Content: ariaSystem}}
	for i := len(history) - 1; i >= 0; i-- {
		msgs = append(msgs, chatMessage{Role: "user", Content: history[i].Question}, chatMessage{Role: "assistant", Content: history[i].Answer})
	}
	msgs = append(msgs, chatMessage{Role: "user", Content: q})
	answer, err := a.aria.complete(ctx, msgs)
	if err != nil {
		a.log.WarnContext(ctx, "aria upstream", "err", err)
		return &badRequest{status: http.StatusBadGateway, msg: "the assistant is unavailable right now"}
	}
	it := ariaInteraction{Question: q, Answer: answer, Model: a.aria.model, CreatedAt: time.Unix(now.Unix(), 0).UTC()}
	if err := a.db.QueryRowContext(ctx, `INSERT INTO aria_interactions (user_id, question, answer, model, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		p.UserID, it.Question, it.Answer, it.Model, now.Unix()).Scan(&it.ID); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, it)
	return nil
}

func (a *app) ariaHistory(ctx context.Context, userID int64, limit int) ([]ariaInteraction, error) {
	rows, err := a.db.QueryContext(ctx, `SELECT id, question, answer, model, created_at FROM aria_interactions WHERE user_id = $1 ORDER BY id DESC LIMIT $2`, userID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []ariaInteraction{}
	for rows.Next() {
		var it ariaInteraction
		var created int64
		if err := rows.Scan(&it.ID, &it.Question, &it.Answer, &it.Model, &created); err != nil {
			return nil, err
		}
		it.CreatedAt = time.Unix(created, 0).UTC()
		out = append(out, it)
	}
	return out, rows.Err()
}

func (a *app) handleAriaHistory(w http.ResponseWriter, r *http.Request, p *principal) error {
	items, err := a.ariaHistory(r.Context(), p.UserID, 50)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"interactions": items})
	return nil
}
