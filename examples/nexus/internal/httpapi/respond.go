package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"mime"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/nexus-reussite/harden/examples/nexus/internal/domain"
	"github.com/nexus-reussite/harden/examples/nexus/internal/store"
)

// maxJSONBody caps every JSON request body, below MAX_CONTENT_LENGTH.
const maxJSONBody = 1 << 20

// writeJSON sends v as JSON with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		writeProblem(w, http.StatusInternalServerError, "the response could not be encoded")
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// problem is an RFC 9457 problem details object.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
}

// writeProblem sends an application/problem+json response: the status, its text as the
// title, and detail, a message written for the client.
func writeProblem(w http.ResponseWriter, status int, detail string) {
	body, _ := json.Marshal(problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail})
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// httpError is an error of the HTTP exchange itself (the body, the media type, the
// upstream) whose message is safe to show.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func badRequest(msg string) error { return &httpError{status: http.StatusBadRequest, msg: msg} }

func unavailable(msg string) error {
	return &httpError{status: http.StatusServiceUnavailable, msg: msg}
}

// kindStatus is the status of each kind of rule violation.
var kindStatus = map[domain.Kind]int{
	domain.KindInvalid:   http.StatusBadRequest,
	domain.KindForbidden: http.StatusForbidden,
	domain.KindNotFound:  http.StatusNotFound,
	domain.KindConflict:  http.StatusConflict,
	domain.KindQuota:     http.StatusTooManyRequests,
	// A request the platform does not serve (a lesson at night, a guessable password).
	domain.KindUnprocessable: http.StatusUnprocessableEntity,
}

// fail answers err as problem+json: rule violations and HTTP errors with their message,
// an unreachable database as a 503 with Retry-After, anything else as a 500 whose cause
// is logged, never shown.
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	var de *domain.Error
	var he *httpError
	switch {
	case errors.As(err, &de):
		if de.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(de.RetryAfter.Seconds()))))
		}
		writeProblem(w, kindStatus[de.Kind], de.Msg)
	case errors.As(err, &he):
		writeProblem(w, he.status, he.msg)
	case store.Unreachable(err):
		a.log.WarnContext(r.Context(), "database unreachable", "method", r.Method, "route", r.Pattern, "err", err)
		w.Header().Set("Retry-After", "5")
		writeProblem(w, http.StatusServiceUnavailable, "the service is temporarily unavailable; retry shortly")
	default:
		a.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "route", r.Pattern, "err", err)
		writeProblem(w, http.StatusInternalServerError, "internal error")
	}
}

// decodeJSON reads exactly one JSON object into v: application/json only, valid UTF-8
// only, unknown fields rejected, at most maxJSONBody bytes.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return &httpError{status: http.StatusUnsupportedMediaType, msg: "Content-Type must be application/json"}
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxJSONBody)
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &httpError{status: http.StatusRequestEntityTooLarge, msg: "request body too large"}
		}
		return badRequest("request body could not be read")
	}
	// encoding/json would silently replace invalid UTF-8 with U+FFFD and store mangled
	// text; refuse it instead.
	if !utf8.Valid(raw) {
		return badRequest("request body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var ute *json.UnmarshalTypeError
		switch {
		case errors.As(err, &ute):
			return badRequest("field " + strconv.Quote(ute.Field) + " has the wrong type")
		case errors.Is(err, io.EOF):
			return badRequest("request body is empty")
		default:
			return badRequest("request body is not valid JSON for this endpoint")
		}
	}
	if dec.More() {
		return badRequest("request body must hold a single JSON object")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badRequest("request body must hold a single JSON object")
	}
	return nil
}

// pathID parses the {id} wildcard; anything but a positive integer is "not found".
func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, domain.NotFound("resource")
	}
	return id, nil
}

// pageParams reads page (from 1) and per_page (1..100, default 20).
func pageParams(r *http.Request) (page, per int, err error) {
	page, per = 1, 20
	q := r.URL.Query()
	if v := q.Get("page"); v != "" {
		if page, err = strconv.Atoi(v); err != nil || page < 1 || page > 100000 {
			return 0, 0, badRequest("page must be a positive integer")
		}
	}
	if v := q.Get("per_page"); v != "" {
		if per, err = strconv.Atoi(v); err != nil || per < 1 || per > 100 {
			return 0, 0, badRequest("per_page must be between 1 and 100")
		}
	}
	return page, per, nil
}
