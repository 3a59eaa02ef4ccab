package cache

import (
	"bufio"
	"bytes"
	"net"
	"net/http"
)

// recorder buffers a response so the cache can store it and answer a conditional request
// itself. It turns into a plain pass-through writer when the response cannot be stored
// (decided on WriteHeader), grows past the body limit, or the handler flushes or hijacks.
type recorder struct {
	w           http.ResponseWriter
	max         int64
	decide      func(status int, h http.Header) bool // true: keep buffering
	onPass      func(h http.Header)                  // marks a response passed through
	status      int
	wroteHeader bool
	passing     bool
	buf         bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.w.Header() }

func (r *recorder) WriteHeader(code int) {
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		r.w.WriteHeader(code) // informational: send on, it is not the final response
		return
	}
	if r.wroteHeader {
		return
	}
	r.wroteHeader, r.status = true, code
	if !r.decide(code, r.w.Header()) {
		r.pass()
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	if !r.wroteHeader {
		r.WriteHeader(http.StatusOK)
	}
	if r.passing {
		return r.w.Write(p)
	}
	if int64(r.buf.Len()+len(p)) > r.max {
		r.pass()
		return r.w.Write(p)
	}
	return r.buf.Write(p)
}

// pass sends the status and what was buffered, then lets everything through.
func (r *recorder) pass() {
	if r.passing {
		return
	}
	r.passing = true
	if !r.wroteHeader {
		r.wroteHeader, r.status = true, http.StatusOK
	}
	r.onPass(r.w.Header())
	r.w.WriteHeader(r.status)
	if r.buf.Len() > 0 {
		_, _ = r.w.Write(r.buf.Bytes())
		r.buf.Reset()
	}
}

// FlushError streams: the response is no longer cached.
func (r *recorder) FlushError() error {
	r.pass()
	return http.NewResponseController(r.w).Flush()
}

// Flush implements http.Flusher.
func (r *recorder) Flush() { _ = r.FlushError() }

// Hijack hands the connection over; the response is not cached.
func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	r.passing, r.wroteHeader = true, true
	return http.NewResponseController(r.w).Hijack()
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.w }

// bufferWriter collects a response produced in the background (revalidation).
type bufferWriter struct {
	header http.Header
	status int
	buf    bytes.Buffer
	max    int64
	over   bool
}

func (b *bufferWriter) Header() http.Header { return b.header }

func (b *bufferWriter) WriteHeader(code int) {
	if b.status == 0 && (code < 100 || code >= 200) {
		b.status = code
	}
}

func (b *bufferWriter) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	if int64(b.buf.Len()+len(p)) > b.max {
		b.over = true
		return len(p), nil
	}
	return b.buf.Write(p)
}
