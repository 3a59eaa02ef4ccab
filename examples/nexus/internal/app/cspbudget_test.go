package app

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// cspReport is a legacy report-uri body whose document names tag.
func cspReport(tag string) string {
	return `{"csp-report":{"document-uri":"https://nexus.test/` + tag + `","violated-directive":"script-src","effective-directive":"script-src","blocked-uri":"inline","disposition":"enforce","original-policy":"default-src 'none'"}}`
}

// TestCSPReportsBudgetedPerClient: one address spamming reports, one at a time and in
// Reporting API batches, gets 429 past its budget and a few reports logged; another
// client's report sent afterwards is still accepted and logged.
func TestCSPReportsBudgetedPerClient(t *testing.T) {
	s := newTestServer(t, sqliteBackend(t), map[string]string{"TRUSTED_PROXIES": "127.0.0.1"})
	const spammer, honest = "198.51.100.66", "192.0.2.7"
	csp := func(ip, ctype, body string) int {
		return s.request("POST", cspReportPath, "", body, "Content-Type", ctype, "X-Forwarded-For", ip, "Sec-Fetch-Site", "cross-site").status
	}
	var batch []string
	for i := range 50 {
		batch = append(batch, `{"type":"csp-violation","age":1,"url":"https://nexus.test/spam-batch","body":{"documentURL":"https://nexus.test/spam-batch-`+fmt.Sprint(i)+`","effectiveDirective":"img-src","blockedURL":"https://evil.example/x","disposition":"enforce"}}`)
	}
	var statuses []int
	statuses = append(statuses, csp(spammer, "application/reports+json", "["+strings.Join(batch, ",")+"]"))
	for i := range 400 {
		statuses = append(statuses, csp(spammer, "application/csp-report", cspReport(fmt.Sprint("spam-", i))))
	}
	if count(statuses, http.StatusNoContent) != 5 || count(statuses, http.StatusTooManyRequests) != 396 {
		t.Fatalf("spammer: %d accepted, %d refused with 429 of %d", count(statuses, http.StatusNoContent), count(statuses, http.StatusTooManyRequests), len(statuses))
	}
	if got := csp(honest, "application/csp-report", cspReport("honest-page")); got != http.StatusNoContent {
		t.Fatalf("the other client's report: %d, want 204", got)
	}
	logs := s.logs.String()
	if !strings.Contains(logs, "https://nexus.test/honest-page") {
		t.Fatal("the other client's report was not logged")
	}
	if n := strings.Count(logs, `"msg":"csp violation"`); n > 25 {
		t.Fatalf("%d reports of the spammer logged, want at most 25 a minute", n-1)
	}
}
