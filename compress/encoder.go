package compress

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Zstandard windows. RFC 9659 requires HTTP decoders to support 8 MiB windows and
// allows them to refuse larger ones, so that is the most a request body may use.
// Responses use 1 MiB: an encoder's history buffer grows to about twice its window,
// so this bounds the memory of each concurrent compressed response at a negligible
// cost in ratio for API-sized bodies.
const (
	zstdMaxWindow     = 8 << 20
	zstdEncoderWindow = 1 << 20
)

// encoders holds the pooled gzip and zstd writers of one Compressor.
type encoders struct {
	level      int
	zstdLevel  zstd.EncoderLevel
	gzipPool   sync.Pool // *gzip.Writer
	zstdPool   sync.Pool // *zstd.Encoder
	padding    int
	padComment string // Padding bytes of filler for the gzip header comment
	padBytes   []byte // Padding bytes of filler for the zstd skippable frame
}

// zstdLevelFor maps a gzip-scale level (1–9) onto the zstd encoder levels. Up to 6 it
// is the fastest: on API JSON it sends no more bytes than the default level, and on text the
// default level's 4–6 % fewer bytes take it 1.4–1.8 times the time and nearly three times
// the memory (benchmarks/README.md, "zstd levels").
func zstdLevelFor(level int) zstd.EncoderLevel {
	switch {
	case level <= 6:
		return zstd.SpeedFastest
	case level <= 8:
		return zstd.SpeedDefault
	default:
		return zstd.SpeedBetterCompression
	}
}

func newEncoders(level, padding int) (*encoders, error) {
	e := &encoders{level: level, zstdLevel: zstdLevelFor(level), padding: padding}
	// Build one of each now so that a bad option is an error from New, not a
	// failure on the first request.
	gz, err := gzip.NewWriterLevel(io.Discard, level)
	if err != nil {
		return nil, fmt.Errorf("%w: gzip level %d: %w", ErrInvalidConfig, level, err)
	}
	zs, err := e.newZstd()
	if err != nil {
		return nil, fmt.Errorf("%w: zstd: %w", ErrInvalidConfig, err)
	}
	e.gzipPool.Put(gz)
	e.zstdPool.Put(zs)
	if padding > 0 {
		e.padComment = strings.Repeat(" ", padding)
		e.padBytes = make([]byte, padding)
	}
	return e, nil
}

func (e *encoders) newZstd() (*zstd.Encoder, error) {
	return zstd.NewWriter(nil,
		zstd.WithEncoderLevel(e.zstdLevel),
		zstd.WithEncoderConcurrency(1),
		zstd.WithWindowSize(zstdEncoderWindow),
		zstd.WithZeroFrames(true),
	)
}

// encoder is the part of *gzip.Writer and *zstd.Encoder the response writer uses.
type encoder interface {
	Write(p []byte) (int, error)
	Flush() error
	Close() error
}

// get returns a writer for enc reset onto w. For gzip the BREACH padding, when
// configured, goes into the header the first write emits; for zstd, writePadding
// must be called before the first write.
func (e *encoders) get(enc Encoding, w io.Writer) (encoder, error) {
	switch enc {
	case Gzip:
		gz, _ := e.gzipPool.Get().(*gzip.Writer)
		if gz == nil {
			var err error
			if gz, err = gzip.NewWriterLevel(w, e.level); err != nil {
				return nil, err
			}
		} else {
			gz.Reset(w)
		}
		if e.padding > 0 {
			gz.Comment = e.padComment[:1+rand.IntN(e.padding)]
		}
		return gz, nil
	case Zstd:
		zs, _ := e.zstdPool.Get().(*zstd.Encoder)
		if zs == nil {
			var err error
			if zs, err = e.newZstd(); err != nil {
				return nil, err
			}
		}
		zs.Reset(w)
		return zs, nil
	}
	return nil, fmt.Errorf("compress: no encoder for %q", enc)
}

// writePadding writes a zstd skippable frame (RFC 8878 §3.1.2) of random length,
// which every decoder ignores, when padding is configured.
func (e *encoders) writePadding(enc Encoding, w io.Writer, hdr *[8]byte) error {
	if e.padding == 0 || enc != Zstd {
		return nil
	}
	n := 1 + rand.IntN(e.padding)
	binary.LittleEndian.PutUint32(hdr[0:4], 0x184D2A50)
	binary.LittleEndian.PutUint32(hdr[4:8], uint32(n))
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	_, err := w.Write(e.padBytes[:n])
	return err
}

// put returns an encoder to its pool. It is not reset here: get resets it, and a
// reset clears the match tables, which is a measurable part of a small response. The
// writer it still points to is a field of a pooled responseWriter whose references
// have been cleared.
func (e *encoders) put(enc encoder) {
	switch x := enc.(type) {
	case *gzip.Writer:
		e.gzipPool.Put(x)
	case *zstd.Encoder:
		e.zstdPool.Put(x)
	}
}
