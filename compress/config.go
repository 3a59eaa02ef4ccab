package compress

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// Encoding is a content coding this package can produce (and, for request bodies, read).
type Encoding string

// The content codings supported by the middleware.
const (
	// Zstd is Zstandard (RFC 8878), sent with a window of at most 8 MiB as RFC 9659 requires.
	Zstd Encoding = "zstd"
	// Gzip is gzip (RFC 1952).
	Gzip Encoding = "gzip"
	// Identity means no content coding.
	Identity Encoding = "identity"
)

// Defaults applied to zero Config fields.
const (
	// DefaultLevel is the compression level on the gzip 1–9 scale (Flask-Compress COMPRESS_LEVEL).
	DefaultLevel = 6
	// DefaultMinSize is the smallest body, in bytes, worth compressing (COMPRESS_MIN_SIZE).
	DefaultMinSize = 500
	// DefaultMaxDecompressedSize caps a decompressed request body: 16 MiB.
	DefaultMaxDecompressedSize = 16 << 20
	// MaxPadding is the largest accepted Config.Padding.
	MaxPadding = 4096
)

// DefaultContentTypes returns the Flask-Compress MIME allow-list used when
// Config.ContentTypes is empty.
func DefaultContentTypes() []string {
	return []string{
		"text/html",
		"text/css",
		"text/xml",
		"text/javascript",
		"application/json",
		"application/javascript",
		"application/xml+rss",
		"application/atom+xml",
		"image/svg+xml",
	}
}

// DefaultEncodings returns the server preference order used when Config.Encodings is
// empty: zstd, then gzip.
func DefaultEncodings() []Encoding { return []Encoding{Zstd, Gzip} }

// Sentinel errors.
var (
	// ErrInvalidConfig is wrapped by every error New returns for a bad Config.
	ErrInvalidConfig = errors.New("compress: invalid config")
	// ErrBodyTooLarge is matched (errors.Is) by the error a decompressed request body
	// returns once it exceeds Config.MaxDecompressedSize.
	ErrBodyTooLarge = errors.New("compress: decompressed request body too large")
	// ErrUnsupportedEncoding is returned by ParseEncodings for an unknown coding.
	ErrUnsupportedEncoding = errors.New("compress: unsupported encoding")
)

// Config configures a Compressor. The zero value is Flask-Compress's setup (level 6,
// 500-byte minimum, its MIME list, with zstd preferred over gzip) but for zstd's level,
// its fastest rather than its default; no padding, request bodies left alone, no
// metrics.
type Config struct {
	// Level is the compression level on the gzip scale 1 (fastest) to 9 (smallest).
	// Zero means DefaultLevel (6). gzip uses it directly; zstd maps 1–6 to its
	// fastest level, 7–8 to its default level (zstd level 3, the Flask-Compress zstd
	// default) and 9 to its better-compression level.
	Level int

	// MinSize is the smallest response body, in bytes, that is compressed. Zero means
	// DefaultMinSize (500); a negative value compresses every eligible body, however small.
	// Bodies are buffered up to MinSize bytes to decide, unless the handler declares
	// Content-Length, flushes, or sends text/event-stream.
	MinSize int

	// ContentTypes is the allow-list of media types that are compressed, matched
	// case-insensitively and ignoring parameters such as charset. An entry ending in
	// "/*" (for example "text/*") matches a whole top-level type. Empty means
	// DefaultContentTypes(). Adding "text/event-stream" compresses server-sent events
	// with a flush after each event the handler flushes.
	ContentTypes []string

	// Encodings is the server preference order, used when the client's q-values tie.
	// Empty means DefaultEncodings() (zstd, then gzip). Only Zstd and Gzip are valid.
	Encodings []Encoding

	// Padding, when positive, adds between 1 and Padding bytes of random-length padding
	// to every compressed response (a gzip header comment, a zstd skippable frame) so
	// that the compressed length no longer reveals how well a secret compressed against
	// attacker-controlled input (BREACH). Zero disables it; the maximum is MaxPadding.
	// Enable it when responses reflect request input (query strings, form fields) next
	// to secrets (CSRF tokens, session data) over TLS. Padding slows a BREACH attack
	// down by requiring many more requests; it does not replace masking secrets per
	// response or SameSite cookies.
	Padding int

	// DecompressRequests, when true, transparently decodes request bodies sent with
	// Content-Encoding gzip (or x-gzip) or zstd. A body in any other coding is answered
	// with UnsupportedHandler. Default false: request bodies are passed untouched.
	DecompressRequests bool

	// MaxDecompressedSize caps the decoded size of a request body, in bytes. Zero means
	// DefaultMaxDecompressedSize (16 MiB). Past the cap, reads fail with an error
	// matching ErrBodyTooLarge and *http.MaxBytesError and the response becomes
	// TooLargeHandler's (413) unless the handler has already sent its headers.
	MaxDecompressedSize int64

	// TooLargeHandler writes the response for a request body past MaxDecompressedSize.
	// Nil means a 413 application/problem+json response.
	TooLargeHandler http.Handler

	// UnsupportedHandler writes the response for a request body in a coding that
	// cannot be decoded. Nil means a 415 application/problem+json response with an
	// Accept-Encoding header listing the supported codings (RFC 7694).
	UnsupportedHandler http.Handler

	// Registerer receives the package's Prometheus collector (bytes in and out by
	// encoding, compression ratio, decoded request bodies). Nil means no metrics.
	// The metric names are fixed, so one registry holds one Compressor's metrics: a
	// second New on the same registry fails with ErrInvalidConfig.
	Registerer prometheus.Registerer

	// Logger records encoder failures. Nil means discard.
	Logger *slog.Logger
}

// ParseEncodings parses a comma-separated preference list such as "zstd, gzip"
// (case-insensitive) into Config.Encodings form.
func ParseEncodings(s string) ([]Encoding, error) {
	var out []Encoding
	for part := range strings.SplitSeq(s, ",") {
		part = strings.ToLower(strings.TrimSpace(part))
		if part == "" {
			continue
		}
		e := Encoding(part)
		if e != Zstd && e != Gzip {
			return nil, fmt.Errorf("%w: %q", ErrUnsupportedEncoding, part)
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: empty encoding list", ErrUnsupportedEncoding)
	}
	return out, nil
}

// settings is a validated Config with defaults applied.
type settings struct {
	level       int
	minSize     int
	types       typeSet
	encodings   []Encoding
	padding     int
	decompress  bool
	maxDecoded  int64
	tooLarge    http.Handler
	unsupported http.Handler
	logger      *slog.Logger
}

func (c Config) settings() (settings, error) {
	s := settings{
		level:       cmp.Or(c.Level, DefaultLevel),
		minSize:     c.MinSize,
		padding:     c.Padding,
		decompress:  c.DecompressRequests,
		maxDecoded:  cmp.Or(c.MaxDecompressedSize, DefaultMaxDecompressedSize),
		tooLarge:    c.TooLargeHandler,
		unsupported: c.UnsupportedHandler,
		logger:      c.Logger,
	}
	switch {
	case s.level < 1 || s.level > 9:
		return s, fmt.Errorf("%w: Level %d outside 1..9", ErrInvalidConfig, c.Level)
	case s.padding < 0 || s.padding > MaxPadding:
		return s, fmt.Errorf("%w: Padding %d outside 0..%d", ErrInvalidConfig, c.Padding, MaxPadding)
	case s.maxDecoded < 0:
		return s, fmt.Errorf("%w: MaxDecompressedSize %d is negative", ErrInvalidConfig, c.MaxDecompressedSize)
	}
	switch {
	case s.minSize == 0:
		s.minSize = DefaultMinSize
	case s.minSize < 0:
		s.minSize = 0
	}
	types := c.ContentTypes
	if len(types) == 0 {
		types = DefaultContentTypes()
	}
	var err error
	if s.types, err = newTypeSet(types); err != nil {
		return s, err
	}
	if s.encodings, err = checkEncodings(c.Encodings); err != nil {
		return s, err
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// checkEncodings returns the server preference order: encs, or DefaultEncodings when
// it is empty.
func checkEncodings(encs []Encoding) ([]Encoding, error) {
	if len(encs) == 0 {
		return DefaultEncodings(), nil
	}
	var out []Encoding
	for _, e := range encs {
		if e != Zstd && e != Gzip {
			return nil, fmt.Errorf("%w: encoding %q (want %q or %q)", ErrInvalidConfig, e, Zstd, Gzip)
		}
		if slices.Contains(out, e) {
			return nil, fmt.Errorf("%w: encoding %q listed twice", ErrInvalidConfig, e)
		}
		out = append(out, e)
	}
	return out, nil
}

// typeSet is the allow-list of media types, lower-cased, without parameters.
type typeSet struct {
	exact    []string // a handful of types: scanning them is cheaper than hashing
	prefixes []string // "text/" for "text/*"
}

func newTypeSet(types []string) (typeSet, error) {
	var ts typeSet
	for _, t := range types {
		mt, _, err := mime.ParseMediaType(t)
		if err != nil || !strings.Contains(mt, "/") {
			return ts, fmt.Errorf("%w: content type %q", ErrInvalidConfig, t)
		}
		if top, ok := strings.CutSuffix(mt, "/*"); ok {
			if top == "*" || top == "" {
				return ts, fmt.Errorf("%w: content type %q is too broad", ErrInvalidConfig, t)
			}
			ts.prefixes = append(ts.prefixes, top+"/")
			continue
		}
		if !slices.Contains(ts.exact, mt) {
			ts.exact = append(ts.exact, mt)
		}
	}
	return ts, nil
}

// allows reports whether the Content-Type header value ct is on the list.
func (ts typeSet) allows(ct string) bool {
	if slices.Contains(ts.exact, ct) {
		return true // a bare type, as handlers usually set it
	}
	mt := mediaType(ct)
	if mt == "" {
		return false
	}
	if slices.Contains(ts.exact, mt) {
		return true
	}
	for _, p := range ts.prefixes {
		if len(mt) > len(p) && strings.EqualFold(mt[:len(p)], p) {
			return true
		}
	}
	return hasUpper(mt) && slices.Contains(ts.exact, strings.ToLower(mt))
}

// mediaType returns the type/subtype part of a Content-Type value, trimmed.
func mediaType(ct string) string {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.TrimSpace(ct)
}

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return true
		}
	}
	return false
}
