package observe

import (
	"bufio"
	"io"
	"net"
	"net/http"
)

// responseWriter records the status and body size of a response. It implements Unwrap so
// http.ResponseController reaches the server's writer (deadlines, EnableFullDuplex), and
// Flush, Hijack and ReadFrom directly for code that still uses type assertions.
type responseWriter struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
	hijacked    bool
}

func (w *responseWriter) reset(rw http.ResponseWriter) {
	*w = responseWriter{ResponseWriter: rw}
}

// WriteHeader records the first final status. Informational statuses (1xx other than
// 101 Switching Protocols) are passed on without committing the response.
func (w *responseWriter) WriteHeader(code int) {
	if !w.wroteHeader && (code < 100 || code > 199 || code == http.StatusSwitchingProtocols) {
		w.status = code
		w.wroteHeader = true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.status = http.StatusOK
		w.wroteHeader = true
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

// ReadFrom keeps the server's sendfile path for io.Copy into the response.
func (w *responseWriter) ReadFrom(r io.Reader) (int64, error) {
	if !w.wroteHeader {
		w.status = http.StatusOK
		w.wroteHeader = true
	}
	var n int64
	var err error
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(r)
	} else {
		n, err = io.Copy(writerOnly{w.ResponseWriter}, r)
	}
	w.bytes += n
	return n, err
}

type writerOnly struct{ io.Writer }

// Flush commits the headers (status 200 when none was set) and flushes buffered data.
func (w *responseWriter) Flush() {
	if !w.wroteHeader {
		w.status = http.StatusOK
		w.wroteHeader = true
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack hands the connection over when the server's writer supports it (HTTP/1.x);
// otherwise it returns the error of http.ResponseController, http.ErrNotSupported.
func (w *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err == nil {
		w.hijacked = true
	}
	return c, rw, err
}

// Unwrap returns the wrapped writer for http.ResponseController.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
