package app

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nexus-reussite/harden/examples/nexus/internal/domain"
)

// chatRequest is the body of a chat completions request.
type chatRequest struct {
	Model    string `json:"model"`
	Messages []struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"messages"`
	Temperature float64 `json:"temperature"`
	MaxTokens   int     `json:"max_tokens"`
}

// fakeOpenAI is an OpenAI-compatible chat completions server that records what it got.
type fakeOpenAI struct {
	mu       sync.Mutex
	requests []chatRequest
	auth     []string
	paths    []string
	reply    func(w http.ResponseWriter, r *http.Request)
}

func (f *fakeOpenAI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var cr chatRequest
	_ = json.Unmarshal(body, &cr)
	f.mu.Lock()
	f.requests = append(f.requests, cr)
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	f.paths = append(f.paths, r.Method+" "+r.URL.Path)
	reply := f.reply
	f.mu.Unlock()
	reply(w, r)
}

func answer(text string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"id": "chatcmpl-1", "object": "chat.completion",
			"choices": []map[string]any{{"index": 0, "message": map[string]string{"role": "assistant", "content": text}, "finish_reason": "stop"}},
		})
	}
}

func TestAriaAgainstOpenAICompatibleServer(t *testing.T) {
	fake := &fakeOpenAI{reply: answer("La dérivée de x² est 2x.")}
	upstream := httptest.NewServer(fake)
	defer upstream.Close()
	s := newTestServerOpts(t, sqliteBackend(t), map[string]string{
		"OPENAI_API_KEY": "sk-test-key-0123456789", "OPENAI_API_BASE": upstream.URL + "/v1", "OPENAI_MODEL": "gpt-test",
	}, Options{RouteRules: relaxedRouteRules, ARIATimeout: 300 * time.Millisecond})
	tok := s.login(demoStudent, demoPassword).AccessToken

	r := s.expect(http.StatusOK, "POST", "/api/aria/chat", tok, map[string]string{"message": "Quelle est la dérivée de x² ?"}).json(t)
	if r["answer"] != "La dérivée de x² est 2x." || r["model"] != "gpt-test" {
		t.Fatalf("chat: %v", r)
	}
	fake.mu.Lock()
	got, auth, path := fake.requests[0], fake.auth[0], fake.paths[0]
	fake.mu.Unlock()
	if path != "POST /v1/chat/completions" || auth != "Bearer sk-test-key-0123456789" {
		t.Fatalf("upstream got %s with Authorization %q", path, auth)
	}
	if got.Model != "gpt-test" || got.Temperature != 0.7 || got.MaxTokens != 1000 {
		t.Fatalf("upstream request %+v", got)
	}
	if len(got.Messages) != 2 || got.Messages[0].Role != "system" || got.Messages[1].Content != "Quelle est la dérivée de x² ?" {
		t.Fatalf("messages %+v", got.Messages)
	}

	// The next question carries the previous exchange.
	s.expect(http.StatusOK, "POST", "/api/aria/chat", tok, map[string]string{"message": "Et de x³ ?"})
	fake.mu.Lock()
	second := fake.requests[1]
	fake.mu.Unlock()
	if len(second.Messages) != 4 || second.Messages[2].Role != "assistant" || second.Messages[3].Content != "Et de x³ ?" {
		t.Fatalf("second request messages %+v", second.Messages)
	}
	h := s.expect(http.StatusOK, "GET", "/api/aria/history", tok, nil).json(t)
	if items := h["interactions"].([]any); len(items) != 2 || items[0].(map[string]any)["question"] != "Et de x³ ?" {
		t.Fatalf("history %v", h)
	}
	// History is per user.
	other := s.login(demoParent, demoPassword).AccessToken
	if items := s.expect(http.StatusOK, "GET", "/api/aria/history", other, nil).json(t)["interactions"].([]any); len(items) != 0 {
		t.Fatalf("parent sees %d interactions of the student", len(items))
	}

	// Upstream failures: error status, malformed body, empty choices, timeout. Each is a
	// 502 problem that does not echo upstream details, and nothing is stored.
	failures := map[string]func(http.ResponseWriter, *http.Request){
		"500": func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, `{"error":{"message":"internal upstream secret"}}`, http.StatusInternalServerError)
		},
		"401": func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "bad key", http.StatusUnauthorized) },
		"malformed": func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte(`{"choices": [`))
		},
		"no choices": func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"choices": []}`)) },
		"timeout": func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		},
	}
	for name, reply := range failures {
		fake.mu.Lock()
		fake.reply = reply
		fake.mu.Unlock()
		r := s.expect(http.StatusBadGateway, "POST", "/api/aria/chat", tok, map[string]string{"message": "Bonjour"})
		if strings.Contains(string(r.body), "secret") || strings.Contains(string(r.body), "bad key") {
			t.Errorf("%s: upstream detail leaked: %s", name, r.body)
		}
	}
	if items := s.expect(http.StatusOK, "GET", "/api/aria/history", tok, nil).json(t)["interactions"].([]any); len(items) != 2 {
		t.Fatalf("%d interactions stored after failures, want 2", len(items))
	}
	if strings.Contains(s.logs.String(), "sk-test-key-0123456789") {
		t.Fatal("the OpenAI key reached the logs")
	}

	// Hostile questions.
	s.expect(http.StatusBadRequest, "POST", "/api/aria/chat", tok, map[string]string{"message": "   "})
	s.expect(http.StatusBadRequest, "POST", "/api/aria/chat", tok, map[string]string{"message": strings.Repeat("é", domain.AriaMaxQuestion+1)})
}

// TestAriaDailyLimit: a user gets at most ARIA_DAILY_LIMIT answers per UTC day.
func TestAriaDailyLimit(t *testing.T) {
	upstream := httptest.NewServer(&fakeOpenAI{reply: answer("ok")})
	defer upstream.Close()
	s := newTestServer(t, sqliteBackend(t), map[string]string{"OPENAI_API_KEY": "sk-test", "OPENAI_API_BASE": upstream.URL, "ARIA_DAILY_LIMIT": "2"})
	tok := s.login(demoStudent, demoPassword).AccessToken
	for range 2 {
		s.expect(http.StatusOK, "POST", "/api/aria/chat", tok, map[string]string{"message": "encore"})
	}
	r := s.expect(http.StatusTooManyRequests, "POST", "/api/aria/chat", tok, map[string]string{"message": "encore"})
	if r.header.Get("Retry-After") == "" || !strings.Contains(string(r.body), "at most 2 questions per day") {
		t.Fatalf("429 without Retry-After or reason: %v %s", r.header, r.body)
	}
	s.clock.advance(24 * time.Hour)
	tok = s.login(demoStudent, demoPassword).AccessToken
	s.expect(http.StatusOK, "POST", "/api/aria/chat", tok, map[string]string{"message": "encore"})
}
