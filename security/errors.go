package security

import (
	"errors"
	"net/http"
)

// Sentinel errors. Configuration problems returned by New wrap ErrInvalidConfig; rejected
// requests carry a *RejectError wrapping one of the others.
var (
	ErrInvalidConfig = errors.New("security: invalid configuration")
	ErrBadHost       = errors.New("security: host not allowed")
	ErrHTTPSRequired = errors.New("security: HTTPS required")
	ErrBodyTooLarge  = errors.New("security: request body too large")
	ErrCrossOrigin   = errors.New("security: cross-origin request rejected")
	ErrCORSDenied    = errors.New("security: CORS preflight not allowed")
)

// RejectError describes a request the middleware refused to pass on.
type RejectError struct {
	// Status is the HTTP status the default response uses.
	Status int
	// Title is the problem title the default response uses; empty means the status text.
	Title string
	// Detail is a client-safe explanation.
	Detail string
	// Err is the sentinel (ErrBadHost, ErrHTTPSRequired, ErrBodyTooLarge, ErrCrossOrigin,
	// ErrCORSDenied).
	Err error
}

func (e *RejectError) Error() string { return e.Err.Error() + ": " + e.Detail }

// Unwrap returns the sentinel.
func (e *RejectError) Unwrap() error { return e.Err }

// reason is the bounded metric label of a rejection.
func (e *RejectError) reason() string {
	switch {
	case errors.Is(e.Err, ErrBadHost):
		return "bad_host"
	case errors.Is(e.Err, ErrHTTPSRequired):
		return "https_required"
	case errors.Is(e.Err, ErrBodyTooLarge):
		return "body_too_large"
	case errors.Is(e.Err, ErrCrossOrigin):
		return "cross_origin"
	case errors.Is(e.Err, ErrCORSDenied):
		return "cors_denied"
	}
	return "other"
}

func rejectBadHost() *RejectError {
	return &RejectError{Status: http.StatusBadRequest, Detail: "The requested host is not served here.", Err: ErrBadHost}
}

// rejectHTTPSRequired refuses plain HTTP in Production when no AllowedHosts are set, so
// there is no host a redirect could safely name.
func rejectHTTPSRequired() *RejectError {
	return &RejectError{Status: http.StatusBadRequest, Title: "HTTPS Required",
		Detail: "This service is served over HTTPS only; send the request to its https:// URL. " +
			"Plain HTTP is not redirected because the service lists no allowed hosts (AllowedHosts enables redirects).",
		Err: ErrHTTPSRequired}
}

func rejectTooLarge() *RejectError {
	return &RejectError{Status: http.StatusRequestEntityTooLarge, Detail: "The request body exceeds the size limit.", Err: ErrBodyTooLarge}
}

func rejectCSRF() *RejectError {
	return &RejectError{Status: http.StatusForbidden, Detail: "Cross-origin state-changing requests are not allowed.", Err: ErrCrossOrigin}
}

func rejectCORS() *RejectError {
	return &RejectError{Status: http.StatusForbidden, Detail: "This cross-origin request is not allowed.", Err: ErrCORSDenied}
}
