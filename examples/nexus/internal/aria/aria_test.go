package aria

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/nexus-reussite/harden/examples/nexus/internal/domain"
)

// TestConversation: the instructions first, then the history oldest first, then the
// question.
func TestConversation(t *testing.T) {
	history := []domain.Interaction{{Question: "q2", Answer: "a2"}, {Question: "q1", Answer: "a1"}} // latest first
	var got []string
	for _, m := range Conversation(history, "q3") {
		got = append(got, m.Role+":"+m.Content)
	}
	want := []string{"system:" + systemPrompt, "user:q1", "assistant:a1", "user:q2", "assistant:a2", "user:q3"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("conversation %q, want %q", got, want)
	}
}

// TestComplete talks to an OpenAI-compatible server: the request it gets, the answer,
// and errors that never show the credentials of the base URL.
func TestComplete(t *testing.T) {
	var req request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/chat/completions" || r.Header.Get("Authorization") != "Bearer sk-k" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		_, _ = w.Write([]byte(`{"choices":[{"message":{"role":"assistant","content":"2x"}}]}`))
	}))
	defer srv.Close()

	if _, err := New(Config{BaseURL: srv.URL + "/v1"}).Complete(t.Context(), nil); !errors.Is(err, ErrUnconfigured) {
		t.Fatalf("without a key: %v", err)
	}
	c := New(Config{BaseURL: srv.URL + "/v1", Key: "sk-k", Model: "m"})
	answer, err := c.Complete(t.Context(), Conversation(nil, "x²'"))
	if err != nil || answer != "2x" {
		t.Fatalf("answer %q, %v", answer, err)
	}
	if req.Model != "m" || req.Temperature != temperature || req.MaxTokens != maxTokens || len(req.Messages) != 2 {
		t.Fatalf("request %+v", req)
	}
	if _, err := New(Config{BaseURL: srv.URL + "/v2", Key: "sk-k"}).Complete(t.Context(), nil); !errors.Is(err, ErrUpstream) {
		t.Fatalf("refused: %v", err)
	}
	_, err = New(Config{BaseURL: "http://user:s3cret@127.0.0.1:1/v1", Key: "sk-k"}).Complete(t.Context(), nil)
	if !errors.Is(err, ErrUpstream) || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("unreachable: %v", err)
	}
}
