// Package problem writes RFC 9457 problem details (application/problem+json).
//
// Every response a harden middleware writes on its own (413, 429, 403, 503, 500…) goes
// through this package so they share one shape: type, title, status, detail and optional
// extension members. Nothing internal (error strings, stack traces) belongs in a problem
// body; callers pass a detail written for the client.
//
// The body is the JSON object encoding/json gives for a map of the members: keys in
// sorted order, strings HTML-escaped. It is encoded directly rather than through a map,
// so that writing a problem costs a few allocations instead of dozens.
package problem

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
)

// ContentType is the media type of problem details.
const ContentType = "application/problem+json"

// Problem is an RFC 9457 problem details object.
type Problem struct {
	// Type is a URI reference identifying the problem type; "about:blank" when empty.
	Type string `json:"type,omitempty"`
	// Title is a short human-readable summary; defaults to the status text.
	Title string `json:"title"`
	// Status is the HTTP status code.
	Status int `json:"status"`
	// Detail explains this occurrence for the client.
	Detail string `json:"detail,omitempty"`
	// Instance identifies this occurrence (for example the request path).
	Instance string `json:"instance,omitempty"`
	// Extensions are extra members serialised at the top level.
	Extensions map[string]any `json:"-"`
}

// MarshalJSON flattens Extensions next to the standard members. Standard members win
// over extensions of the same name. Members are sorted by key.
func (p Problem) MarshalJSON() ([]byte, error) {
	return p.appendJSON(nil)
}

// Write sends p with its status code. Headers already set on w (Retry-After, Vary…)
// are kept; Content-Length is set from the encoded body.
func Write(w http.ResponseWriter, p Problem) {
	if p.Status == 0 {
		p.Status = http.StatusInternalServerError
	}
	body, err := p.appendJSON(make([]byte, 0, 128+len(p.Type)+len(p.Title)+len(p.Detail)+len(p.Instance)+32*len(p.Extensions)))
	if err != nil {
		// Extensions held something unencodable: send the standard members only.
		p.Extensions = nil
		body, _ = p.appendJSON(body[:0])
	}
	h := w.Header()
	h.Del("Content-Encoding")
	// One backing array for the three header values (the names are canonical already).
	vals := make([]string, 3)
	vals[0], vals[1], vals[2] = ContentType, strconv.Itoa(len(body)), "nosniff"
	h["Content-Type"] = vals[0:1:1]
	h["Content-Length"] = vals[1:2:2]
	h["X-Content-Type-Options"] = vals[2:3:3]
	w.WriteHeader(p.Status)
	_, _ = w.Write(body)
}

// Error sends a problem with the given status and detail, titled by the status text.
func Error(w http.ResponseWriter, status int, detail string) {
	Write(w, Problem{Status: status, Detail: detail})
}

// standard reports whether k names a standard member, which extensions cannot replace.
func standard(k string) bool {
	switch k {
	case "detail", "instance", "status", "title", "type":
		return true
	}
	return false
}

// appendJSON appends the JSON object of p to b: the standard members (detail and
// instance only when set) and the extensions not named like one, in key order.
func (p *Problem) appendJSON(b []byte) ([]byte, error) {
	var keyBuf [8]string
	ext := keyBuf[:0]
	for k := range p.Extensions {
		if !standard(k) {
			ext = append(ext, k)
		}
	}
	slices.Sort(ext)

	typ := p.Type
	if typ == "" {
		typ = "about:blank"
	}
	title := p.Title
	if title == "" {
		title = http.StatusText(p.Status)
	}
	// The standard members in key order; an empty key marks one that is left out.
	std := [...]struct{ key, val string }{
		{"detail", p.Detail}, {"instance", p.Instance}, {"status", ""}, {"title", title}, {"type", typ},
	}
	if p.Detail == "" {
		std[0].key = ""
	}
	if p.Instance == "" {
		std[1].key = ""
	}

	b = append(b, '{')
	first := true
	sep := func() {
		if !first {
			b = append(b, ',')
		}
		first = false
	}
	var err error
	i := 0
	for _, s := range std {
		if s.key == "" {
			continue
		}
		for ; i < len(ext) && ext[i] < s.key; i++ {
			sep()
			b = appendString(b, ext[i])
			b = append(b, ':')
			if b, err = appendValue(b, p.Extensions[ext[i]]); err != nil {
				return b, err
			}
		}
		sep()
		b = append(b, '"')
		b = append(b, s.key...)
		b = append(b, '"', ':')
		if s.key == "status" {
			b = strconv.AppendInt(b, int64(p.Status), 10)
		} else {
			b = appendString(b, s.val)
		}
	}
	for ; i < len(ext); i++ {
		sep()
		b = appendString(b, ext[i])
		b = append(b, ':')
		if b, err = appendValue(b, p.Extensions[ext[i]]); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}

// appendValue appends the JSON encoding of v, as encoding/json writes it.
func appendValue(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return appendString(b, v), nil
	case bool:
		return strconv.AppendBool(b, v), nil
	case int:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case int32:
		return strconv.AppendInt(b, int64(v), 10), nil
	case uint:
		return strconv.AppendUint(b, uint64(v), 10), nil
	case uint64:
		return strconv.AppendUint(b, v, 10), nil
	case uint32:
		return strconv.AppendUint(b, uint64(v), 10), nil
	}
	data, err := json.Marshal(v)
	if err != nil {
		return b, err
	}
	return append(b, data...), nil
}

// appendString appends s as a JSON string. Printable ASCII without the characters
// encoding/json escapes is copied as is; anything else goes through encoding/json so
// the escaping (HTML characters, control characters, invalid UTF-8, U+2028) is its own.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			data, _ := json.Marshal(s)
			return append(b, data...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
