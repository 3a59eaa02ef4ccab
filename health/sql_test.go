package health

import (
	"context"
	"database/sql"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nexus-reussite/harden/internal/testenv"
)

// A real PostgreSQL behind a TCP proxy: the check passes, fails while the proxy is cut
// (within its timeout, with /ready 503 and nothing leaked to the public), and passes
// again once the proxy is restored.
func TestSQLCheckPostgresDownAndUp(t *testing.T) {
	_, dsn := testenv.PostgresDB(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	proxy := testenv.StartProxy(t, u.Host)
	u.Host = proxy.Addr()
	db, err := sql.Open("pgx", u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	var mu sync.Mutex
	var flips []string
	h := mustNew(t, Config{
		Timeout:     2 * time.Second,
		Checks:      []Check{SQL("postgres", db)},
		DetailCIDRs: []string{"10.9.9.9"},
		OnStatusChange: func(c Change) {
			mu.Lock()
			flips = append(flips, string(c.From)+">"+string(c.To))
			mu.Unlock()
		},
	})
	h.Start(t.Context())
	ctx := context.Background()

	if rep := h.run(ctx); rep.Status != StatusPass {
		t.Fatalf("with the database up: %+v", rep.Checks)
	}
	if code := probe(h.ReadyHandler(), "/ready").Code; code != 200 {
		t.Fatalf("/ready with the database up: %d", code)
	}

	proxy.Cut()
	wantDatabaseDown(t, h)

	proxy.Restore()
	rep := h.run(ctx)
	if rep.Status != StatusPass {
		t.Fatalf("after restore: %+v", rep.Checks)
	}
	if code := probe(h.ReadyHandler(), "/ready").Code; code != 200 {
		t.Errorf("/ready after restore: %d", code)
	}
	if rep.Checks[0].LastErr == nil {
		t.Error("recovered check forgot the outage")
	}
	mu.Lock()
	defer mu.Unlock()
	if got := strings.Join(flips, " "); got != ">pass pass>fail fail>pass" {
		t.Errorf("status changes %q", got)
	}
}

// wantDatabaseDown checks h while its database is unreachable: the check fails within
// its 2 s timeout, /ready is 503 with nothing leaked, and the authorised /health says why.
func wantDatabaseDown(t *testing.T, h *Health) {
	t.Helper()
	rep := h.run(context.Background())
	r := rep.Checks[0]
	if rep.Status != StatusFail || r.Err == nil || r.ComponentType != "datastore" {
		t.Fatalf("with the proxy cut: %+v", r)
	}
	if r.Duration > 2*time.Second+500*time.Millisecond {
		t.Errorf("check ran %v, past its 2s timeout", r.Duration)
	}
	w := probe(h.ReadyHandler(), "/ready")
	if w.Code != 503 || strings.TrimSpace(w.Body.String()) != `{"status":"fail"}` {
		t.Errorf("public /ready with the database down: %d %s", w.Code, w.Body)
	}
	w = probe(h.HealthHandler(), "/health", fromAddr("10.9.9.9:1"))
	if w.Code != 503 || !strings.Contains(w.Body.String(), `"output"`) {
		t.Errorf("authorised /health with the database down: %d %s", w.Code, w.Body)
	}
}
