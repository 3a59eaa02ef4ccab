package cache

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
)

// appendKeyPart appends s length-prefixed, so a sequence of parts encodes unambiguously:
// no two different sequences produce the same bytes.
func appendKeyPart(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func hashKey(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// primaryKey identifies the resource a GET or HEAD request names: scheme, host, escaped
// path and raw query. Its length is fixed whatever the request.
func primaryKey(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	b := make([]byte, 0, 64+len(r.Host)+len(r.URL.Path)+len(r.URL.RawQuery))
	b = appendKeyPart(b, scheme)
	b = appendKeyPart(b, strings.ToLower(r.Host))
	b = appendKeyPart(b, r.URL.EscapedPath())
	b = appendKeyPart(b, r.URL.RawQuery)
	return "h:" + hashKey(b)
}

// variantKey extends primary with the request's values of the Vary header names, each
// normalised (Accept-Encoding to its set of acceptable codings).
func variantKey(primary string, names []string, h http.Header) string {
	if len(names) == 0 {
		return primary + ":-"
	}
	var b []byte
	for _, n := range names {
		b = appendKeyPart(b, n)
		b = appendKeyPart(b, varyValue(n, h))
	}
	return primary + ":" + hashKey(b)
}

func varyValue(name string, h http.Header) string {
	vals := h.Values(name)
	if name == "Accept-Encoding" {
		return normalizeAcceptEncoding(vals)
	}
	for i, v := range vals {
		vals[i] = strings.TrimSpace(v)
	}
	return strings.Join(vals, ",")
}

// normalizeAcceptEncoding reduces Accept-Encoding field values to the sorted set of codings
// accepted with a non-zero weight, lower-cased ("gzip, br;q=0.5, x;q=0" → "br,gzip"). Two
// requests with the same set get the same encoding from a deterministic compressor, so they
// share a cached variant.
func normalizeAcceptEncoding(values []string) string {
	var set []string
	for _, v := range values {
		for item := range strings.SplitSeq(v, ",") {
			coding, params, _ := strings.Cut(item, ";")
			coding = strings.ToLower(strings.TrimSpace(coding))
			if coding == "" || !isToken(coding) || zeroWeight(params) {
				continue
			}
			if !slices.Contains(set, coding) {
				set = append(set, coding)
			}
		}
	}
	slices.Sort(set)
	return strings.Join(set, ",")
}

func zeroWeight(params string) bool {
	for p := range strings.SplitSeq(params, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		return err != nil || q <= 0
	}
	return false
}

func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return s != ""
}

// varyNames returns the canonical, sorted, de-duplicated header names of Vary field values
// and whether one of them is "*".
func varyNames(values []string) (names []string, star bool) {
	for _, v := range values {
		for n := range strings.SplitSeq(v, ",") {
			n = strings.TrimSpace(n)
			switch {
			case n == "*":
				star = true
			case isToken(n):
				n = textproto.CanonicalMIMEHeaderKey(n)
				if !slices.Contains(names, n) {
					names = append(names, n)
				}
			}
		}
	}
	slices.Sort(names)
	return names, star
}
