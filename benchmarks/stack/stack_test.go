package stack

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-reussite/harden/internal/testenv"
)

func request() *http.Request {
	r := httptest.NewRequest(http.MethodGet, "http://api.example.com/api/formulas", nil)
	r.RemoteAddr = LoopbackProxy + ":40000"
	r.Header.Set("Accept-Encoding", "gzip")
	r.Header.Set("X-Forwarded-Proto", "https")
	r.Header.Set("X-Forwarded-For", "198.51.100.7")
	return r
}

// TestStacksServeTheSameBody proves every stack answers 200 with the payload (decoded
// when compressed) and that the peer and harden stacks really apply their concerns.
func TestStacksServeTheSameBody(t *testing.T) {
	body := Payload(3072)
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			h, err := Build(name, body, Options{})
			require.NoError(t, err)
			for i := range 2 { // the second request is a cache hit for harden-cached
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, request())
				require.Equal(t, http.StatusOK, rec.Code)
				if strings.HasSuffix(name, "-cached") && i == 1 {
					assert.NotEmpty(t, rec.Header().Get("Age"), "a hit has an Age")
					assert.NotContains(t, rec.Header(), "Cache-Status") // off by default
					assert.NotContains(t, rec.Header(), "X-Cache")
				}
				assert.Equal(t, body, decoded(t, rec.Header().Get("Content-Encoding"), rec.Body))
				ours := strings.HasPrefix(name, "harden") || strings.HasPrefix(name, "defaults")
				if name == "peer" || ours {
					assert.Equal(t, "gzip", rec.Header().Get("Content-Encoding"))
					assert.Contains(t, rec.Header().Get("Strict-Transport-Security"), "max-age=31536000")
					assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
				}
				if ours {
					assert.NotEmpty(t, rec.Header().Get("X-Request-Id"))
				}
			}
		})
	}
	_, err := Build("nope", body, Options{})
	assert.Error(t, err)
}

// TestCodingPerClient pins the content coding each compressing stack answers: gzip to a
// client that accepts only gzip, and zstd to a browser's Accept-Encoding, from gzhttp (the
// gzip-only and peer stacks) and harden alike, both at zstd's fastest level by default.
// The browser columns of the load reports therefore compare zstd with zstd.
func TestCodingPerClient(t *testing.T) {
	body := Payload(3072)
	for _, name := range []string{"gzip-only", "peer", "harden", "defaults"} {
		h, err := Build(name, body, Options{})
		require.NoError(t, err)
		for ae, want := range map[string]string{"gzip": "gzip", "gzip, deflate, br, zstd": "zstd"} {
			r := request()
			r.Header.Set("Accept-Encoding", ae)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			require.Equal(t, http.StatusOK, rec.Code, name)
			require.Equal(t, want, rec.Header().Get("Content-Encoding"), "%s answering %q", name, ae)
			assert.Equal(t, body, decoded(t, want, rec.Body), "%s answering %q", name, ae)
		}
	}
}

// decoded undoes the content coding enc ("", gzip or zstd) of body.
func decoded(t *testing.T, enc string, body io.Reader) []byte {
	t.Helper()
	switch enc {
	case "gzip":
		zr, err := gzip.NewReader(body)
		require.NoError(t, err)
		body = zr
	case "zstd":
		zr, err := zstd.NewReader(body)
		require.NoError(t, err)
		defer zr.Close()
		body = zr
	}
	got, err := io.ReadAll(body)
	require.NoError(t, err, "decoding %s", enc)
	return got
}

// BenchmarkStack measures each stack per request without the network, with a 3 KiB JSON
// body and gzip accepted. ratio-to-peer is the peer's ns/op over this stack's (higher is
// faster); run with -count for benchstat.
func BenchmarkStack(b *testing.B) {
	benchStacks(b, Payload(3072))
}

// BenchmarkStackSmall uses a 200-byte body, under every stack's compression minimum, so
// the difference to "bare" is the per-request overhead of everything but compression.
func BenchmarkStackSmall(b *testing.B) {
	benchStacks(b, Payload(200))
}

func benchStacks(b *testing.B, body []byte) {
	results := map[string]float64{}
	for _, name := range []string{"bare", "peer", "harden", "harden-cached", "defaults", "defaults-cached"} {
		h, err := Build(name, body, Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			b.RunParallel(func(pb *testing.PB) {
				w := testenv.NewHeaderSink()
				r := request()
				for pb.Next() {
					clear(w.H)
					h.ServeHTTP(w, r)
				}
			})
			results[name] = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			if peer, ok := results["peer"]; ok && name != "peer" {
				b.ReportMetric(peer/results[name], "x-vs-peer")
			}
		})
	}
}
