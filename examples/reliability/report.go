package reliability

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Report collects the figures of a run and renders them as Markdown. It is safe for
// concurrent use.
type Report struct {
	// Title heads the document.
	Title string
	// Intro is a paragraph under the title (what was run, how to regenerate).
	Intro string
	// Setting lists facts about the run (Go version, CPUs, variant…), in order.
	Setting []Figure

	mu       sync.Mutex
	sections []*Section
}

// Figure is one named value of a section.
type Figure struct {
	Name  string
	Value string
}

// Section is the result of one test: the claim it checks, the figures it measured and
// the verdict ("passed", "failed" or "skipped"; empty renders as "not run").
type Section struct {
	Name    string
	Claim   string
	Figures []Figure
	Verdict string
}

// Add records a figure; values are formatted with fmt.Sprint (durations rounded to
// the millisecond).
func (s *Section) Add(name string, value any) {
	if d, ok := value.(time.Duration); ok {
		value = d.Round(time.Millisecond)
	}
	s.Figures = append(s.Figures, Figure{Name: name, Value: fmt.Sprint(value)})
}

// Addf records a figure formatted with fmt.Sprintf.
func (s *Section) Addf(name, format string, a ...any) {
	s.Figures = append(s.Figures, Figure{Name: name, Value: fmt.Sprintf(format, a...)})
}

// Section starts a section; sections are rendered in the order they were started.
func (r *Report) Section(name, claim string) *Section {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := &Section{Name: name, Claim: claim}
	r.sections = append(r.sections, s)
	return s
}

// Markdown renders the report.
func (r *Report) Markdown() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b bytes.Buffer
	fmt.Fprintf(&b, "# %s\n\n", r.Title)
	if r.Intro != "" {
		fmt.Fprintf(&b, "%s\n\n", strings.TrimSpace(r.Intro))
	}
	if len(r.Setting) > 0 {
		writeTable(&b, "Setting", "Value", r.Setting)
	}
	for _, s := range r.sections {
		verdict := s.Verdict
		if verdict == "" {
			verdict = "not run"
		}
		fmt.Fprintf(&b, "## %s (%s)\n\n", s.Name, verdict)
		if s.Claim != "" {
			fmt.Fprintf(&b, "%s\n\n", strings.TrimSpace(s.Claim))
		}
		writeTable(&b, "Figure", "Value", s.Figures)
	}
	return bytes.TrimRight(b.Bytes(), "\n")
}

func writeTable(b *bytes.Buffer, h1, h2 string, rows []Figure) {
	fmt.Fprintf(b, "| %s | %s |\n|---|---|\n", h1, h2)
	for _, f := range rows {
		fmt.Fprintf(b, "| %s | %s |\n", cell(f.Name), cell(f.Value))
	}
	b.WriteString("\n")
}

// cell escapes a table cell: pipes and line breaks would break the row.
func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.Join(strings.Fields(s), " ")
}
