package app

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/nexus-reussite/harden/examples/nexus/internal/servicetest"
)

// chromiumPath finds the Debian chromium binary (.ci/extra-checks installs it).
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if servicetest.Required() {
		t.Fatalf("chromium not installed and %s=1 (apt-get install chromium)", servicetest.EnvRequireServices)
	}
	t.Skip("chromium not installed; apt-get install chromium (or run .ci/extra-checks) to run the browser test")
	return ""
}

// TestBrowserLoginUnderStrictCSP loads / in headless Chromium under the strict nonce CSP,
// lists the formulas, logs in through the form, and checks that the browser reported no
// CSP violation, error or exception (and the report endpoint received nothing) — then
// injects a script without the nonce to prove such a violation is blocked and caught.
func TestBrowserLoginUnderStrictCSP(t *testing.T) {
	exe := chromiumPath(t)
	s := newTestServer(t, sqliteBackend(t), nil)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	defer cancelTimeout()

	var mu sync.Mutex
	var problems []string
	if err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			problems = append(problems, "exception: "+e.ExceptionDetails.Text)
		case *log.EventEntryAdded:
			if e.Entry.Level == log.EntryLevelError || strings.Contains(e.Entry.Text, "Content Security Policy") {
				problems = append(problems, "console: "+e.Entry.Text)
			}
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError {
				problems = append(problems, "console.error")
			}
		}
	}); err != nil {
		t.Fatalf("browser: %v", err)
	}

	if err := chromedp.Do(ctx,
		chromedp.Navigate(s.srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#formulas li`)),
	); err != nil {
		t.Fatalf("load /: %v", err)
	}
	formulas, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("formulas")))
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("email"), demoStudent),
		chromedp.SendKeys(chromedp.ID("password"), demoPassword),
		chromedp.Click(chromedp.CSS(`#login button`)),
		chromedp.WaitVisible(chromedp.CSS(`body[data-user]`)),
	); err != nil {
		t.Fatalf("login through the form: %v", err)
	}
	status, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("status")))
	if err != nil {
		t.Fatal(err)
	}
	user, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.dataset.user`))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Groupe Réussite", "Combo Révision", "Grand Oral", "Duo Sciences"} {
		if !strings.Contains(formulas, name) {
			t.Errorf("formulas list lacks %q: %q", name, formulas)
		}
	}
	if user != demoStudent || !strings.Contains(status, "Connecté : Youssef Haddad (student)") {
		t.Fatalf("after login: user %q status %q", user, status)
	}
	mu.Lock()
	if len(problems) > 0 {
		t.Fatalf("page problems: %v", problems)
	}
	mu.Unlock()
	if n := s.app.api.CSPReports().Total(); n != 0 {
		t.Fatalf("%d CSP violation reports: %v", n, s.app.api.CSPReports().Recent())
	}

	// Positive control: an inline script without the nonce is blocked and reported.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](
		`(function(){var s=document.createElement('script');s.textContent='window.injected=true';document.body.appendChild(s);return true})()`)); err != nil {
		t.Fatal(err)
	}
	injected, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.injected === true`))
	if err != nil {
		t.Fatal(err)
	}
	if injected {
		t.Fatal("an inline script without nonce ran")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		seen := strings.Join(problems, "\n")
		mu.Unlock()
		if strings.Contains(seen, "violates the following Content Security Policy directive") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the blocked script was not reported by the browser: %q", seen)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
