package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"slices"
	"strings"
)

// The straightforward string-building forms of the request keys. The keys the cache
// computes without allocating must equal these byte for byte, so entries written under
// either stay reachable.

func referencePrimaryKey(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	var b []byte
	b = appendKeyPart(b, scheme)
	b = appendKeyPart(b, strings.ToLower(r.Host))
	b = appendKeyPart(b, r.URL.EscapedPath())
	b = appendKeyPart(b, r.URL.RawQuery)
	return "h:" + referenceHash(b)
}

func referenceVariantKey(primary string, names []string, h http.Header) string {
	if len(names) == 0 {
		return primary + ":-"
	}
	var b []byte
	for _, n := range names {
		b = appendKeyPart(b, n)
		b = appendKeyPart(b, referenceVaryValue(n, h))
	}
	return primary + ":" + referenceHash(b)
}

func referenceHash(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func referenceVaryValue(name string, h http.Header) string {
	vals := slices.Clone(h.Values(name))
	if name == "Accept-Encoding" {
		return referenceNormalizeAcceptEncoding(vals)
	}
	for i, v := range vals {
		vals[i] = strings.TrimSpace(v)
	}
	return strings.Join(vals, ",")
}

func referenceNormalizeAcceptEncoding(values []string) string {
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
