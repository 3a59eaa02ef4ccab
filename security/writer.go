package security

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
)

// reqState is the per-request state and the ResponseWriter handed to the next handler:
// one allocation carries the nonce, the effective policy, the body limiter, the writer,
// the request's context and the header values set by the middleware. On the first
// WriteHeader (explicit or implied) it hardens Set-Cookie headers, and when the body limit
// was hit and the handler answers with an error it replaces that answer with the 413
// problem.
type reqState struct {
	s      *Security
	w      http.ResponseWriter
	r      *http.Request
	nonce  string
	policy *policy
	body   limitedBody
	ctx    reqContext
	vals   valueBuf

	https       bool
	wroteHeader bool
	discard     bool
	hijacked    bool
}

// reqContext is the context of the request handed to the next handler: its parent with
// the reqState as the value of ctxKey. It does what context.WithValue does without an
// allocation of its own, since it lives inside the reqState. Deadline, Done and Err come
// from the parent, so cancellation propagates as it does through context.WithValue.
type reqContext struct {
	context.Context
	st *reqState
}

// Value returns the reqState for ctxKey and asks the parent for any other key.
func (c *reqContext) Value(key any) any {
	if _, ok := key.(ctxKey); ok {
		return c.st
	}
	return c.Context.Value(key)
}

// String names the context like context.WithValue does, for debugging output.
func (c *reqContext) String() string {
	return fmt.Sprint(c.Context) + ".WithValue(security.ctxKey)"
}

// Header returns the underlying header map.
func (st *reqState) Header() http.Header { return st.w.Header() }

// WriteHeader hardens cookies and sends the status. 1xx informational responses other
// than 101 pass through without ending the header phase.
func (st *reqState) WriteHeader(code int) {
	if st.wroteHeader {
		st.w.WriteHeader(code) // let net/http report the superfluous call
		return
	}
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		st.w.WriteHeader(code)
		return
	}
	st.wroteHeader = true
	if st.body.hit && code >= 400 {
		st.discard = true
		st.tooLarge()
		return
	}
	st.hardenCookies()
	st.fit(code)
	st.w.WriteHeader(code)
}

// Write sends the body, implying a 200 status.
func (st *reqState) Write(p []byte) (int, error) {
	if !st.wroteHeader {
		st.WriteHeader(http.StatusOK)
	}
	if st.discard {
		return len(p), nil
	}
	return st.w.Write(p)
}

// Flush implies a 200 status and flushes the underlying writer when it can.
func (st *reqState) Flush() {
	if !st.wroteHeader {
		st.WriteHeader(http.StatusOK)
	}
	if !st.discard {
		_ = http.NewResponseController(st.w).Flush()
	}
}

// Hijack hands the connection over when the underlying writer allows it.
func (st *reqState) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(st.w).Hijack()
	if err == nil {
		st.hijacked = true
	}
	return c, rw, err
}

// Unwrap returns the underlying ResponseWriter for http.ResponseController.
func (st *reqState) Unwrap() http.ResponseWriter { return st.w }

// finish runs after the handler returned: a handler that wrote nothing still gets its
// cookies hardened (net/http sends the headers after it returns), and one that swallowed
// the body-limit error gets the 413.
func (st *reqState) finish() {
	if st.wroteHeader || st.hijacked {
		return
	}
	st.wroteHeader = true
	if st.body.hit {
		st.discard = true
		st.tooLarge()
		return
	}
	st.hardenCookies()
	st.fit(http.StatusOK)
}

func (st *reqState) hardenCookies() {
	if st.s.cookies != nil {
		st.s.cookies.harden(st.w.Header(), st.https)
	}
}

func (st *reqState) tooLarge() {
	st.hardenCookies()
	h := st.w.Header()
	delete(h, "Content-Length")
	delete(h, "Content-Disposition")
	delete(h, "Etag")
	delete(h, "Last-Modified")
	st.s.reject(st.w, st.r, rejectTooLarge())
}
