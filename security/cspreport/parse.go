package cspreport

import (
	"encoding/json"
	"fmt"
	"mime"
	"strings"
	"time"
)

// Report is one CSP violation, normalised from either report format. URLs lose their
// query and fragment (which may carry tokens) and every string is cut to 512 bytes.
type Report struct {
	DocumentURL        string    `json:"document_url"`
	Referrer           string    `json:"referrer,omitempty"`
	BlockedURL         string    `json:"blocked_url,omitempty"`
	EffectiveDirective string    `json:"effective_directive"`
	OriginalPolicy     string    `json:"original_policy,omitempty"`
	Disposition        string    `json:"disposition"`
	SourceFile         string    `json:"source_file,omitempty"`
	Sample             string    `json:"sample,omitempty"`
	StatusCode         int       `json:"status_code,omitempty"`
	Line               int       `json:"line,omitempty"`
	Column             int       `json:"column,omitempty"`
	Received           time.Time `json:"received"` // set by Handler; zero from Parse
}

// legacyReport is the body of a report-uri report.
type legacyReport struct {
	Body *struct {
		DocumentURI        string `json:"document-uri"`
		Referrer           string `json:"referrer"`
		BlockedURI         string `json:"blocked-uri"`
		ViolatedDirective  string `json:"violated-directive"`
		EffectiveDirective string `json:"effective-directive"`
		OriginalPolicy     string `json:"original-policy"`
		Disposition        string `json:"disposition"`
		SourceFile         string `json:"source-file"`
		ScriptSample       string `json:"script-sample"`
		StatusCode         int    `json:"status-code"`
		LineNumber         int    `json:"line-number"`
		ColumnNumber       int    `json:"column-number"`
	} `json:"csp-report"`
}

// apiReport is one entry of a Reporting API batch.
type apiReport struct {
	Type string `json:"type"`
	URL  string `json:"url"`
	Body *struct {
		DocumentURL        string `json:"documentURL"`
		Referrer           string `json:"referrer"`
		BlockedURL         string `json:"blockedURL"`
		EffectiveDirective string `json:"effectiveDirective"`
		OriginalPolicy     string `json:"originalPolicy"`
		Disposition        string `json:"disposition"`
		SourceFile         string `json:"sourceFile"`
		Sample             string `json:"sample"`
		StatusCode         int    `json:"statusCode"`
		LineNumber         int    `json:"lineNumber"`
		ColumnNumber       int    `json:"columnNumber"`
	} `json:"body"`
}

// Parse parses a report body of the given Content-Type: a single report-uri report
// ({"csp-report": {…}}) or a Reporting API batch ([{"type": "csp-violation", "body": {…}}],
// other report types skipped). With application/json either shape is accepted. The
// result is normalised as described on Report; errors wrap ErrMalformed.
func Parse(contentType string, body []byte) ([]Report, error) {
	mt, _, _ := mime.ParseMediaType(contentType)
	switch mt {
	case "application/reports+json":
		return parseBatch(body)
	case "application/csp-report":
		return parseLegacy(body)
	case "application/json":
		if strings.HasPrefix(strings.TrimLeft(string(body), " \t\r\n"), "[") {
			return parseBatch(body)
		}
		return parseLegacy(body)
	}
	return nil, fmt.Errorf("%w: media type %q", ErrMalformed, mt)
}

// parseBatch parses a Reporting API batch and keeps its csp-violation entries.
func parseBatch(body []byte) ([]Report, error) {
	var batch []apiReport
	if err := json.Unmarshal(body, &batch); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	out := make([]Report, 0, len(batch))
	for _, e := range batch {
		if e.Type != "csp-violation" || e.Body == nil {
			continue
		}
		b := e.Body
		doc := b.DocumentURL
		if doc == "" {
			doc = e.URL
		}
		out = append(out, normalise(Report{DocumentURL: doc, Referrer: b.Referrer, BlockedURL: b.BlockedURL,
			EffectiveDirective: b.EffectiveDirective, OriginalPolicy: b.OriginalPolicy,
			Disposition: b.Disposition, SourceFile: b.SourceFile, Sample: b.Sample,
			StatusCode: b.StatusCode, Line: b.LineNumber, Column: b.ColumnNumber}))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no csp-violation entry", ErrMalformed)
	}
	return out, nil
}

// parseLegacy parses a report-uri body. Old browsers send only violated-directive; its
// first word is the effective directive.
func parseLegacy(body []byte) ([]Report, error) {
	var lr legacyReport
	if err := json.Unmarshal(body, &lr); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	b := lr.Body
	if b == nil {
		return nil, fmt.Errorf("%w: no csp-report member", ErrMalformed)
	}
	dir := b.EffectiveDirective
	if dir == "" {
		dir, _, _ = strings.Cut(strings.TrimSpace(b.ViolatedDirective), " ")
	}
	return []Report{normalise(Report{DocumentURL: b.DocumentURI, Referrer: b.Referrer, BlockedURL: b.BlockedURI,
		EffectiveDirective: dir, OriginalPolicy: b.OriginalPolicy, Disposition: b.Disposition,
		SourceFile: b.SourceFile, Sample: b.ScriptSample, StatusCode: b.StatusCode,
		Line: b.LineNumber, Column: b.ColumnNumber})}, nil
}

// maxField is the length every string of a Report is cut to.
const maxField = 512

func normalise(r Report) Report {
	r.DocumentURL = cut(stripQuery(r.DocumentURL))
	r.Referrer = cut(stripQuery(r.Referrer))
	r.BlockedURL = cut(stripQuery(r.BlockedURL))
	r.SourceFile = cut(stripQuery(r.SourceFile))
	r.EffectiveDirective = cut(strings.ToLower(strings.TrimSpace(r.EffectiveDirective)))
	r.OriginalPolicy = cut(r.OriginalPolicy)
	r.Disposition = cut(strings.ToLower(r.Disposition))
	r.Sample = cut(r.Sample)
	return r
}

func stripQuery(u string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		return u[:i]
	}
	return u
}

// cut bounds s to maxField bytes without splitting a UTF-8 sequence.
func cut(s string) string {
	if len(s) <= maxField {
		return s
	}
	i := maxField
	for i > 0 && s[i]&0xC0 == 0x80 {
		i--
	}
	return s[:i]
}
