package compressbench

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/klauspost/compress/gzhttp"
)

// zstdVariants answer zstd to a client that accepts only zstd: harden at the zero
// Config's level 6 (zstd's fastest level), harden at level 7 (zstd's default level) and
// gzhttp at its defaults (zstd's fastest), which is what the gzip-only and peer stacks of
// ../stack send browsers.
var zstdVariants = []variant{
	{"harden-level-6", "zstd", hardenWrap},
	{"harden-level-7", "zstd", hardenAt(7)},
	{"gzhttp", "zstd", func(tb testing.TB, h http.Handler) http.Handler {
		w, err := gzhttp.NewWrapper(gzhttp.MinSize(500))
		if err != nil {
			tb.Fatal(err)
		}
		return w(h)
	}},
}

// levelBodies are API JSON and prose: this module's README and the repository's
// CHANGELOG, Markdown with tables, cut to size.
func levelBodies(tb testing.TB) []struct {
	name string
	body []byte
} {
	var text []byte
	for _, f := range []string{"../README.md", "../../CHANGELOG.md"} {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		text = append(text, b...)
	}
	if len(text) < 64<<10 {
		tb.Fatalf("only %d bytes of text", len(text))
	}
	return []struct {
		name string
		body []byte
	}{
		{"json-3KiB", jsonOf(3 << 10)},
		{"json-16KiB", jsonOf(16 << 10)},
		{"text-4KiB", text[:4<<10]},
		{"text-16KiB", text[:16<<10]},
		{"text-64KiB", text[:64<<10]},
	}
}

// BenchmarkZstdLevel prices zstd's default level (harden-level-7) against its fastest
// (harden-level-6, gzhttp), in time and in bytes sent (wire-B/op), on JSON and on text.
// The bodies are served as application/json so that all three compress them.
func BenchmarkZstdLevel(b *testing.B) {
	for _, s := range levelBodies(b) {
		for _, v := range zstdVariants {
			b.Run(s.name+"/"+v.name, func(b *testing.B) { run(b, v, s.body) })
		}
	}
}

// TestZstdVariantsDecode checks that each variant of BenchmarkZstdLevel sends zstd that
// decodes to the body.
func TestZstdVariantsDecode(t *testing.T) {
	for _, s := range levelBodies(t) {
		for _, v := range zstdVariants {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Accept-Encoding", v.accept)
			rec := httptest.NewRecorder()
			v.wrap(t, jsonHandler(s.body)).ServeHTTP(rec, r)
			if enc := rec.Header().Get("Content-Encoding"); enc != "zstd" {
				t.Fatalf("%s/%s: Content-Encoding %q, want zstd", s.name, v.name, enc)
			}
			if got := decoded(t, "zstd", rec.Body); !bytes.Equal(got, s.body) {
				t.Fatalf("%s/%s: decoded body differs", s.name, v.name)
			}
		}
	}
}
