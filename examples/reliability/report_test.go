package reliability_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nexus-reussite/harden/examples/reliability"
)

func ExampleReport() {
	var c reliability.Counts
	for i, status := range []int{200, 200, 201, 409, 503, 0} {
		c.Add(status, time.Duration(i+1)*time.Millisecond)
	}
	r := &reliability.Report{Title: "Reliability"}
	s := r.Section("Load", "Zero 5xx.")
	s.Add("Requests", c.Total())
	s.Add("By class", c.Classes())
	s.Add("By status", c.Statuses())
	s.Add("p50", c.Quantile(0.5))
	s.Verdict = "failed"
	fmt.Println(string(r.Markdown()))
	// Output:
	// # Reliability
	//
	// ## Load (failed)
	//
	// Zero 5xx.
	//
	// | Figure | Value |
	// |---|---|
	// | Requests | 6 |
	// | By class | 2xx 3, 4xx 1, 5xx 1, transport 1 |
	// | By status | no response 1, 200 2, 201 1, 409 1, 503 1 |
	// | p50 | 3ms |
}

func TestCountsConcurrent(t *testing.T) {
	var c reliability.Counts
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				c.Add(200+g%2*300, time.Duration(i)*time.Microsecond)
			}
		})
	}
	wg.Wait()
	if c.Total() != 8000 || c.Of("2xx") != 4000 || c.Of("5xx") != 4000 || c.Status(500) != 4000 {
		t.Fatalf("total %d, 2xx %d, 5xx %d", c.Total(), c.Of("2xx"), c.Of("5xx"))
	}
	if q := c.Quantile(1); q != 999*time.Microsecond {
		t.Fatalf("max %s", q)
	}
	if q := c.Quantile(0); q != 0 {
		t.Fatalf("min %s", q)
	}
}

func TestCountsEmpty(t *testing.T) {
	var c reliability.Counts
	if c.Total() != 0 || c.Quantile(0.99) != 0 || c.Classes() != "5xx 0, transport 0" || c.Statuses() != "" {
		t.Fatalf("empty counts: %d %s %q %q", c.Total(), c.Quantile(0.99), c.Classes(), c.Statuses())
	}
}

func TestClass(t *testing.T) {
	for status, want := range map[int]string{0: "transport", 99: "transport", 100: "1xx", 204: "2xx", 308: "3xx", 431: "4xx", 599: "5xx", 600: "transport"} {
		if got := reliability.Class(status); got != want {
			t.Errorf("Class(%d) = %q, want %q", status, got, want)
		}
	}
}

func TestReportEscapesCells(t *testing.T) {
	r := &reliability.Report{Title: "T", Setting: []reliability.Figure{{Name: "a|b", Value: "line\nbreak  and   spaces"}}}
	s := r.Section("S", "")
	s.Addf("pipe", "x | y")
	s.Add("duration", 1234567*time.Microsecond)
	md := string(r.Markdown())
	for _, want := range []string{`| a\|b | line break and spaces |`, `| pipe | x \| y |`, `| duration | 1.235s |`, "## S (not run)"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if strings.HasSuffix(md, "\n") {
		t.Error("markdown ends with a newline")
	}
}
