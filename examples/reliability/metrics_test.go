package reliability

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// metricByLabel reads /metrics and sums the samples of metric by the value of label
// (e.g. harden_ratelimit_requests_total by outcome).
func metricByLabel(t *testing.T, a *api, metric, label string) map[string]float64 {
	t.Helper()
	body := string(a.must(t, http.StatusOK, "GET", "/metrics", "", "", nil).body)
	out := map[string]float64{}
	for _, line := range strings.Split(body, "\n") {
		rest, ok := strings.CutPrefix(line, metric+"{")
		if !ok {
			continue
		}
		labels, value, ok := strings.Cut(rest, "} ")
		if !ok {
			continue
		}
		_, after, ok := strings.Cut(labels, label+`="`)
		if !ok {
			continue
		}
		name, _, _ := strings.Cut(after, `"`)
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			t.Fatalf("%s: %q: %v", metric, line, err)
		}
		out[name] += v
	}
	return out
}

// diff is after minus before, per key, keeping keys that changed.
func diff(before, after map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range after {
		if d := v - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

// render writes a label → value map as "a 1, b 2", keys sorted.
func render(m map[string]float64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %.0f", k, m[k])
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
