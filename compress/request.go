package compress

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// decoders holds the pooled request-body decoders of one Compressor.
type decoders struct {
	gzipPool sync.Pool // *gzip.Reader
	zstdPool sync.Pool // *zstd.Decoder
}

func newZstdDecoder() (*zstd.Decoder, error) {
	return zstd.NewReader(nil,
		zstd.WithDecoderConcurrency(1), // synchronous: no goroutines per body
		zstd.WithDecoderMaxWindow(zstdMaxWindow),
		zstd.WithDecoderMaxMemory(zstdMaxWindow),
		zstd.WithDecoderLowmem(true),
	)
}

// requestEncoding classifies a request Content-Encoding value. ok is false for a
// coding that cannot be decoded (unknown, or several stacked).
func requestEncoding(v []string) (enc Encoding, ok bool) {
	if len(v) == 0 {
		return Identity, true
	}
	if len(v) > 1 {
		return "", false
	}
	s := trimOWS(v[0])
	switch {
	case s == "", strings.EqualFold(s, "identity"):
		return Identity, true
	case strings.EqualFold(s, "gzip"), strings.EqualFold(s, "x-gzip"):
		return Gzip, true
	case strings.EqualFold(s, "zstd"):
		return Zstd, true
	}
	return "", false
}

// plainReader hides every method of the request body but Read, so the zstd decoder
// never takes its whole-buffer shortcut.
type plainReader struct{ r io.Reader }

func (p plainReader) Read(b []byte) (int, error) { return p.r.Read(b) }

// bodyReader decodes a request body lazily and enforces the decoded-size cap.
type bodyReader struct {
	d          *decoders
	enc        Encoding
	src        io.ReadCloser
	gz         *gzip.Reader
	zs         *zstd.Decoder
	dec        io.Reader
	limit      int64
	n          int64
	err        error
	overflowed atomic.Bool // read by the response side, possibly from another goroutine
}

func (b *bodyReader) start() error {
	switch b.enc {
	case Gzip:
		gz, _ := b.d.gzipPool.Get().(*gzip.Reader)
		var err error
		if gz == nil {
			gz, err = gzip.NewReader(plainReader{b.src})
		} else {
			err = gz.Reset(plainReader{b.src})
		}
		if err != nil {
			if gz != nil {
				b.d.gzipPool.Put(gz)
			}
			return fmt.Errorf("compress: gzip request body: %w", err)
		}
		b.gz, b.dec = gz, gz
	case Zstd:
		zs, _ := b.d.zstdPool.Get().(*zstd.Decoder)
		if zs == nil {
			var err error
			if zs, err = newZstdDecoder(); err != nil {
				return fmt.Errorf("compress: zstd decoder: %w", err)
			}
		}
		if err := zs.Reset(plainReader{b.src}); err != nil {
			b.d.zstdPool.Put(zs)
			return fmt.Errorf("compress: zstd request body: %w", err)
		}
		b.zs, b.dec = zs, zs
	}
	return nil
}

// Read returns decoded bytes; past the cap it fails with an error matching
// ErrBodyTooLarge and *http.MaxBytesError.
func (b *bodyReader) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.dec == nil {
		if err := b.start(); err != nil {
			b.err = err
			return 0, err
		}
	}
	if len(p) == 0 {
		return 0, nil
	}
	// Read one byte past the cap to tell "exactly at the cap" from "over it".
	room := b.limit - b.n
	if int64(len(p)) > room+1 {
		p = p[:room+1]
	}
	n, err := b.dec.Read(p)
	if int64(n) > room {
		n = int(room)
		b.overflowed.Store(true)
		b.err = fmt.Errorf("%w: %w", ErrBodyTooLarge, &http.MaxBytesError{Limit: b.limit})
		b.n += int64(n)
		return n, b.err
	}
	b.n += int64(n)
	if err != nil {
		if !errors.Is(err, io.EOF) {
			err = fmt.Errorf("compress: %s request body: %w", b.enc, err)
		}
		b.err = err
	}
	return n, err
}

// Close closes the underlying body.
func (b *bodyReader) Close() error { return b.src.Close() }

// release returns the decoder to its pool; the body must not be read afterwards.
func (b *bodyReader) release() {
	if b.gz != nil {
		b.d.gzipPool.Put(b.gz)
		b.gz = nil
	}
	if b.zs != nil {
		_ = b.zs.Reset(nil)
		b.d.zstdPool.Put(b.zs)
		b.zs = nil
	}
	b.dec = nil
	if b.err == nil {
		b.err = errors.New("compress: request body read after the handler returned")
	}
}

// headerGet is h.Get(key) for a key already in canonical form: a map lookup without
// canonicalizing the key again on every request.
func headerGet(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}
