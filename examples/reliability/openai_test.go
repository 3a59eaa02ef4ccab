package reliability

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	openAIKey   = "sk-reliability-test"
	openAIModel = "gpt-reliability"
)

// fakeOpenAI is an OpenAI-compatible chat completions server. It checks every request
// the backend sends (method, path, key, model, a system prompt and the question last)
// and answers with a reply derived from the question, after an optional delay.
type fakeOpenAI struct {
	srv      *httptest.Server
	answered atomic.Int64
	delay    atomic.Int64 // nanoseconds

	mu      sync.Mutex
	invalid []string // what was wrong with requests, if anything
}

func startFakeOpenAI(t *testing.T) *fakeOpenAI {
	t.Helper()
	f := &fakeOpenAI{}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(func() {
		f.srv.Close()
		f.mu.Lock()
		defer f.mu.Unlock()
		if len(f.invalid) > 0 {
			t.Errorf("fake OpenAI server got %d malformed requests, first: %s", len(f.invalid), f.invalid[0])
		}
	})
	return f
}

// env is the backend's OpenAI configuration pointing at f.
func (f *fakeOpenAI) env() map[string]string {
	return map[string]string{"OPENAI_API_BASE": f.srv.URL + "/v1", "OPENAI_API_KEY": openAIKey, "OPENAI_MODEL": openAIModel}
}

// answer is the reply the server gives to question.
func answer(question string) string {
	sum := sha256.Sum256([]byte(question))
	return "Réponse " + hex.EncodeToString(sum[:8])
}

func (f *fakeOpenAI) reject(w http.ResponseWriter, format string, a ...any) {
	f.mu.Lock()
	f.invalid = append(f.invalid, fmt.Sprintf(format, a...))
	f.mu.Unlock()
	http.Error(w, "bad request", http.StatusBadRequest)
}

func (f *fakeOpenAI) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		f.reject(w, "%s %s", r.Method, r.URL.Path)
		return
	}
	if got := r.Header.Get("Authorization"); got != "Bearer "+openAIKey {
		f.reject(w, "Authorization %q", got)
		return
	}
	var req struct {
		Model    string `json:"model"`
		Messages []struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		} `json:"messages"`
		MaxTokens int `json:"max_tokens"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
		f.reject(w, "body: %v", err)
		return
	}
	n := len(req.Messages)
	if req.Model != openAIModel || n < 2 || req.Messages[0].Role != "system" || req.Messages[n-1].Role != "user" || req.MaxTokens <= 0 {
		f.reject(w, "model %q, %d messages, max_tokens %d", req.Model, n, req.MaxTokens)
		return
	}
	if d := time.Duration(f.delay.Load()); d > 0 {
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
	}
	f.answered.Add(1)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id": "chatcmpl-reliability", "object": "chat.completion", "model": req.Model,
		"choices": []map[string]any{{"index": 0, "finish_reason": "stop",
			"message": map[string]string{"role": "assistant", "content": answer(req.Messages[n-1].Content)}}},
	})
}
