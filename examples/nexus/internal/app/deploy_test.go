package app

import (
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/nexus-reussite/harden/examples/nexus/internal/config"
)

// metricName matches the metric names used in PromQL expressions of the deploy files.
var metricName = regexp.MustCompile(`\b((?:harden|process|go)_[a-z0-9_]+)`)

// TestDeployFilesUseExportedMetrics: every metric the alert rules and the dashboard query
// is one the running server exports (histograms by their _bucket series), so a renamed
// metric cannot silently disable an alert.
func TestDeployFilesUseExportedMetrics(t *testing.T) {
	s := newTestServer(t, sqliteBackend(t), nil)
	// Exercise the routes so every metric family has series.
	s.expect(http.StatusOK, "GET", "/api/formulas", "", nil)
	s.expect(http.StatusOK, "GET", "/api/formulas", "", nil)
	s.login(demoStudent, demoPassword)
	exported := string(s.expect(http.StatusOK, "GET", "/metrics", "", nil).body)

	rules, err := os.ReadFile("../../deploy/prometheus/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	var exprs []string
	for _, line := range strings.Split(string(rules), "\n") {
		if e, ok := strings.CutPrefix(strings.TrimSpace(line), "expr:"); ok {
			exprs = append(exprs, e)
		}
	}
	raw, err := os.ReadFile("../../deploy/grafana/nexus-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}
	if len(dash.Panels) < 8 {
		t.Fatalf("dashboard has %d panels", len(dash.Panels))
	}
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
		}
	}
	if len(exprs) < 10 {
		t.Fatalf("found only %d expressions", len(exprs))
	}
	for _, e := range exprs {
		for _, m := range metricName.FindAllString(e, -1) {
			if m == "harden_cache_" || strings.HasSuffix(m, "_") {
				continue // a regular expression over the cache family
			}
			if !strings.Contains(exported, "\n"+m+"{") && !strings.Contains(exported, "\n"+m+" ") {
				t.Errorf("%q is queried by %q but not exported", m, e)
			}
		}
	}
	if !strings.Contains(exported, "\nharden_cache_") {
		t.Error("no harden_cache_ metric exported")
	}
}

// TestDeployFilesSetKnownVariables: every variable the Kubernetes ConfigMap and Secret
// set is one .env.example documents, so a misspelt name cannot silently keep a default.
func TestDeployFilesSetKnownVariables(t *testing.T) {
	known, err := config.ReadDotenv("../../.env.example")
	if err != nil {
		t.Fatal(err)
	}
	entry := regexp.MustCompile(`^  ([A-Z][A-Z0-9_]*):`)
	for _, f := range []string{"../../deploy/k8s/configmap.yaml", "../../deploy/k8s/secret.example.yaml"} {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, line := range strings.Split(string(raw), "\n") {
			if m := entry.FindStringSubmatch(line); m != nil {
				n++
				if _, ok := known[m[1]]; !ok {
					t.Errorf("%s sets %s, which .env.example does not document", f, m[1])
				}
			}
		}
		if n < 4 {
			t.Errorf("%s: only %d variables found", f, n)
		}
	}
}
