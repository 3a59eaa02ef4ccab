package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/nexus-reussite/harden/examples/nexus/internal/auth"
	"github.com/nexus-reussite/harden/examples/nexus/internal/config"
)

// TestGracefulShutdown serves on a real listener, cancels (as SIGTERM does) while a slow
// request is in flight, and checks: /ready turns 503 during SHUTDOWN_DELAY while other
// requests are still served, the in-flight request completes, then the listener closes
// and serve returns nil.
func TestGracefulShutdown(t *testing.T) {
	// A slow upstream keeps an ARIA request in flight across the shutdown.
	release := make(chan struct{})
	var releaseOnce sync.Once
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
			answer("réponse lente")(w, r)
		case <-r.Context().Done():
		}
	}))
	defer upstream.Close()
	defer releaseOnce.Do(func() { close(release) })

	vars := map[string]string{
		"DATABASE_URL": "sqlite://" + filepath.Join(t.TempDir(), "n.db"), "NEXUS_DEMO_PASSWORD": demoPassword,
		"SHUTDOWN_DELAY": "600ms", "RATELIMIT_DEFAULT": "1000 per second",
		"OPENAI_API_BASE": upstream.URL, "OPENAI_API_KEY": "sk-test", "OPENAI_MODEL": "m",
	}
	cfg, err := config.Load(lookupMap(vars))
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(t.Context(), cfg, slog.New(slog.DiscardHandler), Options{BcryptCost: bcrypt.MinCost, ARIATimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- a.Serve(ctx, ln) }()

	client := &http.Client{Timeout: 5 * time.Second}
	waitStatus(t, client, base+"/ready", http.StatusOK)
	tok := loginOver(t, client, base, demoStudent)

	slow := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("POST", base+"/api/aria/chat", strings.NewReader(`{"message":"lent"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := client.Do(req)
		if err != nil {
			slow <- -1
			return
		}
		resp.Body.Close()
		slow <- resp.StatusCode
	}()
	time.Sleep(100 * time.Millisecond) // let the slow request reach the upstream

	stop()
	waitStatus(t, client, base+"/ready", http.StatusServiceUnavailable)
	if code := getStatus(client, base+"/api/formulas"); code != http.StatusOK {
		t.Fatalf("during the drain delay /api/formulas answered %d", code)
	}
	releaseOnce.Do(func() { close(release) })
	if code := <-slow; code != http.StatusOK {
		t.Fatalf("in-flight request ended with %d", code)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not return")
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Fatal("listener still open after shutdown")
	}
}

func getStatus(c *http.Client, url string) int {
	resp, err := c.Get(url)
	if err != nil {
		return -1
	}
	resp.Body.Close()
	return resp.StatusCode
}

func waitStatus(t *testing.T, c *http.Client, url string, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for getStatus(c, url) != want {
		if time.Now().After(deadline) {
			t.Fatalf("%s never answered %d", url, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func loginOver(t *testing.T, c *http.Client, base, email string) string {
	t.Helper()
	resp, err := c.Post(base+"/api/auth/login", "application/json", strings.NewReader(fmt.Sprintf(`{"email":%q,"password":%q}`, email, demoPassword)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var p auth.TokenPair
	if err := json.Unmarshal(body, &p); err != nil || p.AccessToken == "" {
		t.Fatalf("login: %d %s", resp.StatusCode, body)
	}
	return p.AccessToken
}
