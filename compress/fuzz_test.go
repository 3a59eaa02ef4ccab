package compress

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// FuzzDecompress feeds arbitrary bytes as a gzip or zstd request body, and also
// arbitrary plaintext through a real encoder, to the body reader with a small cap.
// Whatever the input: no panic, never more than the cap returned, and an overflow
// is always reported as ErrBodyTooLarge and *http.MaxBytesError; a valid stream
// within the cap decodes to exactly its plaintext.
func FuzzDecompress(f *testing.F) {
	const limit = 4096
	var gz, zs bytes.Buffer
	gw := gzip.NewWriter(&gz)
	_, _ = gw.Write(bytes.Repeat([]byte(`{"a":1}`), 100))
	_ = gw.Close()
	zw, _ := zstd.NewWriter(&zs)
	_, _ = zw.Write(bytes.Repeat([]byte(`{"a":1}`), 1000))
	_ = zw.Close()
	f.Add(gz.Bytes(), false, false)
	f.Add(zs.Bytes(), true, false)
	f.Add([]byte("hello"), true, true)
	f.Add(bytes.Repeat([]byte{0}, 5000), false, true)
	f.Add([]byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x88, 0x01, 0x00, 0x00}, true, false)
	f.Add([]byte{0x50, 0x2a, 0x4d, 0x18, 0x02, 0, 0, 0, 'x', 'y'}, true, false)

	d := &decoders{}
	enc := newTestEncoder(f)
	f.Fuzz(func(t *testing.T, data []byte, useZstd, encodeFirst bool) {
		coding := Gzip
		if useZstd {
			coding = Zstd
		}
		input := data
		if encodeFirst {
			input = enc.encode(t, coding, data)
		}
		b := &bodyReader{d: d, enc: coding, src: io.NopCloser(bytes.NewReader(input)), limit: limit}
		got, err := io.ReadAll(b)
		b.release()
		if len(got) > limit {
			t.Fatalf("read %d bytes past the %d cap", len(got), limit)
		}
		if b.overflowed.Load() {
			var mbe *http.MaxBytesError
			if !errors.Is(err, ErrBodyTooLarge) || !errors.As(err, &mbe) || len(got) != limit {
				t.Fatalf("overflow reported as %v after %d bytes", err, len(got))
			}
		}
		if encodeFirst {
			switch {
			case len(data) <= limit && (err != nil || !bytes.Equal(got, data)):
				t.Fatalf("round trip of %d bytes: err %v, got %d bytes", len(data), err, len(got))
			case len(data) > limit && !errors.Is(err, ErrBodyTooLarge):
				t.Fatalf("%d plaintext bytes over the cap: err %v", len(data), err)
			}
		}
	})
}

// testEncoder reuses one encoder of each kind across fuzz iterations.
type testEncoder struct {
	zs *zstd.Encoder
	gz *gzip.Writer
}

func newTestEncoder(tb testing.TB) *testEncoder {
	zs, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
	if err != nil {
		tb.Fatal(err)
	}
	return &testEncoder{zs: zs, gz: gzip.NewWriter(io.Discard)}
}

func (e *testEncoder) encode(tb testing.TB, coding Encoding, data []byte) []byte {
	if coding == Zstd {
		return e.zs.EncodeAll(data, nil)
	}
	var buf bytes.Buffer
	e.gz.Reset(&buf)
	if _, err := e.gz.Write(data); err != nil {
		tb.Fatal(err)
	}
	if err := e.gz.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}
