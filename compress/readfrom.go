package compress

import (
	"io"
	"net/http"
)

// copyBufferSize is the chunk size ReadFrom reads with, io.Copy's default.
const copyBufferSize = 32 << 10

// ReadFrom copies src into the response. Once the response is known to go out
// unchanged it hands src to the underlying writer, so net/http can still use
// sendfile for files served through http.ServeContent; otherwise it copies through
// a pooled buffer instead of io.Copy's per-call 32 KiB allocation.
func (w *responseWriter) ReadFrom(src io.Reader) (int64, error) {
	var total int64
	if w.state == stateUndecided && w.code == 0 && !w.tooLarge() {
		// The headers alone may settle it (a type that is never compressed), in
		// which case no byte needs to pass through this writer.
		w.code = http.StatusOK
		w.decideEarly()
	}
	if w.state == stateUndecided || w.state == stateEncoding {
		bp := w.c.getCopyBuffer()
		defer w.c.copyBuffers.Put(bp)
		buf := *bp
		for w.state == stateUndecided || w.state == stateEncoding {
			n, err := src.Read(buf)
			if n > 0 {
				m, werr := w.Write(buf[:n])
				total += int64(m)
				if werr != nil {
					return total, werr
				}
			}
			if err == io.EOF {
				return total, nil
			}
			if err != nil {
				return total, err
			}
		}
	}
	switch w.state {
	case statePlain:
		n, err := io.Copy(w.rw, src)
		return total + n, err
	case stateDiscard:
		n, err := io.Copy(io.Discard, src)
		return total + n, err
	}
	return total, http.ErrHijacked
}

func (c *Compressor) getCopyBuffer() *[]byte {
	if b, ok := c.copyBuffers.Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, copyBufferSize)
	return &b
}
