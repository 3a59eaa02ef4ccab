package compress

import (
	"net/http"
	"strings"
	"testing"
)

// FuzzIfNoneMatch checks the If-None-Match rewriting and the 304 ETag restoration on
// arbitrary input: no panic, the list keeps its length, each tag is either unchanged
// or loses exactly one of our suffixes, and a restored ETag is always one the client
// named.
func FuzzIfNoneMatch(f *testing.F) {
	for _, s := range []string{`"v1-zstd"`, `W/"v1-gzip", "v2-zstd"`, `*`, `"a,b-gzip", "c"`, `"-zstd"`, `""`, `"x-gzip-zstd"`, `"`} {
		f.Add(s, `"v1"`)
	}
	f.Fuzz(func(t *testing.T, inm, etag string) {
		out, changed := stripETagSuffixes(inm)
		if !changed {
			if out != inm {
				t.Fatalf("unchanged result %q differs from input %q", out, inm)
			}
		} else {
			in, got := splitETags(inm), splitETags(out)
			if len(in) != len(got) {
				t.Fatalf("%q: %d tags became %d (%q)", inm, len(in), len(got), out)
			}
			for i := range in {
				if got[i] == in[i] {
					continue
				}
				if got[i] != strings.TrimSuffix(in[i], `-zstd"`)+`"` && got[i] != strings.TrimSuffix(in[i], `-gzip"`)+`"` {
					t.Fatalf("%q: tag %q became %q", inm, in[i], got[i])
				}
			}
		}
		h := http.Header{}
		h.Set("Etag", etag)
		restoreETag(h, inm)
		if got := h.Get("Etag"); got != etag && !strings.Contains(inm, got) {
			t.Fatalf("restored ETag %q not named in If-None-Match %q", got, inm)
		}
	})
}
