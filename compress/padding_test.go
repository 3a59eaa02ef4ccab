package compress_test

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/nexus-reussite/harden/compress"
)

func TestBREACHPaddingVariesLength(t *testing.T) {
	body := jsonBody(5000)
	h := func(c *compress.Compressor) http.Handler {
		return c.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write(body)
		}))
	}
	padded := h(mustNew(t, compress.Config{Padding: 256}))
	plain := h(mustNew(t, compress.Config{}))
	for _, enc := range []string{"zstd", "gzip"} {
		lengths := map[int]bool{}
		base := serve(plain, "GET", enc, nil).Body.Len()
		for range 40 {
			rec := serve(padded, "GET", enc, nil)
			if !bytes.Equal(decode(t, enc, rec.Body.Bytes()), body) {
				t.Fatalf("%s: padded body does not decode to the original", enc)
			}
			n := rec.Body.Len()
			if n <= base || n > base+256+10 {
				t.Fatalf("%s: padded length %d outside (%d, %d]", enc, n, base, base+266)
			}
			lengths[n] = true
		}
		if len(lengths) < 10 {
			t.Fatalf("%s: only %d distinct lengths in 40 padded responses", enc, len(lengths))
		}
		for range 5 {
			if n := serve(plain, "GET", enc, nil).Body.Len(); n != base {
				t.Fatalf("%s: unpadded length varies (%d vs %d)", enc, n, base)
			}
		}
	}
}
