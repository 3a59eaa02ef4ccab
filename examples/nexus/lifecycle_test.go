package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nexus-reussite/harden/internal/testenv"
	"golang.org/x/crypto/bcrypt"
)

// TestGracefulShutdown serves on a real listener, cancels (as SIGTERM does) while a slow
// request is in flight, and checks: /ready turns 503 during SHUTDOWN_DELAY while other
// requests are still served, the in-flight request completes, then the listener closes
// and serve returns nil.
func TestGracefulShutdown(t *testing.T) {
	vars := map[string]string{"DATABASE_URL": "sqlite://" + filepath.Join(t.TempDir(), "n.db"), "NEXUS_DEMO_PASSWORD": demoPassword, "SHUTDOWN_DELAY": "600ms", "RATELIMIT_DEFAULT": "1000 per second"}
	cfg, err := loadConfig(lookupMap(vars))
	if err != nil {
		t.Fatal(err)
	}
	a, err := newApp(t.Context(), cfg, slog.New(slog.DiscardHandler), appOptions{bcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()

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
	a.aria = &ariaClient{base: upstream.URL, key: "sk-test", model: "m", http: &http.Client{Timeout: 10 * time.Second}}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- a.serve(ctx, ln) }()

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
	var p tokenPair
	if err := json.Unmarshal(body, &p); err != nil || p.AccessToken == "" {
		t.Fatalf("login: %d %s", resp.StatusCode, body)
	}
	return p.AccessToken
}

// TestRunSubcommands drives run() as the binary does: serve on a free port until the
// context ends, healthcheck against it, diagnose, and unknown commands.
func TestRunSubcommands(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	port := testenv.FreePort(t)
	env := fmt.Sprintf("PORT=%d\nDATABASE_URL=sqlite://%s\nNEXUS_DEMO_PASSWORD=%s\nREDIS_URL=\nOPENAI_API_KEY=\nMAIL_SERVER=\n", port, filepath.Join(dir, "n.db"), demoPassword)
	if err := os.WriteFile(".env", []byte(env), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"APP_ENV", "FLASK_ENV", "SECRET_KEY", "JWT_SECRET_KEY", "SENTRY_DSN"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}

	var out, errb bytes.Buffer
	if code := run(t.Context(), []string{"healthcheck"}, &out, &errb); code != 1 {
		t.Fatalf("healthcheck with no server: exit %d", code)
	}

	ctx, stop := context.WithCancel(t.Context())
	var serveOut syncBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, nil, &serveOut, &serveOut) }()
	// Startup hashes the demo passwords at bcrypt cost 12: seconds under the race detector.
	deadline := time.Now().Add(150 * time.Second)
	for run(t.Context(), []string{"healthcheck"}, io.Discard, io.Discard) != 0 {
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("server never became ready: %s", serveOut.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	out.Reset()
	if code := run(t.Context(), []string{"diagnose"}, &out, &errb); code != 0 {
		t.Fatalf("diagnose: exit %d\n%s", code, out.String())
	}
	// SQLite migrated by serve; Redis, mail and OpenAI unset and the secrets made up for
	// the run warn, which is not a failure.
	for _, want := range []string{"WARN: 2/7 checks pass", "  pass  config", "  pass  database", "4 formulas",
		"  warn  redis", "  warn  mail", "  warn  openai", "not configured", "  warn  SECRET_KEY"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("diagnose output lacks %q:\n%s", want, out.String())
		}
	}
	stop()
	if code := <-done; code != 0 {
		t.Fatalf("serve exit %d: %s", code, serveOut.String())
	}
	if !strings.Contains(serveOut.String(), `"msg":"stopped"`) {
		t.Fatalf("no clean stop logged: %s", serveOut.String())
	}

	if code := run(t.Context(), []string{"frobnicate"}, io.Discard, &errb); code != 2 {
		t.Fatalf("unknown command: exit %d", code)
	}
	// A broken configuration stops serve before anything starts.
	t.Setenv("PORT", "not-a-port")
	errb.Reset()
	if code := run(t.Context(), nil, io.Discard, &errb); code != 2 || !strings.Contains(errb.String(), "PORT") {
		t.Fatalf("bad PORT: exit %d, %s", code, errb.String())
	}
}
