// Package problem writes RFC 9457 problem details (application/problem+json).
//
// Every response a harden middleware writes on its own (413, 429, 403, 503, 500…) goes
// through this package so they share one shape: type, title, status, detail and optional
// extension members. Nothing internal (error strings, stack traces) belongs in a problem
// body; callers pass a detail written for the client.
package problem

import (
	"encoding/json"
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
// over extensions of the same name.
func (p Problem) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, 5+len(p.Extensions))
	for k, v := range p.Extensions {
		m[k] = v
	}
	typ := p.Type
	if typ == "" {
		typ = "about:blank"
	}
	m["type"] = typ
	title := p.Title
	if title == "" {
		title = http.StatusText(p.Status)
	}
	m["title"] = title
	m["status"] = p.Status
	if p.Detail != "" {
		m["detail"] = p.Detail
	} else {
		delete(m, "detail")
	}
	if p.Instance != "" {
		m["instance"] = p.Instance
	} else {
		delete(m, "instance")
	}
	return json.Marshal(m)
}

// Write sends p with its status code. Headers already set on w (Retry-After, Vary…)
// are kept; Content-Length is set from the encoded body.
func Write(w http.ResponseWriter, p Problem) {
	if p.Status == 0 {
		p.Status = http.StatusInternalServerError
	}
	body, err := json.Marshal(p)
	if err != nil {
		// Extensions held something unencodable: send the standard members only.
		p.Extensions = nil
		body, _ = json.Marshal(p)
	}
	h := w.Header()
	h.Del("Content-Encoding")
	h.Set("Content-Type", ContentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(p.Status)
	_, _ = w.Write(body)
}

// Error sends a problem with the given status and detail, titled by the status text.
func Error(w http.ResponseWriter, status int, detail string) {
	Write(w, Problem{Status: status, Detail: detail})
}
