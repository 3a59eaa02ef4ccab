package compress

import (
	"bufio"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// Response writer states.
const (
	stateUndecided = iota // headers not sent, body buffered until the decision
	statePlain            // headers sent, body passed through unchanged
	stateEncoding         // headers sent, body going through the encoder
	stateDiscard          // a 413 replaced the handler's response; its writes are dropped
	stateHijacked         // the connection was taken over
)

// countWriter counts the bytes written to the client.
type countWriter struct {
	w http.ResponseWriter
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// responseWriter decides, once the status, headers and the first MinSize bytes are
// known, whether to compress, and then streams the body through the encoder.
type responseWriter struct {
	c     *Compressor
	rw    http.ResponseWriter
	req   *http.Request
	enc   Encoding // negotiated coding; Identity when the client accepts none
	inm   string   // If-None-Match as the client sent it, when it was rewritten
	state int
	code  int    // status held back until the decision
	buf   []byte // body held back until the decision; kept across pooled uses
	ew    encoder
	out   countWriter
	in    int64
	pad   [8]byte
	body  *bodyReader // decoded request body, when there is one
}

// Header returns the header map of the underlying writer.
func (w *responseWriter) Header() http.Header { return w.rw.Header() }

// Unwrap returns the underlying writer, for http.ResponseController.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.rw }

// WriteHeader records the status. Informational statuses (other than 101) are sent
// at once; the final status is sent with the compression decision.
func (w *responseWriter) WriteHeader(code int) {
	if w.state != stateUndecided || w.code != 0 {
		if w.state == statePlain || w.state == stateEncoding {
			w.rw.WriteHeader(code) // let net/http report the superfluous call
		}
		return
	}
	if code >= 100 && code <= 199 && code != http.StatusSwitchingProtocols {
		w.rw.WriteHeader(code)
		return
	}
	if w.tooLarge() {
		return
	}
	w.code = code
	w.decideEarly()
}

// Write buffers p until the decision can be made, then writes through.
func (w *responseWriter) Write(p []byte) (int, error) {
	switch w.state {
	case stateUndecided:
		if w.tooLarge() {
			return len(p), nil
		}
		var ct string
		checked := false
		if w.code == 0 {
			w.code = http.StatusOK
			ct, checked = w.decideEarly()
			if w.state != stateUndecided {
				return w.Write(p)
			}
		}
		if len(w.buf)+len(p) < w.c.threshold {
			w.grow(p)
			return len(p), nil
		}
		data := p
		if len(w.buf) > 0 {
			w.grow(p)
			data = w.buf
		}
		w.commitWithBody(data, ct, checked)
		if len(w.buf) > 0 {
			return len(p), w.drainBuffer()
		}
		return w.Write(p)
	case statePlain:
		return w.rw.Write(p)
	case stateEncoding:
		n, err := w.ew.Write(p)
		w.in += int64(n)
		return n, err
	case stateDiscard:
		return len(p), nil
	default:
		return 0, http.ErrHijacked
	}
}

func (w *responseWriter) grow(p []byte) {
	if w.buf == nil {
		w.buf = make([]byte, 0, max(w.c.threshold, 512))
	}
	w.buf = append(w.buf, p...)
}

// drainBuffer writes the buffered body after the decision and empties the buffer.
func (w *responseWriter) drainBuffer() error {
	buf := w.buf
	var err error
	switch {
	case len(buf) == 0:
	case w.state == statePlain:
		_, err = w.rw.Write(buf)
	case w.state == stateEncoding:
		var n int
		n, err = w.ew.Write(buf)
		w.in += int64(n)
	}
	w.discardBuffer()
	return err
}

// discardBuffer empties the buffer. Its storage stays with w, for the next response
// too, unless it grew past maxPooledBuffer.
func (w *responseWriter) discardBuffer() {
	if cap(w.buf) > maxPooledBuffer {
		w.buf = nil
		return
	}
	w.buf = w.buf[:0]
}

// Flush sends what is buffered and flushes the encoder and the connection.
func (w *responseWriter) Flush() { _ = w.FlushError() }

// FlushError is Flush reporting the error, for http.ResponseController.
func (w *responseWriter) FlushError() error {
	switch w.state {
	case stateUndecided:
		if w.tooLarge() {
			return nil
		}
		var ct string
		checked := false
		if w.code == 0 {
			w.code = http.StatusOK
			ct, checked = w.decideEarly()
		}
		if w.state == stateUndecided {
			// The handler streams: its final size is unknown, so an eligible body
			// is compressed whatever it has written so far.
			w.commitWithBody(w.buf, ct, checked)
		}
		if err := w.drainBuffer(); err != nil {
			return err
		}
		return w.FlushError()
	case stateEncoding:
		if err := w.ew.Flush(); err != nil {
			return err
		}
	case stateDiscard:
		return nil
	case stateHijacked:
		return http.ErrHijacked
	}
	return http.NewResponseController(w.rw).Flush()
}

// Hijack hands the connection over; nothing buffered is sent.
func (w *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w.rw).Hijack()
	if err == nil {
		w.discardBuffer()
		w.state = stateHijacked
	}
	return conn, brw, err
}

// decideEarly makes the decision from the status and headers alone when they settle
// it, before any body byte is buffered. When the response stays undecided, checked
// reports that the header checks passed with the headers as they now stand, and ct
// is the Content-Type they read ("" when there is none).
func (w *responseWriter) decideEarly() (ct string, checked bool) {
	h := w.rw.Header()
	ct, ok := w.mayCompress(h)
	if !ok {
		w.commit(false, false)
		return "", false
	}
	if ct == "" {
		return "", true // wait for body bytes to sniff
	}
	// ct has passed the allow-list: it can only be text/event-stream if that is on it.
	if w.c.events && strings.EqualFold(mediaType(ct), "text/event-stream") {
		w.commit(true, true) // streamed: never buffered
		return "", false
	}
	if cl := headerGet(h, "Content-Length"); cl != "" {
		n, err := strconv.ParseInt(cl, 10, 64)
		w.commit(err == nil && n >= int64(w.c.threshold), true)
		return "", false
	}
	return ct, true
}

// commitWithBody decides with the first body bytes at hand: it sniffs a missing
// Content-Type from the uncompressed bytes, so net/http never sniffs compressed ones.
// ct and checked are decideEarly's results when it ran in the same call, with no
// handler code in between; otherwise checked is false and the checks run again.
func (w *responseWriter) commitWithBody(data []byte, ct string, checked bool) {
	if checked && ct != "" {
		w.commit(true, true) // the declared type has just passed the checks
		return
	}
	h := w.rw.Header()
	if len(data) == 0 {
		// A flush before any byte: compress when the declared type allows it.
		if !checked {
			ct = headerGet(h, "Content-Type")
		}
		w.commit(ct != "", checked)
		return
	}
	if _, present := h["Content-Type"]; present {
		w.commit(true, false)
		return
	}
	if !checked {
		if _, checked = w.mayCompress(h); !checked {
			w.commit(false, false)
			return
		}
	}
	// The checks passed without a Content-Type; the sniffed one is the only change.
	sniffed := http.DetectContentType(data)
	h["Content-Type"] = []string{sniffed}
	w.commit(w.c.types.allows(sniffed), true)
}

// mayCompress reports whether the request and the response so far allow compression,
// and returns the Content-Type it read. It also adds Vary: Accept-Encoding (and fixes
// the ETag of a 304) when the response is one that could be compressed for some client.
func (w *responseWriter) mayCompress(h http.Header) (ct string, ok bool) {
	ct, ok = w.c.varyEligible(h)
	if !ok {
		return "", false
	}
	addVary(h)
	if w.code == http.StatusNotModified {
		restoreETag(h, w.inm)
	}
	switch {
	case w.enc == Identity,
		!bodyAllowed(w.code),
		w.code == http.StatusPartialContent,
		w.req.Method == http.MethodHead,
		headerGet(w.req.Header, "Range") != "",
		headerGet(h, "Content-Range") != "":
		return "", false
	}
	return ct, true
}

// commit sends the headers, compressed or not. want is the size/stream verdict. The
// header checks run again unless checked says they passed with the headers as they
// stand, so that whatever the handler changed since they last ran is honoured.
func (w *responseWriter) commit(want, checked bool) {
	if w.state != stateUndecided {
		return
	}
	var h http.Header
	if want {
		h = w.rw.Header()
		switch {
		case checked:
		case w.c.types.allows(headerGet(h, "Content-Type")):
			_, want = w.mayCompress(h)
		default:
			want = false
		}
	}
	if !want {
		w.state = statePlain
		w.rw.WriteHeader(w.code)
		return
	}
	ew, err := w.c.enc.get(w.enc, &w.out)
	if err != nil {
		w.c.cfg.logger.Debug("compress: starting encoder", "encoding", string(w.enc), "err", err)
		w.state = statePlain
		w.rw.WriteHeader(w.code)
		return
	}
	delete(h, "Content-Length")
	delete(h, "Accept-Ranges")
	h["Content-Encoding"] = []string{string(w.enc)} // this response's own slice, as in addVary
	suffixETag(h, w.enc)
	w.ew = ew
	w.state = stateEncoding
	w.rw.WriteHeader(w.code)
	if err := w.c.enc.writePadding(w.enc, &w.out, &w.pad); err != nil {
		w.c.cfg.logger.Debug("compress: writing padding", "encoding", string(w.enc), "err", err)
	}
}

// finish completes the response after the handler returned.
func (w *responseWriter) finish() {
	switch w.state {
	case stateUndecided:
		if w.tooLarge() {
			return
		}
		checked := false
		if w.code == 0 {
			w.code = http.StatusOK
			_, checked = w.decideEarly()
		}
		if w.state == stateUndecided {
			w.commit(len(w.buf) >= w.c.threshold, checked)
		}
		_ = w.drainBuffer()
		w.finish()
	case stateEncoding:
		if err := w.ew.Close(); err != nil {
			w.c.cfg.logger.Debug("compress: closing encoder", "encoding", string(w.enc), "err", err)
		}
		w.c.metrics.observe(w.enc, w.in, w.out.n)
	case statePlain:
		w.c.metrics.observe(Identity, 0, 0)
	}
}

// tooLarge answers with TooLargeHandler, once, if the decoded request body overflowed
// and nothing was sent yet; it then reports true and the handler's output is dropped.
func (w *responseWriter) tooLarge() bool {
	if w.state == stateDiscard {
		return true
	}
	if w.body == nil || !w.body.overflowed.Load() || w.state != stateUndecided {
		return false
	}
	w.discardBuffer()
	w.state = stateDiscard
	w.c.metrics.rejected(reasonTooLarge)
	w.c.cfg.tooLarge.ServeHTTP(w.rw, w.req)
	return true
}

// bodyAllowed reports whether a response with this status carries a body.
func bodyAllowed(code int) bool {
	return code >= 200 && code != http.StatusNoContent && code != http.StatusNotModified
}
