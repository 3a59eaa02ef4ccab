package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"

	"github.com/nexus-reussite/harden/examples/nexus/internal/config"
	"github.com/nexus-reussite/harden/examples/nexus/internal/servicetest"
	"github.com/nexus-reussite/harden/examples/nexus/internal/store"
)

const demoPassword = "demo-password-for-tests"

// clearEnv unsets variables of the contract for the rest of the test.
func clearEnv(t *testing.T, names ...string) {
	for _, k := range names {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
}

// TestRunSubcommands drives the subcommands as the binary does: serve (on a loopback
// socket the test opened, as socket activation hands one over) until the context ends,
// healthcheck against it on PORT, diagnose, and unknown commands.
func TestRunSubcommands(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	env := fmt.Sprintf("PORT=%d\nDATABASE_URL=sqlite://%s\nNEXUS_DEMO_PASSWORD=%s\nREDIS_URL=\nOPENAI_API_KEY=\nMAIL_SERVER=\n",
		ln.Addr().(*net.TCPAddr).Port, filepath.Join(dir, "n.db"), demoPassword)
	if err := os.WriteFile(".env", []byte(env), 0o600); err != nil {
		t.Fatal(err)
	}
	clearEnv(t, "APP_ENV", "FLASK_ENV", "SECRET_KEY", "JWT_SECRET_KEY", "SENTRY_DSN", "PORT")

	var out, errb bytes.Buffer
	noServer := fmt.Sprintf("http://127.0.0.1:%d/ready", servicetest.RefusingPort(t))
	if code := run(t.Context(), []string{"healthcheck", "-url", noServer}, &out, &errb); code != 1 {
		t.Fatalf("healthcheck with no server: exit %d", code)
	}

	// What run does for serve, on the test's socket.
	dotenv, err := config.ReadDotenv(".env")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(config.Env(dotenv))
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(t.Context())
	var serveOut servicetest.LogBuffer
	done := make(chan int, 1)
	go func() {
		done <- serve(ctx, cfg, newLogger(&serveOut, cfg), func() (net.Listener, error) { return ln, nil })
	}()
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

// listenChild is set in the environment of the child process of TestListen.
const listenChild = "NEXUS_TEST_LISTEN_CHILD"

// TestListen: a socket handed over as systemd does (file descriptor 3, LISTEN_FDS=1,
// LISTEN_PID the receiving process) is the one listen returns; handed to another process
// (LISTEN_PID not ours) it is ignored and PORT is used. The child is this test binary.
func TestListen(t *testing.T) {
	if os.Getenv(listenChild) == "1" {
		ln, err := listen(&config.Config{Port: 0})
		if err != nil {
			fmt.Println("listen:", err)
			return
		}
		fmt.Println("listening on", ln.Addr())
		ln.Close()
		return
	}
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh to set LISTEN_PID to the child's own process id")
	}
	for _, c := range []struct {
		pid  string // the LISTEN_PID assignment, in sh
		ours bool   // the handed socket is the one listened on
	}{{"LISTEN_PID=$$", true}, {"LISTEN_PID=1", false}} {
		handed, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		f, err := handed.(*net.TCPListener).File()
		if err != nil {
			t.Fatal(err)
		}
		// sh's $$ is its own process id, which exec keeps for the test binary.
		cmd := exec.Command("sh", "-c", c.pid+` exec "$0" "$@"`, os.Args[0], "-test.run=^TestListen$")
		cmd.Env = append(os.Environ(), listenChild+"=1", "LISTEN_FDS=1")
		cmd.ExtraFiles = []*os.File{f}
		got, err := cmd.Output()
		f.Close()
		handed.Close()
		if err != nil {
			t.Fatalf("%s: child: %v\n%s", c.pid, err, got)
		}
		line, _, _ := strings.Cut(string(got), "\n")
		if same := line == "listening on "+handed.Addr().String(); same != c.ours || !strings.HasPrefix(line, "listening on ") {
			t.Errorf("%s: child says %q; handed %s", c.pid, line, handed.Addr())
		}
	}
}

// TestStartupErrorsHideCredentials runs the server as the binary does with broken or
// unreachable URLs: it stops with an error naming the variable or the target, and
// neither its standard output (the JSON log) nor its standard error shows a credential.
func TestStartupErrorsHideCredentials(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	clearEnv(t, "APP_ENV", "FLASK_ENV", "SECRET_KEY", "JWT_SECRET_KEY", "SENTRY_DSN", "DATABASE_URL", "REDIS_URL", "OPENAI_API_KEY", "MAIL_SERVER", "PORT")
	t.Setenv("NEXUS_DEMO_PASSWORD", demoPassword)
	sqlite := "sqlite://" + filepath.Join(dir, "n.db")
	for _, c := range []struct {
		env  map[string]string
		code int
		want string
	}{
		{map[string]string{"REDIS_URL": "redis://:s3cret@cache:port x/0"}, 2, "REDIS_URL"},
		{map[string]string{"DATABASE_URL": sqlite, "CORS_ORIGINS": "https://app.example.com,https://admin:s3cret@app.example.com"}, 2, "CORS_ORIGINS: an origin is scheme://host[:port] and has no user or password part"},
		{map[string]string{"DATABASE_URL": "postgres://u:s3cret@db:x/nexus?sslpassword=s3cret2"}, 2, "DATABASE_URL"},
		{map[string]string{"DATABASE_URL": "postgres://u:s3cret@127.0.0.1:1/nexus?password=s3cret2&connect_timeout=1&sslmode=disable"}, 1, "database unreachable (postgres://u:xxxxx@127.0.0.1:1/nexus?password=xxxxx"},
	} {
		for k, v := range c.env {
			t.Setenv(k, v)
		}
		var out, errb bytes.Buffer
		code := run(t.Context(), nil, &out, &errb)
		all := out.String() + errb.String()
		if code != c.code || !strings.Contains(all, c.want) || strings.Contains(all, "s3cret") {
			t.Errorf("%v: exit %d (want %d), want %q in the output, no credential:\n%s", c.env, code, c.code, c.want, all)
		}
		for k := range c.env {
			os.Unsetenv(k)
		}
	}
}

// TestRedisDownAtStartIsNoStartupError: an unreachable REDIS_URL does not stop the
// server; it serves degraded and logs a warning naming the target without its
// credential.
func TestRedisDownAtStartIsNoStartupError(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	clearEnv(t, "APP_ENV", "FLASK_ENV", "SECRET_KEY", "JWT_SECRET_KEY", "SENTRY_DSN", "OPENAI_API_KEY", "MAIL_SERVER")
	t.Setenv("NEXUS_DEMO_PASSWORD", demoPassword)
	t.Setenv("DATABASE_URL", "sqlite://"+filepath.Join(dir, "n.db"))
	t.Setenv("REDIS_URL", "redis://:s3cret@127.0.0.1:1/0?dial_timeout=1s")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("PORT", strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
	t.Setenv("LOG_LEVEL", "info")
	ln.Close()
	// It serves until the context ends: once it listens, or after a minute.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	out := &servicetest.LogBuffer{}
	var errb bytes.Buffer
	go func() {
		for ctx.Err() == nil && !strings.Contains(out.String(), `"msg":"listening"`) {
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
	}()
	code := run(ctx, nil, out, &errb)
	all := out.String() + errb.String()
	if code != 0 || !strings.Contains(all, "redis unreachable at start") || !strings.Contains(all, "redis://:xxxxx@127.0.0.1:1/0") ||
		!strings.Contains(all, "listening") || strings.Contains(all, "s3cret") {
		t.Fatalf("exit %d (want 0 after serving), want the redacted warning and no credential:\n%s", code, all)
	}
}

// TestProductionNeedsAllowedHosts: in production the binary refuses to start without
// ALLOWED_HOSTS, names the variable and says how to allow any host explicitly.
func TestProductionNeedsAllowedHosts(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	clearEnv(t, "FLASK_ENV", "ALLOWED_HOSTS", "REDIS_URL", "SENTRY_DSN", "PORT")
	t.Setenv("APP_ENV", "production")
	t.Setenv("SECRET_KEY", "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a6978")
	t.Setenv("JWT_SECRET_KEY", "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718")
	t.Setenv("DATABASE_URL", "sqlite://"+filepath.Join(dir, "n.db"))
	// Were it to start, it would serve until the context ends.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	code := run(ctx, nil, &out, &errb)
	if code != 2 || !strings.Contains(errb.String(), "ALLOWED_HOSTS: must be set in production") || !strings.Contains(errb.String(), `"*"`) {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "n.db")); err == nil {
		t.Fatal("the database was opened before the configuration was checked")
	}
}

// TestResetDemoCommand: "nexus reset-demo" logs where the database is, recreates the demo
// accounts with NEXUS_DEMO_PASSWORD (or a new random password, logged) and exits 0; in
// production it refuses and touches nothing.
func TestResetDemoCommand(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	clearEnv(t, "APP_ENV", "FLASK_ENV", "SECRET_KEY", "JWT_SECRET_KEY", "SENTRY_DSN", "REDIS_URL", "OPENAI_API_KEY", "MAIL_SERVER", "PORT", "ALLOWED_HOSTS")
	path := filepath.Join(dir, "n.db")
	t.Setenv("DATABASE_URL", "sqlite://"+path)
	demoHash := func() string {
		t.Helper()
		cfg, err := config.Load(config.Env(nil))
		if err != nil {
			t.Fatal(err)
		}
		db, err := store.Open(t.Context(), cfg, slog.New(slog.DiscardHandler), prometheus.NewRegistry())
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		c, found, err := db.Credentials(t.Context(), store.DemoStudent)
		if err != nil || !found {
			t.Fatalf("demo student: found %v, %v", found, err)
		}
		return c.PasswordHash
	}

	t.Setenv("NEXUS_DEMO_PASSWORD", "first-reset-password")
	var out, errb bytes.Buffer
	if code := run(t.Context(), []string{"reset-demo"}, &out, &errb); code != 0 {
		t.Fatalf("reset-demo: exit %d\n%s%s", code, out.String(), errb.String())
	}
	for _, want := range []string{`"msg":"database","driver":"sqlite","path":"` + path + `"`, `"msg":"demo data deleted"`, `"msg":"demo data reset"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("reset-demo output lacks %s:\n%s", want, out.String())
		}
	}
	if bcrypt.CompareHashAndPassword([]byte(demoHash()), []byte("first-reset-password")) != nil {
		t.Fatal("NEXUS_DEMO_PASSWORD is not the demo student's password after reset-demo")
	}

	// Without NEXUS_DEMO_PASSWORD: a new random password, shown once.
	os.Unsetenv("NEXUS_DEMO_PASSWORD")
	out.Reset()
	if code := run(t.Context(), []string{"reset-demo"}, &out, &errb); code != 0 {
		t.Fatalf("reset-demo: exit %d\n%s%s", code, out.String(), errb.String())
	}
	var random string
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.Contains(line, "random password") {
			_, after, _ := strings.Cut(line, `"password":"`)
			random, _, _ = strings.Cut(after, `"`)
		}
	}
	if random == "" || bcrypt.CompareHashAndPassword([]byte(demoHash()), []byte(random)) != nil {
		t.Fatalf("no random demo password logged, or not the demo student's (%q):\n%s", random, out.String())
	}

	t.Setenv("APP_ENV", "production")
	t.Setenv("SECRET_KEY", "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a6978")
	t.Setenv("JWT_SECRET_KEY", "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718")
	t.Setenv("ALLOWED_HOSTS", "*")
	t.Setenv("METRICS_TOKEN", "scraper-token-of-enough-length")
	errb.Reset()
	if code := run(t.Context(), []string{"reset-demo"}, io.Discard, &errb); code != 2 || !strings.Contains(errb.String(), "development only") {
		t.Fatalf("reset-demo in production: exit %d, %s", code, errb.String())
	}
	if bcrypt.CompareHashAndPassword([]byte(demoHash()), []byte(random)) != nil {
		t.Fatal("reset-demo in production changed the demo data")
	}
}

// TestProductionNeedsMetricsSetting: in production the binary refuses to start when
// /metrics would be public, and names both ways out.
func TestProductionNeedsMetricsSetting(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	clearEnv(t, "FLASK_ENV", "METRICS_TOKEN", "METRICS_ADDR", "REDIS_URL", "SENTRY_DSN", "PORT")
	t.Setenv("APP_ENV", "production")
	t.Setenv("ALLOWED_HOSTS", "api.nexus.tn")
	t.Setenv("SECRET_KEY", "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a6978")
	t.Setenv("JWT_SECRET_KEY", "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718")
	t.Setenv("DATABASE_URL", "sqlite://"+filepath.Join(dir, "n.db"))
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var errb bytes.Buffer
	code := run(ctx, nil, io.Discard, &errb)
	if code != 2 || !strings.Contains(errb.String(), "METRICS_TOKEN: required in production unless METRICS_ADDR is set") {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
}

// TestServeMetricsListener: serve in production with METRICS_ADDR opens the metrics
// listener beside the API's: the API answers /metrics 404, the metrics listener serves
// them to the holder of METRICS_TOKEN, and both close at shutdown.
func TestServeMetricsListener(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	// A free port for METRICS_ADDR, which serve listens on itself.
	probe, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	metricsAddr := probe.Addr().String()
	probe.Close()
	const token = "metrics-token-for-tests-0123456789"
	cfg, err := config.Load(func(k string) (string, bool) {
		v, ok := map[string]string{
			"APP_ENV": "production", "ALLOWED_HOSTS": "api.nexus.tn", "DATABASE_URL": "sqlite://" + filepath.Join(dir, "n.db"),
			"SECRET_KEY": "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a6978", "JWT_SECRET_KEY": "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718",
			"METRICS_ADDR": metricsAddr, "METRICS_TOKEN": token, "SHUTDOWN_DELAY": "0", "TRUSTED_PROXIES": "127.0.0.1",
		}[k]
		return v, ok
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(t.Context())
	var logs servicetest.LogBuffer
	done := make(chan int, 1)
	go func() {
		done <- serve(ctx, cfg, newLogger(&logs, cfg), func() (net.Listener, error) { return ln, nil })
	}()
	get := func(url, tok string) int {
		req, _ := http.NewRequest("GET", url, nil)
		// As the ingress forwards a request for the public host over HTTPS.
		req.Host = "api.nexus.tn"
		req.Header.Set("X-Forwarded-Proto", "https")
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	api, metrics := "http://"+ln.Addr().String(), "http://"+metricsAddr+"/metrics"
	for deadline := time.Now().Add(60 * time.Second); get(api+"/ready", "") != http.StatusOK || get(metrics, token) != http.StatusOK; {
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("not serving: %s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	for url, want := range map[string][2]int{
		api + "/metrics": {http.StatusNotFound, http.StatusNotFound},
		metrics:          {http.StatusUnauthorized, http.StatusOK},
	} {
		if got := [2]int{get(url, ""), get(url, token)}; got != want {
			t.Errorf("%s without and with the token: %v, want %v", url, got, want)
		}
	}
	stop()
	if code := <-done; code != 0 {
		t.Fatalf("serve exit %d: %s", code, logs.String())
	}
	if get(metrics, token) != 0 {
		t.Error("the metrics listener outlives serve")
	}
}
