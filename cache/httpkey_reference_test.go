package cache

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// The straightforward forms of the request keys, on net/url and string building. The keys
// the cache computes must equal these byte for byte.

func referencePrimaryKey(r *http.Request, declared []string) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	var b []byte
	b = appendKeyPart(b, scheme)
	b = appendKeyPart(b, strings.ToLower(r.Host))
	b = appendKeyPart(b, r.URL.EscapedPath())
	q, _ := url.ParseQuery(r.URL.RawQuery)
	for _, name := range slices.Sorted(slices.Values(declared)) {
		b = appendKeyPart(b, name)
		b = binary.AppendUvarint(b, uint64(len(q[name])))
		for _, v := range q[name] {
			b = appendKeyPart(b, v)
		}
	}
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
