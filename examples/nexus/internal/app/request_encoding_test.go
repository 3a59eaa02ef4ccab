package app

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/nexus-reussite/harden/examples/nexus/internal/auth"
)

// Problem details of the two layers that bound a compressed request body.
const (
	detailBodyTooLarge    = "The request body exceeds the size limit."              // security: the bytes on the wire
	detailDecodedTooLarge = "The decompressed request body exceeds the size limit." // compress: the decoded bytes
)

// TestCompressedRequestBodies: gzip and zstd request bodies are decoded before the
// handlers read them; the bytes on the wire are bounded by MAX_CONTENT_LENGTH
// (security), the decoded bytes by MAX_CONTENT_LENGTH too (compress), and a coding the
// server cannot decode is refused with 415.
func TestCompressedRequestBodies(t *testing.T) {
	s := newTestServer(t, sqliteBackend(t), map[string]string{"MAX_CONTENT_LENGTH": "64KiB"})
	login, _ := json.Marshal(map[string]string{"email": demoStudent, "password": demoPassword})

	for _, c := range []struct{ header, coding string }{{"gzip", "gzip"}, {"x-gzip", "gzip"}, {"zstd", "zstd"}, {"GZIP", "gzip"}} {
		r := s.expect(http.StatusOK, "POST", "/api/auth/login", "", encode(t, c.coding, login), "Content-Encoding", c.header)
		var p auth.TokenPair
		if err := json.Unmarshal(r.body, &p); err != nil || p.AccessToken == "" {
			t.Errorf("Content-Encoding %s: login answered %s", c.header, r.body)
		}
	}
	// A compressed body of unknown length (chunked) is decoded too.
	r := s.expect(http.StatusOK, "POST", "/api/auth/login", "", chunked(encode(t, "gzip", login)), "Content-Encoding", "gzip")
	if !bytes.Contains(r.body, []byte(`"access_token"`)) {
		t.Errorf("chunked gzip login answered %s", r.body)
	}
	// identity is no coding at all.
	s.expect(http.StatusOK, "POST", "/api/auth/login", "", login, "Content-Encoding", "identity")

	// Bombs: a few hundred bytes on the wire, far more than MAX_CONTENT_LENGTH decoded.
	// compress stops decoding at the cap and answers 413 itself.
	for _, coding := range []string{"gzip", "zstd"} {
		bomb := encode(t, coding, padJSON(login, 4<<20))
		if len(bomb) >= 64<<10 {
			t.Fatalf("%s bomb is %d bytes compressed: not a bomb", coding, len(bomb))
		}
		for _, body := range []any{bomb, chunked(bomb)} {
			r := s.expect(http.StatusRequestEntityTooLarge, "POST", "/api/auth/login", "", body, "Content-Encoding", coding)
			if got := problemDetail(t, r); got != detailDecodedTooLarge {
				t.Errorf("%s bomb: detail %q, want %q", coding, got, detailDecodedTooLarge)
			}
		}
	}
	// Just under the cap decoded (the login route's own 1 MiB JSON cap is higher):
	// the body reaches the handler, which answers for its content.
	s.expect(http.StatusUnauthorized, "POST", "/api/auth/login", "",
		encode(t, "gzip", padJSON([]byte(`{"email":"nobody@example.tn","password":"wrong-password"}`), 64<<10-1)), "Content-Encoding", "gzip")

	// Compressed bytes past MAX_CONTENT_LENGTH: security refuses them, before any
	// decoding when the length is declared, while reading when it is not.
	noise := encode(t, "gzip", padJSON(login, 0, randomText(128<<10)))
	if len(noise) <= 64<<10 {
		t.Fatalf("incompressible body is only %d bytes compressed", len(noise))
	}
	r = s.expect(http.StatusRequestEntityTooLarge, "POST", "/api/auth/login", "", noise, "Content-Encoding", "gzip")
	if got := problemDetail(t, r); got != detailBodyTooLarge {
		t.Errorf("declared compressed body over the limit: detail %q, want %q", got, detailBodyTooLarge)
	}
	s.expect(http.StatusRequestEntityTooLarge, "POST", "/api/auth/login", "", chunked(noise), "Content-Encoding", "gzip")

	// Codings the server cannot decode: 415 naming the ones it can (RFC 7694).
	for _, ce := range []string{"br", "deflate", "compress", "gzip, gzip", "zstd, gzip", "gzip;q=1"} {
		r := s.expect(http.StatusUnsupportedMediaType, "POST", "/api/auth/login", "", login, "Content-Encoding", ce)
		if got := r.header.Get("Accept-Encoding"); got != "zstd, gzip" {
			t.Errorf("Content-Encoding %q: 415 with Accept-Encoding %q, want \"zstd, gzip\"", ce, got)
		}
	}
	// A body that is not what its Content-Encoding says: 400, not 500.
	truncated := encode(t, "gzip", login)
	for name, body := range map[string][]byte{
		"plain JSON labelled gzip": login,
		"plain JSON labelled zstd": login,
		"truncated gzip":           truncated[:len(truncated)/2],
		"gzip header then garbage": append(truncated[:10:10], bytes.Repeat([]byte{0xff}, 64)...),
	} {
		coding := "gzip"
		if strings.HasSuffix(name, "zstd") {
			coding = "zstd"
		}
		if r := s.expect(http.StatusBadRequest, "POST", "/api/auth/login", "", body, "Content-Encoding", coding); problemDetail(t, r) == "" {
			t.Errorf("%s: 400 without a detail", name)
		}
	}

	// The server is still serving.
	s.expect(http.StatusOK, "GET", "/api/formulas/1", "", nil)
}

// encode compresses b with gzip or zstd.
func encode(t *testing.T, coding string, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w io.WriteCloser
	switch coding {
	case "gzip":
		w, _ = gzip.NewWriterLevel(&buf, gzip.BestCompression)
	case "zstd":
		zw, err := zstd.NewWriter(&buf, zstd.WithEncoderLevel(zstd.SpeedBestCompression))
		if err != nil {
			t.Fatal(err)
		}
		w = zw
	default:
		t.Fatalf("unknown coding %q", coding)
	}
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// padJSON returns the JSON object obj grown to size bytes with spaces after its
// opening brace (still the same object), or, with text, with a "pad" member holding it.
func padJSON(obj []byte, size int, text ...string) []byte {
	if len(text) > 0 {
		return append([]byte(`{"pad":"`+text[0]+`",`), obj[1:]...)
	}
	out := append([]byte("{"), bytes.Repeat([]byte(" "), max(0, size-len(obj)))...)
	return append(out, obj[1:]...)
}

// randomText is n letters that do not compress much.
func randomText(n int) string {
	rng := rand.New(rand.NewChaCha8([32]byte{1}))
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a' + byte(rng.IntN(26))
	}
	return string(b)
}

// chunked hides the length of b, so the client sends it chunked.
func chunked(b []byte) io.Reader { return io.MultiReader(bytes.NewReader(b)) }

// problemDetail is the detail member of a problem+json body.
func problemDetail(t *testing.T, r *response) string {
	t.Helper()
	var p struct {
		Detail string `json:"detail"`
	}
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("problem body %q: %v", r.body, err)
	}
	return p.Detail
}
