package security

import (
	"errors"
	"io"
	"net/http"
)

// limitedBody wraps http.MaxBytesReader and remembers that the limit was hit, so the
// response writer can turn the handler's error response into a 413 problem.
type limitedBody struct {
	rc  io.ReadCloser
	hit bool
}

func (b *limitedBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			b.hit = true
		}
	}
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }
