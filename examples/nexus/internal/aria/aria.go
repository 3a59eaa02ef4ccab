// Package aria is the client of ARIA, the platform's teaching assistant: an
// OpenAI-compatible chat completions API (POST {base}/chat/completions).
package aria

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

	"github.com/nexus-reussite/harden/examples/nexus/internal/domain"
	"github.com/nexus-reussite/harden/examples/nexus/internal/redact"
)

// Settings of every request.
const (
	temperature    = 0.7
	maxTokens      = 1000
	maxReply       = 1 << 20 // bytes read of an answer
	DefaultTimeout = 60 * time.Second
	systemPrompt   = "Tu es ARIA, l'assistante pédagogique de Nexus Réussite. Tu aides des lycéens tunisiens " +
		"(seconde, première, terminale) en mathématiques, physique, NSI et français. Réponds en français, avec " +
		"des explications progressives, sans donner directement la réponse d'un exercice noté."
)

// Errors of Complete.
var (
	ErrUnconfigured = errors.New("nexus: assistant not configured")
	ErrUpstream     = errors.New("nexus: assistant upstream failed")
)

// Config configures a Client.
type Config struct {
	BaseURL string        // OPENAI_API_BASE, without the trailing slash
	Key     string        // OPENAI_API_KEY; empty = not configured
	Model   string        // OPENAI_MODEL
	Timeout time.Duration // of one completion; 0 = DefaultTimeout
}

// Client calls the chat completions API.
type Client struct {
	cfg  Config
	http *http.Client
}

// New returns a client.
func New(cfg Config) *Client {
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	return &Client{cfg: cfg, http: &http.Client{Timeout: cfg.Timeout}}
}

// Configured reports whether a key is set.
func (c *Client) Configured() bool { return c.cfg.Key != "" }

// Model is the model asked.
func (c *Client) Model() string { return c.cfg.Model }

// Message is one message of a conversation.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Conversation is what ARIA is sent for question: its instructions, then the history
// (latest first, as the store returns it) in order, then the question.
func Conversation(history []domain.Interaction, question string) []Message {
	msgs := []Message{{Role: "system", Content: systemPrompt}}
	for i := len(history) - 1; i >= 0; i-- {
		msgs = append(msgs, Message{Role: "user", Content: history[i].Question}, Message{Role: "assistant", Content: history[i].Answer})
	}
	return append(msgs, Message{Role: "user", Content: question})
}

type request struct {
	Model       string    `json:"model"`
	Messages    []Message `json:"messages"`
	Temperature float64   `json:"temperature"`
	MaxTokens   int       `json:"max_tokens"`
}

type response struct {
	Choices []struct {
		Message Message `json:"message"`
	} `json:"choices"`
}

// Complete sends the conversation and returns the assistant's reply. Errors wrap
// ErrUnconfigured or ErrUpstream and never quote a credential of the base URL.
func (c *Client) Complete(ctx context.Context, msgs []Message) (string, error) {
	if !c.Configured() {
		return "", ErrUnconfigured
	}
	body, _ := json.Marshal(request{Model: c.cfg.Model, Messages: msgs, Temperature: temperature, MaxTokens: maxTokens})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.BaseURL+"/chat/completions", bytes.NewReader(body))
	if err != nil {
		return "", redact.Error(err, c.cfg.BaseURL)
	}
	req.Header.Set("Authorization", "Bearer "+c.cfg.Key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrUpstream, redact.Error(err, c.cfg.BaseURL))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxReply))
	if err != nil {
		return "", fmt.Errorf("%w: reading reply: %v", ErrUpstream, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%w: status %d", ErrUpstream, resp.StatusCode)
	}
	var cr response
	if err := json.Unmarshal(raw, &cr); err != nil || len(cr.Choices) == 0 || strings.TrimSpace(cr.Choices[0].Message.Content) == "" {
		return "", fmt.Errorf("%w: malformed reply", ErrUpstream)
	}
	return cr.Choices[0].Message.Content, nil
}
