package diagnose

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nexus-reussite/harden/examples/nexus/internal/config"
	"github.com/nexus-reussite/harden/examples/nexus/internal/redact"
	"github.com/nexus-reussite/harden/examples/nexus/internal/servicetest"
	"github.com/nexus-reussite/harden/examples/nexus/internal/store"
)

func lookupMap(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// Valid production secrets.
const (
	goodSecret    = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a6978"
	goodJWTSecret = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718"
)

// diagnoseEnv returns a valid production environment with every dependency unset;
// tests add what they check.
func diagnoseEnv(extra map[string]string) map[string]string {
	env := map[string]string{"APP_ENV": "production", "SECRET_KEY": goodSecret, "JWT_SECRET_KEY": goodJWTSecret, "ALLOWED_HOSTS": "api.nexus.tn", "METRICS_ADDR": ":9090"}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// runDiagnose loads env and runs diagnose, returning its exit code and output.
func runDiagnose(t *testing.T, env map[string]string) (int, string) {
	t.Helper()
	cfg, err := config.Load(lookupMap(env))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	code := Run(t.Context(), cfg, nil, &out)
	return code, out.String()
}

// reportLine returns the line of the check named name, failing t when there is none.
func reportLine(t *testing.T, text, name string) string {
	t.Helper()
	for _, l := range strings.Split(text, "\n") {
		if f := strings.Fields(l); len(f) > 1 && f[1] == name {
			return l
		}
	}
	t.Fatalf("no line for check %q in:\n%s", name, text)
	return ""
}

// statuses maps each check name of a report to its status.
func statuses(text string) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(text, "\n") {
		if f := strings.Fields(l); strings.HasPrefix(l, "  ") && len(f) > 1 {
			m[f[1]] = f[0]
		}
	}
	return m
}

// migratedDatabase applies the migrations (schema and the four formulas) to dbURL.
func migratedDatabase(t *testing.T, dbURL string) {
	t.Helper()
	cfg, err := config.Load(lookupMap(map[string]string{"DATABASE_URL": dbURL}))
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(t.Context(), cfg, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// withPassword puts password in the user part of a PostgreSQL URL (the test server
// trusts local connections, so any password is accepted).
func withPassword(t *testing.T, raw, password string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), password)
	return u.String()
}

// smtpServer is a minimal SMTP peer: it greets, answers EHLO and QUIT, and counts the
// sessions that ended with QUIT.
type smtpServer struct {
	host, port string
	quits      atomic.Int32
}

func startSMTP(t *testing.T, greeting string) *smtpServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	s := &smtpServer{}
	s.host, s.port, _ = net.SplitHostPort(ln.Addr().String())
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				fmt.Fprint(c, greeting)
				rd := bufio.NewReader(c)
				for {
					line, err := rd.ReadString('\n')
					if err != nil {
						return
					}
					switch verb, _, _ := strings.Cut(strings.TrimSpace(line), " "); verb {
					case "EHLO", "HELO":
						fmt.Fprint(c, "250 mail.test\r\n")
					case "QUIT":
						s.quits.Add(1)
						fmt.Fprint(c, "221 2.0.0 Bye\r\n")
						return
					default:
						fmt.Fprint(c, "502 5.5.2 Error: command not recognized\r\n")
					}
				}
			}()
		}
	}()
	return s
}

// startOpenAI is an OpenAI-compatible peer answering GET /v1/models with status when
// it receives key, 401 otherwise; it counts the requests that carried the key.
func startOpenAI(t *testing.T, key string, status int) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var authorised atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/v1/models" {
			t.Errorf("openai peer got %s %s", r.Method, r.URL.Path)
			http.NotFound(w, r)
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+key {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		authorised.Add(1)
		w.WriteHeader(status)
		fmt.Fprint(w, `{"object":"list","data":[{"id":"gpt-4o-mini","object":"model"}]}`)
	}))
	t.Cleanup(srv.Close)
	return srv, &authorised
}

// Every dependency configured and answering: PostgreSQL (with a password in its URL),
// Redis, an SMTP server and an OpenAI-compatible API. Exit 0, every check passes, and
// the peers saw the checks.
func TestDiagnoseAllPass(t *testing.T) {
	const pgPassword, apiKey = "pg-pass-7f3e9a1c", "sk-live-pass-key-0123456789"
	dbURL := withPassword(t, servicetest.Postgres(t), pgPassword)
	migratedDatabase(t, dbURL)
	_ = servicetest.RedisPrefix(t)
	mail := startSMTP(t, "220 mail.test ESMTP ready\r\n")
	ai, authorised := startOpenAI(t, apiKey, http.StatusOK)

	code, text := runDiagnose(t, diagnoseEnv(map[string]string{
		"DATABASE_URL": dbURL, "REDIS_URL": servicetest.RedisURL(),
		"MAIL_SERVER": mail.host, "MAIL_PORT": mail.port,
		"OPENAI_API_KEY": apiKey, "OPENAI_API_BASE": ai.URL + "/v1",
	}))
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, text)
	}
	if !strings.HasPrefix(text, "PASS: 7/7 checks pass at ") {
		t.Errorf("overall line:\n%s", text)
	}
	want := map[string]string{"config": "pass", "database": "pass", "redis": "pass", "SECRET_KEY": "pass",
		"JWT_SECRET_KEY": "pass", "mail": "pass", "openai": "pass"}
	if got := statuses(text); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("statuses %v, want %v:\n%s", got, want, text)
	}
	for name, parts := range map[string][]string{
		"config":         {"production"},
		"database":       {"postgres://", ":xxxxx@", "4 formulas"},
		"redis":          {servicetest.RedisURL()},
		"SECRET_KEY":     {"set and strong"},
		"mail":           {"smtp://" + net.JoinHostPort(mail.host, mail.port)},
		"openai":         {ai.URL + "/v1 model gpt-4o-mini, key set"},
		"JWT_SECRET_KEY": {"set and strong"},
	} {
		line := reportLine(t, text, name)
		for _, p := range parts {
			if !strings.Contains(line, p) {
				t.Errorf("%s line lacks %q: %s", name, p, line)
			}
		}
	}
	for _, secret := range []string{pgPassword, apiKey, goodSecret, goodJWTSecret} {
		if strings.Contains(text, secret) {
			t.Errorf("diagnose printed %q:\n%s", secret, text)
		}
	}
	// Not even a few characters of a secret, nor its length.
	for _, secret := range []string{goodSecret, goodJWTSecret, apiKey} {
		for _, part := range []string{secret[:4], secret[len(secret)-4:], fmt.Sprint(len(secret), " characters")} {
			if strings.Contains(text, part) {
				t.Errorf("diagnose printed %q of a secret:\n%s", part, text)
			}
		}
	}
	if authorised.Load() != 1 || mail.quits.Load() != 1 {
		t.Errorf("openai peer saw %d authorised requests, SMTP peer %d QUITs; want 1 each", authorised.Load(), mail.quits.Load())
	}
}

// TestDiagnoseFailsAndMasksCredentials: unreachable services fail the diagnosis (exit 1),
// each on the line of its check, and no password or key appears in the output.
func TestDiagnoseFailsAndMasksCredentials(t *testing.T) {
	dead := servicetest.RefusingPort(t)
	code, text := runDiagnose(t, diagnoseEnv(map[string]string{
		"DATABASE_URL":    fmt.Sprintf("postgres://nexus:pg-s3cret-pw@127.0.0.1:%d/nexus?connect_timeout=2&sslpassword=pg-query-s3cret", dead),
		"REDIS_URL":       fmt.Sprintf("redis://:redis-s3cret-pw@127.0.0.1:%d/0", dead),
		"DB_POOL_TIMEOUT": "2",
		"MAIL_SERVER":     "127.0.0.1", "MAIL_PORT": fmt.Sprint(dead),
		"OPENAI_API_KEY": "sk-live-s3cret-key-0123456789", "OPENAI_API_BASE": fmt.Sprintf("http://127.0.0.1:%d/v1", dead),
	}))
	if code != 1 {
		t.Fatalf("diagnose exit %d, want 1:\n%s", code, text)
	}
	for _, secret := range []string{"pg-s3cret-pw", "pg-query-s3cret", "redis-s3cret-pw", "sk-live-s3cret-key-0123456789", goodSecret, goodJWTSecret} {
		if strings.Contains(text, secret) {
			t.Fatalf("diagnose printed %q:\n%s", secret, text)
		}
	}
	if !strings.HasPrefix(text, "FAIL: 3/7 checks pass") {
		t.Errorf("overall line:\n%s", text)
	}
	want := map[string]string{"config": "pass", "database": "fail", "redis": "fail", "SECRET_KEY": "pass",
		"JWT_SECRET_KEY": "pass", "mail": "fail", "openai": "fail"}
	if got := statuses(text); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("statuses %v, want %v:\n%s", got, want, text)
	}
	for name, part := range map[string]string{
		"database": "connection refused", "redis": "connection refused", "mail": "connection refused", "openai": "connection refused",
	} {
		if line := reportLine(t, text, name); !strings.Contains(line, part) {
			t.Errorf("%s line lacks %q: %s", name, part, line)
		}
	}
	if line := reportLine(t, text, "database"); !strings.Contains(line, "sslpassword=xxxxx") {
		t.Errorf("database target not shown redacted: %s", line)
	}
}

// A configuration error is the single failing check, on one line, and a password
// quoted by the error (a malformed REDIS_URL) is hidden.
func TestDiagnoseConfigError(t *testing.T) {
	_, cfgErr := config.Load(lookupMap(map[string]string{
		"PORT": "not-a-port", "REDIS_URL": "redis://:cfg-s3cret-pw@cache:port x/0",
	}))
	if cfgErr == nil {
		t.Fatal("config accepted")
	}
	var out bytes.Buffer
	if code := Run(t.Context(), nil, cfgErr, &out); code != 1 {
		t.Fatalf("exit %d:\n%s", code, out.String())
	}
	text := out.String()
	if strings.Contains(text, "cfg-s3cret-pw") {
		t.Fatalf("diagnose printed the Redis password:\n%s", text)
	}
	if !strings.HasPrefix(text, "FAIL: 0/1 checks pass") || strings.Count(text, "\n") != 2 {
		t.Errorf("want the overall line and one check line:\n%s", text)
	}
	line := reportLine(t, text, "config")
	for _, p := range []string{"fail", "PORT", "REDIS_URL", "redis://xxxxx@cache"} {
		if !strings.Contains(line, p) {
			t.Errorf("config line lacks %q: %s", p, line)
		}
	}
}

// The database going away through a real connection cut fails the diagnosis on the
// database line alone; once it is back the diagnosis passes again.
func TestDiagnoseDatabaseCut(t *testing.T) {
	dbURL := servicetest.Postgres(t)
	migratedDatabase(t, dbURL)
	u, _ := url.Parse(dbURL)
	proxy := servicetest.StartProxy(t, u.Host)
	u.Host = proxy.Addr()
	q := u.Query()
	q.Set("connect_timeout", "2")
	u.RawQuery = q.Encode()
	env := diagnoseEnv(map[string]string{"DATABASE_URL": u.String(), "DB_POOL_TIMEOUT": "2"})

	if code, text := runDiagnose(t, env); code != 0 || statuses(text)["database"] != "pass" {
		t.Fatalf("through the proxy: exit %d:\n%s", code, text)
	}
	proxy.Cut()
	code, text := runDiagnose(t, env)
	if code != 1 || !strings.HasPrefix(text, "FAIL:") {
		t.Fatalf("database cut: exit %d, want 1:\n%s", code, text)
	}
	for name, status := range statuses(text) {
		if (name == "database") != (status == "fail") {
			t.Errorf("check %s is %s with only the database cut:\n%s", name, status, text)
		}
	}
	proxy.Restore()
	if code, text := runDiagnose(t, env); code != 0 {
		t.Fatalf("database restored: exit %d:\n%s", code, text)
	}
}

// A reachable database without the schema fails, saying how to create it; so does an
// SQLite file never migrated.
func TestDiagnoseSchemaMissing(t *testing.T) {
	for name, dbURL := range map[string]string{
		"postgres": servicetest.Postgres(t),
		"sqlite":   "sqlite://" + filepath.Join(t.TempDir(), "empty.db"),
	} {
		t.Run(name, func(t *testing.T) {
			code, text := runDiagnose(t, diagnoseEnv(map[string]string{"DATABASE_URL": dbURL}))
			line := reportLine(t, text, "database")
			if code != 1 || !strings.HasPrefix(line, "  fail") || !strings.Contains(line, "schema missing") {
				t.Fatalf("exit %d:\n%s", code, text)
			}
		})
	}
}

// In development with nothing configured but a migrated SQLite file, the optional
// items and the secrets made up for the run warn, and the exit code is 0.
func TestDiagnoseNotConfiguredWarns(t *testing.T) {
	dbURL := "sqlite://" + filepath.Join(t.TempDir(), "n.db")
	migratedDatabase(t, dbURL)
	code, text := runDiagnose(t, map[string]string{"DATABASE_URL": dbURL})
	if code != 0 || !strings.HasPrefix(text, "WARN: 2/7 checks pass") {
		t.Fatalf("exit %d:\n%s", code, text)
	}
	want := map[string]string{"config": "pass", "database": "pass", "redis": "warn", "SECRET_KEY": "warn",
		"JWT_SECRET_KEY": "warn", "mail": "warn", "openai": "warn"}
	if got := statuses(text); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("statuses %v, want %v:\n%s", got, want, text)
	}
	for name, part := range map[string]string{
		"config": "development", "database": "4 formulas", "redis": "not configured", "mail": "not configured",
		"openai": "not configured", "SECRET_KEY": "random value",
	} {
		if line := reportLine(t, text, name); !strings.Contains(line, part) {
			t.Errorf("%s line lacks %q: %s", name, part, line)
		}
	}
}

// Weak secrets fail the diagnosis even where development accepts them.
func TestDiagnoseWeakSecrets(t *testing.T) {
	dbURL := "sqlite://" + filepath.Join(t.TempDir(), "n.db")
	migratedDatabase(t, dbURL)
	code, text := runDiagnose(t, map[string]string{
		"DATABASE_URL": dbURL, "SECRET_KEY": "dev-secret-key", "JWT_SECRET_KEY": "short-but-unique",
	})
	_, repetitive := runDiagnose(t, map[string]string{"DATABASE_URL": dbURL, "SECRET_KEY": strings.Repeat("ab", 32)})
	if line := reportLine(t, repetitive, "SECRET_KEY"); !strings.HasPrefix(line, "  fail") || !strings.Contains(line, "set, weak: is repetitive") || strings.Contains(line, "abab") {
		t.Errorf("repetitive SECRET_KEY line: %s", line)
	}
	if code != 1 {
		t.Fatalf("exit %d:\n%s", code, text)
	}
	for name, part := range map[string]string{"SECRET_KEY": "published default", "JWT_SECRET_KEY": "set, weak: is shorter than 32 characters"} {
		line := reportLine(t, text, name)
		if !strings.HasPrefix(line, "  fail") || !strings.Contains(line, part) {
			t.Errorf("%s line: %s", name, line)
		}
	}
	if strings.Contains(text, "dev-secret-key") || strings.Contains(text, "short-but-unique") {
		t.Errorf("a secret was printed:\n%s", text)
	}
}

// An OpenAI key the API rejects, an SMTP port that does not speak SMTP and a Redis
// server killed mid-run fail their checks.
func TestDiagnoseRejectedDependencies(t *testing.T) {
	ai, authorised := startOpenAI(t, "sk-the-right-key-000000", http.StatusOK)
	notSMTP := startSMTP(t, "HTTP/1.1 400 Bad Request\r\n\r\n")
	redisSrv := servicetest.StartRedisServer(t)
	dbURL := "sqlite://" + filepath.Join(t.TempDir(), "n.db")
	migratedDatabase(t, dbURL)
	env := diagnoseEnv(map[string]string{
		"DATABASE_URL": dbURL, "REDIS_URL": redisSrv.URL(),
		"MAIL_SERVER": notSMTP.host, "MAIL_PORT": notSMTP.port,
		"OPENAI_API_KEY": "sk-a-wrong-key-111111111", "OPENAI_API_BASE": ai.URL + "/v1",
	})
	code, text := runDiagnose(t, env)
	if code != 1 || statuses(text)["redis"] != "pass" {
		t.Fatalf("exit %d:\n%s", code, text)
	}
	for name, part := range map[string]string{"openai": "unexpected status 401", "mail": "no SMTP greeting"} {
		line := reportLine(t, text, name)
		if !strings.HasPrefix(line, "  fail") || !strings.Contains(line, part) {
			t.Errorf("%s line: %s", name, line)
		}
	}
	if authorised.Load() != 0 || strings.Contains(text, "sk-a-wrong-key-111111111") {
		t.Errorf("wrong key accepted or printed:\n%s", text)
	}

	redisSrv.Kill()
	code, text = runDiagnose(t, env)
	if line := reportLine(t, text, "redis"); code != 1 || !strings.HasPrefix(line, "  fail") {
		t.Errorf("redis killed: exit %d:\n%s", code, text)
	}
}

// A diagnosis whose context ends reports the checks as interrupted and fails.
func TestDiagnoseInterrupted(t *testing.T) {
	// Accepts connections and never greets: the mail check waits until the context ends.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	cfg, err := config.Load(lookupMap(diagnoseEnv(map[string]string{
		"DATABASE_URL": "sqlite://" + filepath.Join(t.TempDir(), "n.db"), "MAIL_SERVER": host, "MAIL_PORT": port,
	})))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	var out bytes.Buffer
	start := time.Now()
	code := Run(ctx, cfg, nil, &out)
	if code != 1 || time.Since(start) > 3*time.Second {
		t.Fatalf("exit %d after %v:\n%s", code, time.Since(start), out.String())
	}
	if line := reportLine(t, out.String(), "mail"); !strings.Contains(line, "interrupted") {
		t.Errorf("mail line: %s", line)
	}
}

func TestScrub(t *testing.T) {
	cfg := &config.Config{
		SecretKey: "secret-key-value", DatabaseURL: "postgres://u:p%40ss@db/x?password=q%26pw",
		RedisURL: "redis://:r3dis@cache:6379/0",
	}
	secrets := configSecrets(cfg)
	for in, want := range map[string]string{
		"dial postgres://u:p%40ss@db/x failed":     "dial postgres://u:xxxxx@db/x failed",
		"auth p@ss rejected, key secret-key-value": "auth xxxxx rejected, key xxxxx",
		"query password=q%26pw and q&pw":           "query password=xxxxx and xxxxx",
		"redis :r3dis@cache":                       "redis :xxxxx@cache",
		"nothing secret here":                      "nothing secret here",
	} {
		if got := redact.Scrub(in, secrets); got != want {
			t.Errorf("scrub(%q) = %q, want %q", in, got, want)
		}
	}
}
