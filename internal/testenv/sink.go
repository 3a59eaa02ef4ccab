package testenv

import "net/http"

// HeaderSink is a ResponseWriter that keeps the headers and the status and drops the body,
// so allocation counts and benchmarks measure the middleware rather than a recorder's buffer.
// Reset clears it for the next request.
type HeaderSink struct {
	H    http.Header
	Code int
}

// NewHeaderSink returns an empty sink.
func NewHeaderSink() *HeaderSink { return &HeaderSink{H: http.Header{}} }

// Header returns the response headers.
func (s *HeaderSink) Header() http.Header { return s.H }

// WriteHeader records the status.
func (s *HeaderSink) WriteHeader(code int) { s.Code = code }

// Write drops p, recording 200 when no status was written.
func (s *HeaderSink) Write(p []byte) (int, error) {
	if s.Code == 0 {
		s.Code = http.StatusOK
	}
	return len(p), nil
}

// Reset clears the headers and the status.
func (s *HeaderSink) Reset() {
	clear(s.H)
	s.Code = 0
}
