package app

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/nexus-reussite/harden/examples/nexus/internal/config"
)

// readDeploy reads a file of deploy/.
func readDeploy(t *testing.T, name string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("../../deploy", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// manifestVars reads the "  NAME: value" entries of a ConfigMap or Secret, unquoted.
func manifestVars(t *testing.T, name string) map[string]string {
	t.Helper()
	entry := regexp.MustCompile(`(?m)^  ([A-Z][A-Z0-9_]*): (.*)$`)
	vars := map[string]string{}
	for _, m := range entry.FindAllStringSubmatch(readDeploy(t, name), -1) {
		v := strings.TrimSpace(m[2])
		if u, err := strconv.Unquote(v); err == nil {
			v = u
		}
		vars[m[1]] = v
	}
	return vars
}

// TestDeployKeepsMetricsPrivate: the Kubernetes manifests, with real secrets in place of
// the example's placeholders, make a valid production configuration whose metrics are on
// the port Prometheus scrapes and nowhere else: the Service and the Ingress route to the
// API's port alone, which answers /metrics 404, and the scrape job sends the token.
func TestDeployKeepsMetricsPrivate(t *testing.T) {
	env := manifestVars(t, "k8s/configmap.yaml")
	for k, v := range manifestVars(t, "k8s/secret.example.yaml") {
		env[k] = v
	}
	env["SECRET_KEY"], env["JWT_SECRET_KEY"], env["HEALTH_TOKEN"], env["METRICS_TOKEN"] = goodSecret, goodJWTSecret, healthToken, metricsToken
	env["DATABASE_URL"], env["REDIS_URL"] = "sqlite://"+filepath.Join(t.TempDir(), "nexus.db"), ""
	cfg, err := config.Load(lookupMap(env))
	if err != nil {
		t.Fatalf("the manifests' configuration: %v", err)
	}
	if !cfg.IsProduction() || cfg.MetricsAddr == "" {
		t.Fatalf("production %v, METRICS_ADDR %q", cfg.IsProduction(), cfg.MetricsAddr)
	}
	port := cfg.MetricsAddr[strings.LastIndex(cfg.MetricsAddr, ":")+1:]

	deployment := readDeploy(t, "k8s/deployment.yaml")
	for _, want := range []string{
		"{name: metrics, containerPort: " + port + ", protocol: TCP}", // the container's metrics port
		`prometheus.io/port: "` + port + `"`,                          // the port scraped
		"- {port: metrics, protocol: TCP}",                            // opened to monitoring only
		"- {name: http, port: 80, targetPort: http, protocol: TCP}",   // the Service's only port
	} {
		if !strings.Contains(deployment, want) {
			t.Errorf("deployment.yaml lacks %q", want)
		}
	}
	if n := strings.Count(deployment, "targetPort:"); n != 1 {
		t.Errorf("the Service has %d ports, want the http one alone", n)
	}
	ingress := readDeploy(t, "k8s/ingress.yaml")
	if strings.Count(ingress, "port: {name: http}") != 1 || strings.Contains(ingress, "metrics}") || strings.Contains(ingress, port) {
		t.Errorf("the Ingress must route to the http port alone:\n%s", ingress)
	}
	scrape := readDeploy(t, "prometheus/prometheus.yml")
	for _, want := range []string{"job_name: nexus-api", "credentials_file:", "__meta_kubernetes_pod_annotation_prometheus_io_port", "- alerts.yml"} {
		if !strings.Contains(scrape, want) {
			t.Errorf("prometheus.yml lacks %q", want)
		}
	}
	if !regexp.MustCompile(`(?m)^ENV .*\bMETRICS_ADDR=:\d+`).MatchString(readDeploy(t, "Dockerfile")) {
		t.Error("the Dockerfile's production image does not set METRICS_ADDR")
	}

	// The server of that configuration, behind the ingress: no metrics on the API's port.
	// (The test client is the ingress; the manifests' "2 per second" is for people.)
	env["TRUSTED_PROXIES"] = "127.0.0.1"
	delete(env, "RATELIMIT_DEFAULT")
	s := newTestServer(t, sqliteBackend(t), env)
	viaIngress := []string{"Host", env["ALLOWED_HOSTS"], "X-Forwarded-Proto", "https", "X-Forwarded-For", "203.0.113.7"}
	s.expect(http.StatusOK, "GET", "/api/formulas", "", nil, viaIngress...)
	for _, tok := range []string{"", metricsToken} {
		s.expect(http.StatusNotFound, "GET", "/metrics", tok, nil, viaIngress...)
	}
}
