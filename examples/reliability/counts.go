package reliability

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Counts tallies HTTP outcomes: by status class (2xx, 3xx, 4xx, 5xx, and "transport" for
// a request that got no response), by exact status, and the latencies. It is safe for
// concurrent use; the zero value is ready.
type Counts struct {
	mu        sync.Mutex
	classes   map[string]int
	statuses  map[int]int
	latencies []time.Duration
}

// Class names a status: "2xx" … "5xx", or "transport" for status 0 (no response).
func Class(status int) string {
	if status < 100 || status > 599 {
		return "transport"
	}
	return fmt.Sprintf("%dxx", status/100)
}

// Add records one request: its status (0 when no response came) and how long it took.
func (c *Counts) Add(status int, took time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.classes == nil {
		c.classes, c.statuses = map[string]int{}, map[int]int{}
	}
	c.classes[Class(status)]++
	c.statuses[status]++
	c.latencies = append(c.latencies, took)
}

// Total is the number of requests recorded.
func (c *Counts) Total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.latencies)
}

// Of is the number of requests of a class ("5xx", "transport", …).
func (c *Counts) Of(class string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.classes[class]
}

// Status is the number of requests answered with status.
func (c *Counts) Status(status int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.statuses[status]
}

// Quantile is the q-quantile (0 ≤ q ≤ 1) of the latencies, nearest rank; 0 when empty.
func (c *Counts) Quantile(q float64) time.Duration {
	c.mu.Lock()
	l := slices.Clone(c.latencies)
	c.mu.Unlock()
	if len(l) == 0 {
		return 0
	}
	slices.Sort(l)
	i := int(q*float64(len(l))+0.5) - 1
	return l[min(max(i, 0), len(l)-1)]
}

// Classes renders the counts by class, e.g. "2xx 950, 4xx 50, 5xx 0, transport 0".
// 5xx and transport are always shown, even at zero.
func (c *Counts) Classes() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var parts []string
	for _, k := range []string{"1xx", "2xx", "3xx", "4xx", "5xx", "transport"} {
		if n := c.classes[k]; n > 0 || k == "5xx" || k == "transport" {
			parts = append(parts, fmt.Sprintf("%s %d", k, n))
		}
	}
	return strings.Join(parts, ", ")
}

// Statuses renders the counts by exact status, lowest first, e.g. "200 900, 409 12".
func (c *Counts) Statuses() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	codes := make([]int, 0, len(c.statuses))
	for s := range c.statuses {
		codes = append(codes, s)
	}
	sort.Ints(codes)
	parts := make([]string, 0, len(codes))
	for _, s := range codes {
		name := fmt.Sprint(s)
		if s == 0 {
			name = "no response"
		}
		parts = append(parts, fmt.Sprintf("%s %d", name, c.statuses[s]))
	}
	return strings.Join(parts, ", ")
}
