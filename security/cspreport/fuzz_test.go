package cspreport

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse feeds arbitrary media types and bodies to Parse: it either fails with
// ErrMalformed and no reports, or returns at least one report whose strings are bounded,
// valid UTF-8 and free of URL queries, with a directive that maps to a bounded label.
func FuzzParse(f *testing.F) {
	f.Add("application/csp-report", []byte(legacyBody))
	f.Add("application/reports+json", []byte(apiBody))
	f.Add("application/json", []byte(`[{"type":"csp-violation","body":null}]`))
	f.Add("application/json", []byte(`{"csp-report":{"document-uri":1}}`))
	f.Add("application/csp-report; charset=\"", []byte(`{}`))
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		reps, err := Parse(ct, body)
		if err != nil {
			if reps != nil {
				t.Fatal("reports returned with an error")
			}
			return
		}
		if len(reps) == 0 {
			t.Fatal("success without reports")
		}
		for _, r := range reps {
			for _, s := range []string{r.DocumentURL, r.Referrer, r.BlockedURL, r.SourceFile, r.EffectiveDirective, r.OriginalPolicy, r.Disposition, r.Sample} {
				if len(s) > maxField {
					t.Fatalf("field of %d bytes", len(s))
				}
				if !utf8.ValidString(s) {
					t.Fatalf("cut split a UTF-8 sequence: %q", s)
				}
			}
			for _, u := range []string{r.DocumentURL, r.BlockedURL, r.SourceFile, r.Referrer} {
				if strings.ContainsAny(u, "?#") {
					t.Fatalf("query kept in %q", u)
				}
			}
			if l := directiveLabel(r.EffectiveDirective); l != "other" && l != r.EffectiveDirective {
				t.Fatal("label")
			}
		}
	})
}
