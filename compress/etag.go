package compress

import (
	"net/http"
	"strings"
)

// A strong ETag names one exact byte sequence, so a compressed response carries the
// handler's strong ETag with "-<encoding>" appended inside the quotes ("abc" becomes
// "abc-zstd"). Weak ETags already allow equivalent encodings and stay unchanged.
// The client sends the suffixed tag back in If-None-Match; the middleware strips the
// suffix before the handler compares, and puts it back on the 304.

// suffixETag appends -enc to a strong ETag in h.
func suffixETag(h http.Header, enc Encoding) {
	et := headerGet(h, "Etag")
	if !isStrongETag(et) {
		return
	}
	h.Set("Etag", et[:len(et)-1]+"-"+string(enc)+`"`)
}

// isStrongETag reports whether et is a quoted strong entity tag.
func isStrongETag(et string) bool {
	return len(et) >= 2 && et[0] == '"' && et[len(et)-1] == '"'
}

// stripETagSuffixes removes the -zstd / -gzip suffixes this package adds from the
// strong entity tags of an If-None-Match value. changed is false (and no allocation
// happens) when none carried one.
func stripETagSuffixes(inm string) (out string, changed bool) {
	if !strings.Contains(inm, `-zstd"`) && !strings.Contains(inm, `-gzip"`) {
		return inm, false
	}
	var b strings.Builder
	b.Grow(len(inm))
	for i, tag := range splitETags(inm) {
		if i > 0 {
			b.WriteString(", ")
		}
		if isStrongETag(tag) {
			for _, e := range [...]Encoding{Zstd, Gzip} {
				if t, ok := strings.CutSuffix(tag, "-"+string(e)+`"`); ok && len(t) >= 1 {
					tag = t + `"`
					changed = true
					break
				}
			}
		}
		b.WriteString(tag)
	}
	if !changed {
		return inm, false
	}
	return b.String(), true
}

// splitETags splits an If-None-Match list on the commas between entity tags (commas
// inside quotes are part of a tag).
func splitETags(s string) []string {
	var out []string
	start, quoted := 0, false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			quoted = !quoted
		case ',':
			if !quoted {
				out = append(out, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	return append(out, strings.TrimSpace(s[start:]))
}

// restoreETag gives a 304 the suffixed strong ETag the client holds, when the
// client's If-None-Match (inm, as sent) named it.
func restoreETag(h http.Header, inm string) {
	if inm == "" {
		return
	}
	et := headerGet(h, "Etag")
	if !isStrongETag(et) {
		return
	}
	for _, e := range [...]Encoding{Zstd, Gzip} {
		cand := et[:len(et)-1] + "-" + string(e) + `"`
		if strings.Contains(inm, cand) {
			h.Set("Etag", cand)
			return
		}
	}
}
