// Package problem writes RFC 9457 problem details (application/problem+json).
//
// Every response a harden middleware writes on its own (413, 429, 403, 503, 500…) goes
// through this package so they share one shape: type, title, status, detail and optional
// extension members. Nothing internal (error strings, stack traces) belongs in a problem
// body; callers pass a detail written for the client.
//
// The body is the JSON object encoding/json gives for a map of the members: keys in
// sorted order, strings HTML-escaped.
package problem

import (
	"net/http"
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
