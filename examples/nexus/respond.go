package main

import (
	"bytes"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/nexus-reussite/harden/internal/problem"
	"github.com/nexus-reussite/harden/pool"
)

// maxJSONBody caps every JSON request body, below MAX_CONTENT_LENGTH.
const maxJSONBody = 1 << 20

// writeJSON sends v as JSON with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		problem.Error(w, http.StatusInternalServerError, "the response could not be encoded")
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// badRequest is a client error whose message is safe to show.
type badRequest struct {
	status int
	msg    string
}

func (e *badRequest) Error() string { return e.msg }

func invalid(msg string) error { return &badRequest{status: http.StatusBadRequest, msg: msg} }

// decodeJSON reads exactly one JSON object into v: application/json only, valid UTF-8
// only, unknown fields rejected, at most maxJSONBody bytes.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return &badRequest{status: http.StatusUnsupportedMediaType, msg: "Content-Type must be application/json"}
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxJSONBody)
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &badRequest{status: http.StatusRequestEntityTooLarge, msg: "request body too large"}
		}
		return invalid("request body could not be read")
	}
	// encoding/json would silently replace invalid UTF-8 with U+FFFD and store mangled
	// text; refuse it instead.
	if !utf8.Valid(raw) {
		return invalid("request body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var ute *json.UnmarshalTypeError
		switch {
		case errors.As(err, &ute):
			return invalid("field " + strconv.Quote(ute.Field) + " has the wrong type")
		case errors.Is(err, io.EOF):
			return invalid("request body is empty")
		default:
			return invalid("request body is not valid JSON for this endpoint")
		}
	}
	if dec.More() {
		return invalid("request body must hold a single JSON object")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return invalid("request body must hold a single JSON object")
	}
	return nil
}

// fail answers err as problem+json: client errors with their message, an unreachable
// database as a 503 with Retry-After, anything else as a 500 whose cause is logged,
// never shown.
func (a *app) fail(w http.ResponseWriter, r *http.Request, err error) {
	var br *badRequest
	if errors.As(err, &br) {
		problem.Error(w, br.status, br.msg)
		return
	}
	if databaseUnreachable(err) {
		a.log.WarnContext(r.Context(), "database unreachable", "method", r.Method, "route", r.Pattern, "err", err)
		w.Header().Set("Retry-After", "5")
		problem.Error(w, http.StatusServiceUnavailable, "the service is temporarily unavailable; retry shortly")
		return
	}
	a.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "route", r.Pattern, "err", err)
	problem.Error(w, http.StatusInternalServerError, "internal error")
}

// databaseUnreachable reports errors that mean the database cannot be reached right now
// (no connection within the pool timeout, connection refused, reset or closed before or
// during a query) rather than a fault of the request or of the code.
func databaseUnreachable(err error) bool {
	var ne net.Error
	var ce *pgconn.ConnectError
	return errors.Is(err, pool.ErrTimeout) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.As(err, &ce) || errors.As(err, &ne) ||
		pgconn.SafeToRetry(err)
}

func notFound(what string) error {
	return &badRequest{status: http.StatusNotFound, msg: what + " not found"}
}
func forbidden(msg string) error { return &badRequest{status: http.StatusForbidden, msg: msg} }
func conflict(msg string) error  { return &badRequest{status: http.StatusConflict, msg: msg} }
func unavailable(msg string) error {
	return &badRequest{status: http.StatusServiceUnavailable, msg: msg}
}

// pathID parses the {id} wildcard.
func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, notFound("resource")
	}
	return id, nil
}
