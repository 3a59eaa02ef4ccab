package cspreport_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/nexus-reussite/harden/security/cspreport"
)

// The endpoint mounted where security.CSPConfig.ReportURI points: a browser's report is
// accepted, and the stored copy has lost the query string of the page it came from.
func Example() {
	reports, err := cspreport.New(cspreport.Config{})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /csp-report", reports)

	req := httptest.NewRequest(http.MethodPost, "/csp-report", strings.NewReader(
		`{"csp-report":{"document-uri":"https://app.example/page?token=1","effective-directive":"script-src-elem","blocked-uri":"https://cdn.evil/x.js","disposition":"enforce"}}`))
	req.Header.Set("Content-Type", "application/csp-report")
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	r := reports.Recent()[0]
	fmt.Println(rec.Code, reports.Total())
	fmt.Println(r.EffectiveDirective, r.BlockedURL, r.DocumentURL)
	// Output:
	// 204 1
	// script-src-elem https://cdn.evil/x.js https://app.example/page
}

// Parse on its own reads both formats; a Reporting API batch keeps only its CSP entries.
func ExampleParse() {
	batch := `[{"type":"csp-violation","url":"https://app.example/","body":{"blockedURL":"inline","effectiveDirective":"style-src-elem","disposition":"report"}},
	           {"type":"deprecation","body":{"id":"x"}}]`
	reps, err := cspreport.Parse("application/reports+json", []byte(batch))
	fmt.Println(len(reps), reps[0].DocumentURL, reps[0].EffectiveDirective, reps[0].Disposition, err)

	_, err = cspreport.Parse("application/csp-report", []byte(`{"not":"a report"}`))
	fmt.Println(err)
	// Output:
	// 1 https://app.example/ style-src-elem report <nil>
	// cspreport: malformed CSP report: no csp-report member
}
