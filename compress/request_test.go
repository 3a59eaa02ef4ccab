package compress_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/nexus-reussite/harden/compress"
)

// echoServer decodes nothing itself: it reports what the handler read.
type echoResult struct {
	Len      int    `json:"len"`
	Err      string `json:"err"`
	TooLarge bool   `json:"too_large"`
	MaxBytes bool   `json:"max_bytes"`
	CE       string `json:"ce"`
	CL       int64  `json:"cl"`
	Body     []byte `json:"body"`
}

func echoHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		res := echoResult{Len: len(b), CE: r.Header.Get("Content-Encoding"), CL: r.ContentLength, Body: b}
		if err != nil {
			res.Err = err.Error()
			res.TooLarge = errors.Is(err, compress.ErrBodyTooLarge)
			var mbe *http.MaxBytesError
			res.MaxBytes = errors.As(err, &mbe)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
		}
		_ = json.NewEncoder(w).Encode(res)
	})
}

func post(t *testing.T, url, ce string, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest("POST", url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ce != "" {
		req.Header.Set("Content-Encoding", ce)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, out
}

func TestRequestBodiesAreDecoded(t *testing.T) {
	c := mustNew(t, compress.Config{DecompressRequests: true, MaxDecompressedSize: 64 << 10})
	srv := httptest.NewServer(c.Handler(echoHandler()))
	defer srv.Close()
	payload := jsonBody(20 << 10)
	for _, ce := range []string{"gzip", "x-gzip", "zstd", "GZIP"} {
		enc := strings.ToLower(strings.TrimPrefix(strings.ToLower(ce), "x-"))
		res, out := post(t, srv.URL, ce, compressBytes(t, enc, payload))
		var got echoResult
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("%s: %v: %s", ce, err, out)
		}
		if res.StatusCode != 200 || !bytes.Equal(got.Body, payload) {
			t.Fatalf("%s: status %d, handler read %d bytes, err %q", ce, res.StatusCode, got.Len, got.Err)
		}
		if got.CE != "" || got.CL != -1 {
			t.Fatalf("%s: handler saw Content-Encoding %q ContentLength %d", ce, got.CE, got.CL)
		}
	}
	// identity and no Content-Encoding pass unchanged.
	for _, ce := range []string{"", "identity"} {
		_, out := post(t, srv.URL, ce, payload)
		var got echoResult
		_ = json.Unmarshal(out, &got)
		if !bytes.Equal(got.Body, payload) || got.CE != "" {
			t.Fatalf("%q: read %d bytes, Content-Encoding %q", ce, got.Len, got.CE)
		}
	}
}

func TestRequestBodiesUntouchedByDefault(t *testing.T) {
	c := mustNew(t, compress.Config{})
	srv := httptest.NewServer(c.Handler(echoHandler()))
	defer srv.Close()
	raw := compressBytes(t, "gzip", jsonBody(2000))
	_, out := post(t, srv.URL, "gzip", raw)
	var got echoResult
	_ = json.Unmarshal(out, &got)
	if got.CE != "gzip" || !bytes.Equal(got.Body, raw) {
		t.Fatalf("default config changed the request: Content-Encoding %q, %d bytes", got.CE, got.Len)
	}
}

func TestDecompressionCapBoundary(t *testing.T) {
	const limit = 4096
	c := mustNew(t, compress.Config{DecompressRequests: true, MaxDecompressedSize: limit})
	srv := httptest.NewServer(c.Handler(echoHandler()))
	defer srv.Close()
	for _, enc := range []string{"gzip", "zstd"} {
		exact := bytes.Repeat([]byte("a"), limit)
		res, out := post(t, srv.URL, enc, compressBytes(t, enc, exact))
		if res.StatusCode != 200 {
			t.Fatalf("%s: body of exactly the cap refused: %d %s", enc, res.StatusCode, out)
		}
		res, out = post(t, srv.URL, enc, compressBytes(t, enc, append(exact, 'b')))
		if res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("%s: cap+1 answered %d %s", enc, res.StatusCode, out)
		}
		if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
			t.Fatalf("%s: 413 Content-Type %q", enc, ct)
		}
		var p map[string]any
		if err := json.Unmarshal(out, &p); err != nil || p["status"] != float64(413) {
			t.Fatalf("%s: 413 body %s", enc, out)
		}
	}
}

// TestDecompressionBomb sends 1 GiB of zeros compressed to about a megabyte (gzip)
// or less (zstd). The handler must see the error, the client a 413, and the
// heap must not grow anywhere near the decompressed size.
func TestDecompressionBomb(t *testing.T) {
	const limit = 1 << 20
	handlerErr := make(chan string, 1)
	c := mustNew(t, compress.Config{DecompressRequests: true, MaxDecompressedSize: limit})
	srv := httptest.NewServer(c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.Copy(io.Discard, r.Body)
		var mbe *http.MaxBytesError
		if !errors.Is(err, compress.ErrBodyTooLarge) || !errors.As(err, &mbe) || mbe.Limit != limit {
			handlerErr <- "handler got " + strconv.Quote(errString(err))
		} else {
			handlerErr <- ""
		}
		// What the handler writes now is replaced by the 413.
		http.Error(w, "bad body", http.StatusBadRequest)
	})))
	defer srv.Close()
	for _, enc := range []string{"gzip", "zstd"} {
		bomb := zeroBomb(t, enc, 1<<30)
		var before runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		res, out := post(t, srv.URL, enc, bomb)
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		if msg := <-handlerErr; msg != "" {
			t.Fatalf("%s: %s", enc, msg)
		}
		if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(out), `"status":413`) {
			t.Fatalf("%s: %d %s", enc, res.StatusCode, out)
		}
		// TotalAlloc counts every byte allocated during the request: a decoder that
		// buffered the decoded body, or ignored the cap, would allocate far more.
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 256<<20 {
			t.Fatalf("%s: %d MiB allocated while refusing a %d-byte bomb", enc, grew>>20, len(bomb))
		}
	}
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// zeroBomb returns an enc stream that decodes to n zero bytes: one compressed
// member (gzip) or frame (zstd) of 1 MiB of zeros, repeated. Both formats define
// concatenation as concatenated output, so decoders must handle it.
func zeroBomb(t *testing.T, enc string, n int64) []byte {
	t.Helper()
	const chunk = 1 << 20
	one := compressBytes(t, enc, make([]byte, chunk))
	return bytes.Repeat(one, int(n/chunk))
}

func TestUnsupportedRequestEncoding(t *testing.T) {
	c := mustNew(t, compress.Config{DecompressRequests: true})
	called := false
	srv := httptest.NewServer(c.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true })))
	defer srv.Close()
	for _, ce := range []string{"br", "deflate", "gzip, gzip", "zstd, identity", "compress"} {
		res, out := post(t, srv.URL, ce, []byte("xxxx"))
		if res.StatusCode != http.StatusUnsupportedMediaType {
			t.Fatalf("%q: status %d", ce, res.StatusCode)
		}
		if res.Header.Get("Accept-Encoding") != "zstd, gzip" || res.Header.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("%q: headers %v body %s", ce, res.Header, out)
		}
	}
	if called {
		t.Fatal("handler ran for an undecodable body")
	}
}

func TestCustomRefusalHandlers(t *testing.T) {
	c := mustNew(t, compress.Config{
		DecompressRequests:  true,
		MaxDecompressedSize: 10,
		TooLargeHandler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusTeapot)
		}),
		UnsupportedHandler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusNotAcceptable)
		}),
	})
	srv := httptest.NewServer(c.Handler(echoHandler()))
	defer srv.Close()
	if res, _ := post(t, srv.URL, "zstd", compressBytes(t, "zstd", make([]byte, 100))); res.StatusCode != http.StatusTeapot {
		t.Fatalf("TooLargeHandler not used: %d", res.StatusCode)
	}
	if res, _ := post(t, srv.URL, "br", []byte("x")); res.StatusCode != http.StatusNotAcceptable {
		t.Fatalf("UnsupportedHandler not used: %d", res.StatusCode)
	}
}

func TestMalformedRequestBodies(t *testing.T) {
	c := mustNew(t, compress.Config{DecompressRequests: true, MaxDecompressedSize: 1 << 20})
	srv := httptest.NewServer(c.Handler(echoHandler()))
	defer srv.Close()
	good := compressBytes(t, "zstd", jsonBody(5000))
	// A zstd frame header announcing a 128 MiB window: refused, not allocated.
	hugeWindow := []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, 17 << 3, 0x01, 0x00, 0x00}
	for _, tc := range []struct {
		name, ce string
		body     []byte
	}{
		{"gzip garbage", "gzip", []byte("definitely not gzip")},
		{"gzip truncated", "gzip", compressBytes(t, "gzip", jsonBody(5000))[:100]},
		{"zstd garbage", "zstd", []byte("definitely not zstd")},
		{"zstd truncated", "zstd", good[:len(good)/2]},
		{"zstd huge window", "zstd", hugeWindow},
	} {
		res, out := post(t, srv.URL, tc.ce, tc.body)
		var got echoResult
		_ = json.Unmarshal(out, &got)
		if res.StatusCode != http.StatusBadRequest || got.Err == "" || got.TooLarge {
			t.Errorf("%s: status %d, handler error %q", tc.name, res.StatusCode, got.Err)
		}
	}
	// No body at all with a Content-Encoding reads as an empty body.
	res, out := post(t, srv.URL, "gzip", nil)
	var got echoResult
	_ = json.Unmarshal(out, &got)
	if res.StatusCode != 200 || got.Len != 0 {
		t.Errorf("empty gzip body: status %d, %d bytes, error %q", res.StatusCode, got.Len, got.Err)
	}
}

func TestConcurrentRequestBodies(t *testing.T) {
	c := mustNew(t, compress.Config{DecompressRequests: true, MaxDecompressedSize: 64 << 10})
	srv := httptest.NewServer(c.Handler(echoHandler()))
	defer srv.Close()
	payloads := [][]byte{jsonBody(1 << 10), jsonBody(20 << 10), jsonBody(60 << 10)}
	type job struct {
		enc  string
		body []byte
		want []byte
	}
	var jobs []job
	for _, p := range payloads {
		for _, enc := range []string{"gzip", "zstd"} {
			jobs = append(jobs, job{enc, compressBytes(t, enc, p), p})
		}
	}
	var wg sync.WaitGroup
	errs := make(chan string, 100)
	for g := range 6 {
		wg.Go(func() {
			for n := range 10 {
				j := jobs[(g+n)%len(jobs)]
				req, _ := http.NewRequest("POST", srv.URL, bytes.NewReader(j.body))
				req.Header.Set("Content-Encoding", j.enc)
				res, err := srv.Client().Do(req)
				if err != nil {
					errs <- err.Error()
					return
				}
				var got echoResult
				err = json.NewDecoder(res.Body).Decode(&got)
				res.Body.Close()
				if err != nil || !bytes.Equal(got.Body, j.want) {
					errs <- j.enc + ": decoded body differs: " + got.Err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
