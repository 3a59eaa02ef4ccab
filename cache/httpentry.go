package cache

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"strconv"
	"strings"

	"github.com/nexus-reussite/harden/cache/internal/cachecontrol"
)

// storedResponse is a cached HTTP response: status, end-to-end header fields and body.
type storedResponse struct {
	status int
	header http.Header
	body   []byte
}

const (
	maxStoredHeaders = 256
	maxStoredValues  = 64
)

// appendTo encodes the response: uvarint status, uvarint number of fields, per field the
// name and its values (each uvarint length-prefixed), then the body.
func (s *storedResponse) appendTo(b []byte) []byte {
	b = binary.AppendUvarint(b, uint64(s.status))
	b = binary.AppendUvarint(b, uint64(len(s.header)))
	for name, vals := range s.header {
		b = appendKeyPart(b, name)
		b = binary.AppendUvarint(b, uint64(len(vals)))
		for _, v := range vals {
			b = appendKeyPart(b, v)
		}
	}
	return append(b, s.body...)
}

// decodeStoredResponse parses b; the body aliases b.
func decodeStoredResponse(b []byte) (storedResponse, error) {
	var s storedResponse
	status, b, ok := readUvarint(b)
	if !ok || status < 100 || status > 999 {
		return s, ErrCorrupt
	}
	s.status = int(status)
	n, b, ok := readUvarint(b)
	if !ok || n > maxStoredHeaders {
		return s, ErrCorrupt
	}
	s.header = make(http.Header, n)
	for range n {
		var name string
		if name, b, ok = readPart(b); !ok {
			return s, ErrCorrupt
		}
		var nv uint64
		if nv, b, ok = readUvarint(b); !ok || nv > maxStoredValues {
			return s, ErrCorrupt
		}
		vals := make([]string, nv)
		for i := range vals {
			if vals[i], b, ok = readPart(b); !ok {
				return s, ErrCorrupt
			}
		}
		s.header[name] = vals
	}
	s.body = b
	return s, nil
}

func readUvarint(b []byte) (uint64, []byte, bool) {
	v, k := binary.Uvarint(b)
	if k <= 0 {
		return 0, b, false
	}
	return v, b[k:], true
}

func readPart(b []byte) (string, []byte, bool) {
	l, b, ok := readUvarint(b)
	if !ok || l > uint64(len(b)) {
		return "", b, false
	}
	return string(b[:l]), b[l:], true
}

// hopByHop lists header fields a cache must not store (RFC 9110 §7.6.1), plus those it
// computes itself on every response and X-Cache, which this cache no longer sends but an
// inner cache may: a hit must not replay the one it set on the miss.
var hopByHop = []string{
	"Connection", "Keep-Alive", "Proxy-Connection", "Te", "Trailer", "Transfer-Encoding",
	"Upgrade", "Proxy-Authenticate", "Proxy-Authorization", "Date", "Age", "Cache-Status", "X-Cache",
}

// storableHeader copies h without hop-by-hop fields and fields named by Connection.
func storableHeader(h http.Header) http.Header {
	out := h.Clone()
	for _, v := range h.Values("Connection") {
		for n := range strings.SplitSeq(v, ",") {
			out.Del(strings.TrimSpace(n))
		}
	}
	for _, n := range hopByHop {
		out.Del(n)
	}
	return out
}

// bodyETag returns a strong entity tag derived from body.
func bodyETag(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
}

// etagMatches reports whether If-None-Match field values match etag by weak comparison
// (RFC 9110 §13.1.2): "*" matches any tag; W/ prefixes are ignored on both sides.
func etagMatches(ifNoneMatch []string, etag string) bool {
	if etag == "" {
		return false
	}
	want := strings.TrimPrefix(etag, "W/")
	for _, v := range ifNoneMatch {
		for v != "" {
			v = strings.TrimLeft(v, " \t,")
			if v == "" {
				break
			}
			if v[0] == '*' {
				return true
			}
			v = strings.TrimPrefix(v, "W/")
			if len(v) == 0 || v[0] != '"' {
				// Not an entity tag: skip to the next list member.
				i := strings.IndexByte(v, ',')
				if i < 0 {
					break
				}
				v = v[i:]
				continue
			}
			end := strings.IndexByte(v[1:], '"')
			if end < 0 {
				break
			}
			if v[:end+2] == want {
				return true
			}
			v = v[end+2:]
		}
	}
	return false
}

// preparedResponse is a stored response ready to be written.
type preparedResponse struct {
	status        int
	fields        []headerField
	nvalues       int // values over all fields
	body          []byte
	contentLength string // empty for 204 and 304
	mayServeStale bool
}

type headerField struct {
	name   string
	values []string
}

// prepare turns a decoded stored response into one ready to be written.
func prepare(s storedResponse) *preparedResponse {
	p := &preparedResponse{status: s.status, body: s.body, fields: make([]headerField, 0, len(s.header))}
	for name, values := range s.header {
		p.fields = append(p.fields, headerField{name: name, values: values})
		p.nvalues += len(values)
	}
	if s.status != http.StatusNoContent && s.status != http.StatusNotModified {
		p.contentLength = strconv.Itoa(len(s.body))
	}
	cc := cachecontrol.Parse(s.header["Cache-Control"])
	p.mayServeStale = !cc.MustRevalidate && !cc.ProxyRevalidate && cc.SMaxAge < 0
	return p
}
