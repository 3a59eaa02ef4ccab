package problem

import (
	"net/http"
	"testing"
)

// BenchmarkWrite is the cost of a 429 problem with one extension, as a rate limiter
// writes it.
func BenchmarkWrite(b *testing.B) {
	h := http.Header{}
	w := &sink{h: h}
	p := Problem{Status: 429, Detail: "Rate limit of 2 per second exceeded; retry later.", Extensions: map[string]any{"retry_after": int64(1)}}
	b.ReportAllocs()
	for b.Loop() {
		clear(h)
		Write(w, p)
	}
}
