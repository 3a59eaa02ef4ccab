package cache

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"net/http"
	"net/textproto"
	"net/url"
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

// digest is the SHA-256 sum a request key is named by.
type digest = [sha256.Size]byte

// primaryKey identifies the resource a request names: scheme, host, escaped path and the
// declared query parameters. Its length is fixed whatever the request.
func (h *HTTPCache) primaryKey(r *http.Request) string {
	d := h.primaryDigest(r)
	return "h:" + hex.EncodeToString(d[:])
}

// primaryDigest hashes the parts of the primary key of r.
func (h *HTTPCache) primaryDigest(r *http.Request) digest {
	var room [512]byte
	return sha256.Sum256(h.appendPrimaryParts(room[:0], r))
}

// appendPrimaryParts appends what the primary key of r is hashed from: scheme, lower-case
// host, escaped path, then for each declared query parameter its name, the number of its
// values and each value unescaped, in the order of the request.
func (h *HTTPCache) appendPrimaryParts(b []byte, r *http.Request) []byte {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	b = appendKeyPart(b, scheme)
	b = appendKeyPart(b, strings.ToLower(r.Host))
	b = appendKeyPart(b, r.URL.EscapedPath())
	for _, name := range h.query {
		values := queryValues(r.URL.RawQuery, name)
		b = appendKeyPart(b, name)
		b = binary.AppendUvarint(b, uint64(len(values)))
		for _, v := range values {
			b = appendKeyPart(b, v)
		}
	}
	return b
}

// queryValues returns the unescaped values of parameter name in the raw query (whose
// parameter names are as declared: queryDeclared holds).
func queryValues(raw, name string) []string {
	var values []string
	for pair := range strings.SplitSeq(raw, "&") {
		n, v, _ := strings.Cut(pair, "=")
		if n != name {
			continue
		}
		if u, err := url.QueryUnescape(v); err == nil {
			v = u
		}
		values = append(values, v)
	}
	return values
}

// appendRequestParts appends what the memo id of the resource r names is made of: whether
// it came over TLS, and its host, path, raw path and raw query as they are. The primary key
// is a function of these (appendPrimaryParts lower-cases the host and escapes the path), so
// an id names one store key, and a hit neither lower-cases nor escapes anything.
func appendRequestParts(b []byte, r *http.Request) []byte {
	tls := byte(0)
	if r.TLS != nil {
		tls = 1
	}
	b = append(b, tls)
	b = appendKeyPart(b, r.Host)
	b = appendKeyPart(b, r.URL.Path)
	b = appendKeyPart(b, r.URL.RawPath)
	return appendKeyPart(b, r.URL.RawQuery)
}

// appendRequestVaryParts appends what the memo id of a variant adds to its resource's: each
// Vary name, then the number of the request's field values of it and each value as it is
// (fields holds the canonical forms of names, which index h as Header.Values does). The
// variant key is a function of these (appendVaryParts trims and normalises the values), so
// a hit reads the fields without canonicalising or normalising them.
func appendRequestVaryParts(b []byte, names, fields []string, h http.Header) []byte {
	for i, n := range names {
		b = appendKeyPart(b, n)
		vals := h[fields[i]]
		b = binary.AppendUvarint(b, uint64(len(vals)))
		for _, v := range vals {
			b = appendKeyPart(b, v)
		}
	}
	return b
}

// canonicalNames returns the canonical forms of names: names itself when they all are.
func canonicalNames(names []string) []string {
	for i, n := range names {
		if c := textproto.CanonicalMIMEHeaderKey(n); c != n {
			fields := slices.Clone(names)
			for j := i; j < len(fields); j++ {
				fields[j] = textproto.CanonicalMIMEHeaderKey(fields[j])
			}
			return fields
		}
	}
	return names
}

// variantKey extends primary with the request's values of the Vary header names, each
// normalised (Accept-Encoding to its set of acceptable codings).
func variantKey(primary string, names []string, h http.Header) string {
	if len(names) == 0 {
		return primary + ":-"
	}
	d := varyDigest(names, h)
	return primary + ":" + hex.EncodeToString(d[:])
}

// varyDigest hashes the names and normalised request values that select a variant.
func varyDigest(names []string, h http.Header) digest {
	var room [512]byte
	return sha256.Sum256(appendVaryParts(room[:0], names, h))
}

// appendVaryParts appends what a variant key is hashed from: each Vary name and the
// request's normalised value of it.
func appendVaryParts(b []byte, names []string, h http.Header) []byte {
	var value [256]byte
	for _, n := range names {
		b = appendKeyPart(b, n)
		v := appendVaryValue(value[:0], n, h)
		b = binary.AppendUvarint(b, uint64(len(v)))
		b = append(b, v...)
	}
	return b
}

// appendVaryValue appends the request's value of the Vary member name: the field values
// trimmed and joined by commas, or for Accept-Encoding its normalised set of codings.
func appendVaryValue(b []byte, name string, h http.Header) []byte {
	vals := h.Values(name)
	if name == "Accept-Encoding" {
		return appendAcceptEncodingSet(b, vals)
	}
	for i, v := range vals {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, strings.TrimSpace(v)...)
	}
	return b
}

// normalizeAcceptEncoding reduces Accept-Encoding field values to the sorted set of codings
// accepted with a non-zero weight, lower-cased ("gzip, br;q=0.5, x;q=0" → "br,gzip"). Two
// requests with the same set get the same encoding from a deterministic compressor, so they
// share a cached variant.
func normalizeAcceptEncoding(values []string) string {
	return string(appendAcceptEncodingSet(nil, values))
}

// appendAcceptEncodingSet appends what normalizeAcceptEncoding returns.
func appendAcceptEncodingSet(b []byte, values []string) []byte {
	var room [16]string
	set := room[:0]
	for _, v := range values {
		for v != "" {
			var item string
			item, v, _ = strings.Cut(v, ",")
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
	for i, c := range set {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, c...)
	}
	return b
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
