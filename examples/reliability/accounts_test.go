package reliability

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// accountEnv shortens the account settings so the test sees them act within seconds.
var accountEnv = map[string]string{
	"LOGIN_THROTTLE_BASE_DELAY": "5", "LOGIN_THROTTLE_MAX_DELAY": "20", "REFRESH_GRACE_PERIOD": "6",
}

// TestAbuseAccounts runs the account protections against the real binary, on PostgreSQL
// + Redis and on SQLite.
func TestAbuseAccounts(t *testing.T) {
	sec := section(t, "Abuse: accounts",
		`The binary with LOGIN_THROTTLE_BASE_DELAY=5s and REFRESH_GRACE_PERIOD=6s, on PostgreSQL + Redis
and on SQLite. Claims: 30 addresses guessing one account's password once each get 401 for the
first 6 guesses and 429 with Retry-After for the other 24 (no password check); the right password
is 429 too until the delay has passed, then 200. 30 parallel refreshes of one refresh token all
get a pair whose access token works; the same token presented after the grace window is 401 and
revokes the session. "password" and "12345678" are 422 on sign-up; a full-width twin of an
existing address is 409; a Latin address with a Cyrillic letter and a name with U+202E are 400.`)
	pg := startStack(t, false, accountEnv)
	env := map[string]string{"DATABASE_URL": "sqlite://" + filepath.Join(t.TempDir(), "nexus.db")}
	for k, v := range accountEnv {
		env[k] = v
	}
	lite := newAPI(startNexus(t, env).URL)
	t.Cleanup(lite.close)
	for i, b := range []struct {
		name string
		a    *api
	}{{"PostgreSQL + Redis", pg.api}, {"SQLite", lite}} {
		accountThrottle(t, sec, b.name, b.a, i)
		accountRefresh(t, sec, b.name, b.a, i)
		accountIdentity(t, sec, b.name, b.a, i)
	}
}

// accountThrottle: 30 addresses, one guess each, then the right password.
func accountThrottle(t *testing.T, sec *Section, name string, a *api, n int) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	wrong := map[string]string{"email": demoStudent, "password": "wrong-password"}
	right := map[string]string{"email": demoStudent, "password": demoPassword}
	counts := map[int]int{}
	start := time.Now()
	for i := range 30 {
		r := a.call(ctx, "POST", "/api/auth/login", fmt.Sprintf("198.18.%d.%d", n, i+1), "", wrong)
		counts[r.status]++
		if r.status == http.StatusTooManyRequests && r.header.Get("Retry-After") == "" {
			t.Errorf("%s: 429 without Retry-After", name)
		}
	}
	took := time.Since(start)
	ok := counts[401] == 6 && counts[429] == 24
	sec.Addf(name+": 30 guesses from 30 addresses", "%d × 401, %d × 429 in %s (%s)", counts[401], counts[429], took.Round(time.Millisecond), claimed(ok))
	if !ok {
		t.Errorf("%s: statuses %v", name, counts)
	}
	r := a.call(ctx, "POST", "/api/auth/login", fmt.Sprintf("198.18.%d.200", n), "", right)
	wait, _ := strconv.Atoi(r.header.Get("Retry-After"))
	ok = r.status == http.StatusTooManyRequests && wait >= 1 && wait <= 5
	sec.Addf(name+": right password during the backoff", "%d, Retry-After %d s (%s)", r.status, wait, claimed(ok))
	if !ok {
		t.Errorf("%s: right password during the backoff: %s", name, r)
	}
	time.Sleep(time.Duration(wait) * time.Second)
	r = a.call(ctx, "POST", "/api/auth/login", fmt.Sprintf("198.18.%d.201", n), "", right)
	sec.Addf(name+": right password after Retry-After", "%d (%s)", r.status, claimed(r.status == http.StatusOK))
	if r.status != http.StatusOK {
		t.Errorf("%s: right password after the wait: %s", name, r)
	}
}

// accountRefresh: 30 parallel refreshes of one token, then reuse after the grace window.
func accountRefresh(t *testing.T, sec *Section, name string, a *api, n int) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	first := a.login(t, fmt.Sprintf("198.19.%d.1", n), demoParent, demoPassword)
	const tabs = 30
	replies := make([]reply, tabs)
	var wg sync.WaitGroup
	for i := range tabs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			replies[i] = a.call(ctx, "POST", "/api/auth/refresh", fmt.Sprintf("198.19.%d.%d", n, i+10), "", map[string]string{"refresh_token": first.RefreshToken})
		}()
	}
	wg.Wait()
	refreshed, working := 0, 0
	var last tokens
	for i, r := range replies {
		if r.status != http.StatusOK {
			t.Errorf("%s: refresh %d: %s", name, i, r)
			continue
		}
		refreshed++
		if err := r.decode(&last); err != nil {
			t.Fatal(err)
		}
		if a.call(ctx, "GET", "/api/auth/me", fmt.Sprintf("198.19.%d.%d", n, i+10), last.AccessToken, nil).status == http.StatusOK {
			working++
		}
	}
	ok := refreshed == tabs && working == tabs
	sec.Addf(name+": 30 parallel refreshes of one token", "%d succeeded, %d new access tokens work (%s)", refreshed, working, claimed(ok))
	if !ok {
		t.Errorf("%s: %d refreshed, %d work", name, refreshed, working)
	}
	time.Sleep(8 * time.Second) // past the 6 s grace window
	reuse := a.call(ctx, "POST", "/api/auth/refresh", fmt.Sprintf("198.19.%d.2", n), "", map[string]string{"refresh_token": first.RefreshToken})
	me := a.call(ctx, "GET", "/api/auth/me", fmt.Sprintf("198.19.%d.3", n), last.AccessToken, nil)
	ok = reuse.status == http.StatusUnauthorized && me.status == http.StatusUnauthorized
	sec.Addf(name+": the token again after the grace window", "%d; a token of the session then gets %d (%s)", reuse.status, me.status, claimed(ok))
	if !ok {
		t.Errorf("%s: reuse after the window %s, then /me %s", name, reuse, me)
	}
}

// accountIdentity: guessable passwords, look-alike addresses and control characters.
func accountIdentity(t *testing.T, sec *Section, name string, a *api, n int) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ip := 0
	register := func(email, password, first string) reply {
		ip++
		return a.call(ctx, "POST", "/api/auth/register", fmt.Sprintf("198.20.%d.%d", n, ip), "", map[string]string{
			"email": email, "password": password, "first_name": first, "last_name": "Haddad", "role": "parent",
		})
	}
	const strong = "violet-kayak-marmelade"
	for _, c := range []struct {
		what                   string
		email, password, first string
		want                   int
	}{
		{`password "password"`, "sami.haddad@example.tn", "password", "Sami", 422},
		{`password "12345678"`, "sami.haddad@example.tn", "12345678", "Sami", 422},
		{"a strong password", "sami.haddad@example.tn", strong, "Sami", 201},
		{"its full-width twin", "ｓａｍｉ.ｈａｄｄａｄ@example.tn", strong, "Sami", 409},
		{"a Cyrillic і in a Latin address", "adm\u0456n@example.tn", strong, "Sami", 400},
		{"U+202E in a name", "rtl.haddad@example.tn", strong, "Sami\u202eimaS", 400},
		{"ESC in a name", "esc.haddad@example.tn", strong, "\x1b[2JSami", 400},
	} {
		r := register(c.email, c.password, c.first)
		ok := r.status == c.want && (c.want < 400 || r.problemJSON())
		sec.Addf(name+": sign-up with "+c.what, "%d (%s)", r.status, claimed(ok))
		if !ok {
			t.Errorf("%s: %s: %s, want %d", name, c.what, r, c.want)
		}
	}
}

// claimed is the verdict of a figure.
func claimed(ok bool) string {
	if ok {
		return "as claimed"
	}
	return "NOT as claimed"
}

// TestAbuseProductionSecrets: the binary refuses weak production secrets and an origin
// with credentials, naming the variable and printing no part of the value; diagnose says
// only whether each secret is set and strong.
func TestAbuseProductionSecrets(t *testing.T) {
	sec := section(t, "Abuse: production secrets",
		`The binary in production (APP_ENV=production) with one bad value at a time. Claims: a
repeated, sequential or placeholder SECRET_KEY / JWT_SECRET_KEY and a CORS_ORIGINS entry with
user:password@ stop it with exit 2 and a message naming the variable, in which no 6 characters of
the secret (or of the user:password part) appear; "nexus diagnose" with strong secrets says "set and strong" and prints none of them.`)
	bin := nexusBinary(t)
	const goodSecret, goodJWT = "5d0c2a9e71f4b3860e6d15a2c7b94f38e0a6d2c1", "b7e13f08c4a95d26e1f0739ab84c5d62f1e0a937"
	run := func(env map[string]string, args ...string) (int, string) {
		dir := t.TempDir()
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + dir, "APP_ENV=production", "ALLOWED_HOSTS=api.example.com",
			"DATABASE_URL=sqlite://" + filepath.Join(dir, "n.db"), "PORT=1"}
		vars := map[string]string{"SECRET_KEY": goodSecret, "JWT_SECRET_KEY": goodJWT, "METRICS_TOKEN": "9c3e71a0f4b2d6e8a1c5b7d90e2f4a6c"}
		for k, v := range env {
			vars[k] = v
		}
		for k, v := range vars {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return code, out.String()
	}
	for _, c := range []struct{ name, value, secret string }{
		{"SECRET_KEY", strings.Repeat("a", 64), strings.Repeat("a", 64)},
		{"JWT_SECRET_KEY", strings.Repeat("0123456789abcdef", 4), strings.Repeat("0123456789abcdef", 4)},
		{"JWT_SECRET_KEY", "your-super-secret-jwt-key-here!!", "your-super-secret-jwt-key-here!!"},
		{"SECRET_KEY", "this-is-the-secret-we-use-on-our-api-01", "this-is-the-secret-we-use-on-our-api-01"},
		{"CORS_ORIGINS", "https://app.example.com,https://admin:Pa55-w0rd-x@app.example.com", "admin:Pa55-w0rd-x"},
	} {
		code, out := run(map[string]string{c.name: c.value})
		ok := code == 2 && strings.Contains(out, c.name+": ") && !sharesSix(out, c.secret)
		line, _, _ := strings.Cut(strings.TrimSpace(out), "\n")
		sec.Addf(c.name+" "+strconv.Quote(c.value[:min(12, len(c.value))]+"…"), "exit %d: %s (%s)", code, line, claimed(ok))
		if !ok {
			t.Errorf("%s=%s: exit %d:\n%s", c.name, c.value, code, out)
		}
	}
	_, out := run(nil, "diagnose")
	ok := strings.Count(out, "set and strong") == 2 && !sharesSix(out, goodSecret) && !sharesSix(out, goodJWT)
	sec.Addf("nexus diagnose with strong secrets", `"set and strong" twice, no 6 characters of a secret printed: %v (%s)`, ok, claimed(ok))
	if !ok {
		t.Errorf("diagnose output:\n%s", out)
	}
}

// sharesSix reports whether out holds any 6 consecutive characters of secret.
func sharesSix(out, secret string) bool {
	for i := 0; i+6 <= len(secret); i++ {
		if strings.Contains(out, secret[i:i+6]) {
			return true
		}
	}
	return false
}
