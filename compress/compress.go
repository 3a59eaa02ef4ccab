package compress

import (
	"net/http"
	"strings"
	"sync"

	"github.com/nexus-reussite/harden/internal/problem"
)

// maxPooledBuffer is the largest decision buffer a pooled responseWriter keeps for
// reuse.
const maxPooledBuffer = 64 << 10

// Compressor is the compression middleware. It is safe for concurrent use.
type Compressor struct {
	cfg         settings
	threshold   int  // bytes needed before compressing: max(MinSize, 1)
	events      bool // text/event-stream is on the allow-list, so SSE can be compressed
	types       typeSet
	enc         *encoders
	dec         *decoders
	metrics     *metrics
	writers     sync.Pool // *responseWriter, each keeping its decision buffer
	copyBuffers sync.Pool // *[]byte of copyBufferSize, for ReadFrom
}

// acceptEncoding answers a request body in a coding that cannot be decoded (415): the
// codings a request body may use.
const acceptEncoding = "zstd, gzip"

// New validates cfg, applies the defaults and returns a Compressor.
func New(cfg Config) (*Compressor, error) {
	s, err := cfg.settings()
	if err != nil {
		return nil, err
	}
	enc, err := newEncoders(s.level, s.padding)
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	c := &Compressor{
		cfg:       s,
		threshold: max(s.minSize, 1),
		events:    s.types.allows("text/event-stream"),
		types:     s.types,
		enc:       enc,
		dec:       &decoders{},
		metrics:   m,
	}
	if c.cfg.tooLarge == nil {
		c.cfg.tooLarge = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Connection", "close")
			problem.Error(w, http.StatusRequestEntityTooLarge, "The decompressed request body exceeds the size limit.")
		})
	}
	if c.cfg.unsupported == nil {
		c.cfg.unsupported = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Accept-Encoding", acceptEncoding)
			problem.Error(w, http.StatusUnsupportedMediaType, "The request body's Content-Encoding is not supported.")
		})
	}
	return c, nil
}

// Handler returns next wrapped with response compression and, when configured,
// request-body decompression.
func (c *Compressor) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		c.serve(next, rw, r)
	})
}

func (c *Compressor) serve(next http.Handler, rw http.ResponseWriter, r *http.Request) {
	w, _ := c.writers.Get().(*responseWriter)
	if w == nil {
		w = &responseWriter{}
	}
	// Pooled writers are cleared by putWriter: only the fields not zero at the start
	// of a response are set.
	w.c, w.rw, w.out.w = c, rw, rw
	w.enc = negotiate(r.Header["Accept-Encoding"], c.cfg.encodings)

	if inm := headerGet(r.Header, "If-None-Match"); inm != "" {
		if stripped, changed := stripETagSuffixes(inm); changed {
			r = r.Clone(r.Context())
			r.Header.Set("If-None-Match", stripped)
			w.inm = inm
		}
	}
	if c.cfg.decompress {
		if ce, present := r.Header["Content-Encoding"]; present {
			e, ok := requestEncoding(ce)
			if !ok {
				c.metrics.rejected(reasonUnsupported)
				c.putWriter(w)
				c.cfg.unsupported.ServeHTTP(rw, r)
				return
			}
			r = r.Clone(r.Context())
			r.Header.Del("Content-Encoding")
			if e != Identity && r.Body != nil && r.Body != http.NoBody {
				r.Header.Del("Content-Length")
				r.ContentLength = -1
				w.body = &bodyReader{d: c.dec, enc: e, src: r.Body, limit: c.cfg.maxDecoded}
				r.Body = w.body
				c.metrics.decodedBody(e)
			}
		}
	}
	w.req = r

	done := false
	defer func() {
		if done {
			w.finish()
		} else {
			// The handler panicked: send nothing held back, leave the response to
			// whoever recovers.
			w.discardBuffer()
		}
		if w.ew != nil {
			c.enc.put(w.ew)
		}
		if w.body != nil {
			w.body.release()
		}
		c.putWriter(w)
	}()
	next.ServeHTTP(w, r)
	done = true
}

// putWriter clears w, keeping only its decision buffer when that is small enough to
// reuse, and returns it to the pool.
func (c *Compressor) putWriter(w *responseWriter) {
	buf := w.buf[:0]
	if cap(buf) > maxPooledBuffer {
		buf = nil
	}
	*w = responseWriter{buf: buf}
	c.writers.Put(w)
}

// varyEligible reports whether the response, as its headers stand, could be
// compressed for some client: not already encoded, not no-transform, and of an
// allowed (or not yet known) type. It returns the Content-Type it read.
func (c *Compressor) varyEligible(h http.Header) (ct string, ok bool) {
	if ce := h["Content-Encoding"]; len(ce) > 0 && ce[0] != "" {
		return "", false
	}
	for _, v := range h["Cache-Control"] {
		if containsToken(v, "no-transform") {
			return "", false
		}
	}
	if ct = headerGet(h, "Content-Type"); ct != "" && !c.types.allows(ct) {
		return "", false
	}
	return ct, true
}

// addVary adds Accept-Encoding to the Vary header unless it is already covered. The
// value is a new slice: a header slice shared between responses would carry an outer
// middleware's in-place write (h["Vary"][0] = …) into every other response.
func addVary(h http.Header) {
	vs := h["Vary"]
	if len(vs) == 0 {
		h["Vary"] = []string{"Accept-Encoding"}
		return
	}
	for _, v := range vs {
		if containsToken(v, "Accept-Encoding") || containsToken(v, "*") {
			return
		}
	}
	h["Vary"] = append(vs, "Accept-Encoding")
}

// containsToken reports whether the comma-separated header value v lists token
// (case-insensitive; parameters after '=' do not match).
func containsToken(v, token string) bool {
	for v != "" {
		var t string
		if i := strings.IndexByte(v, ','); i >= 0 {
			t, v = v[:i], v[i+1:]
		} else {
			t, v = v, ""
		}
		if strings.EqualFold(trimOWS(t), token) {
			return true
		}
	}
	return false
}
