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
	code  int // status held back until the decision
	buf   []byte
	bufp  *[]byte
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
		if w.code == 0 {
			w.code = http.StatusOK
			w.decideEarly()
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
		w.commitWithBody(data)
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
	if w.bufp == nil {
		w.bufp = w.c.getBuffer()
		w.buf = (*w.bufp)[:0]
	}
	w.buf = append(w.buf, p...)
}

// drainBuffer writes the buffered body after the decision and releases the buffer.
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
	w.releaseBuffer()
	return err
}

func (w *responseWriter) releaseBuffer() {
	if w.bufp != nil {
		*w.bufp = w.buf[:0]
		w.c.putBuffer(w.bufp)
		w.bufp, w.buf = nil, nil
	}
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
		if w.code == 0 {
			w.code = http.StatusOK
			w.decideEarly()
		}
		if w.state == stateUndecided {
			// The handler streams: its final size is unknown, so an eligible body
			// is compressed whatever it has written so far.
			w.commitWithBody(w.buf)
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
		w.releaseBuffer()
		w.state = stateHijacked
	}
	return conn, brw, err
}

// decideEarly makes the decision from the status and headers alone when they settle
// it, before any body byte is buffered.
func (w *responseWriter) decideEarly() {
	h := w.rw.Header()
	if !w.mayCompress(h) {
		w.commit(false)
		return
	}
	ct := headerGet(h, "Content-Type")
	if ct == "" {
		return // wait for body bytes to sniff
	}
	if strings.EqualFold(mediaType(ct), "text/event-stream") {
		w.commit(true) // streamed: never buffered
		return
	}
	if cl := headerGet(h, "Content-Length"); cl != "" {
		n, err := strconv.ParseInt(cl, 10, 64)
		w.commit(err == nil && n >= int64(w.c.threshold))
	}
}

// commitWithBody decides with the first body bytes at hand: it sniffs a missing
// Content-Type from the uncompressed bytes, so net/http never sniffs compressed ones.
func (w *responseWriter) commitWithBody(data []byte) {
	h := w.rw.Header()
	if len(data) == 0 {
		// A flush before any byte: compress when the declared type allows it.
		w.commit(headerGet(h, "Content-Type") != "")
		return
	}
	if _, ok := h["Content-Type"]; !ok && w.mayCompress(h) {
		h.Set("Content-Type", http.DetectContentType(data))
	}
	w.commit(true)
}

// mayCompress reports whether the request and the response so far allow compression.
// It also adds Vary: Accept-Encoding (and fixes the ETag of a 304) when the response
// is one that could be compressed for some client.
func (w *responseWriter) mayCompress(h http.Header) bool {
	if !w.c.varyEligible(h) {
		return false
	}
	w.c.addVary(h)
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
		return false
	}
	return true
}

// commit sends the headers, compressed or not. want is the size/stream verdict; the
// header checks are repeated so a missing Content-Type sniffed late is honoured.
func (w *responseWriter) commit(want bool) {
	if w.state != stateUndecided {
		return
	}
	h := w.rw.Header()
	if want {
		want = w.c.types.allows(headerGet(h, "Content-Type")) && w.mayCompress(h)
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
	h["Content-Encoding"] = w.c.encodingValue(w.enc)
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
		if w.code == 0 {
			w.code = http.StatusOK
			w.decideEarly()
		}
		if w.state == stateUndecided {
			w.commit(len(w.buf) >= w.c.threshold)
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
	w.releaseBuffer()
	w.state = stateDiscard
	w.c.metrics.rejected(reasonTooLarge)
	w.c.cfg.tooLarge.ServeHTTP(w.rw, w.req)
	return true
}

// bodyAllowed reports whether a response with this status carries a body.
func bodyAllowed(code int) bool {
	return code >= 200 && code != http.StatusNoContent && code != http.StatusNotModified
}
