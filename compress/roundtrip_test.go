package compress_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"sync"
	"testing"

	"github.com/nexus-reussite/harden/compress"
)

func newJSONServer(t *testing.T, cfg compress.Config, body []byte) *httptest.Server {
	t.Helper()
	c := mustNew(t, cfg)
	srv := httptest.NewServer(c.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = w.Write(body)
	})))
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, client *http.Client, method, url, acceptEncoding string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if acceptEncoding != "" {
		req.Header.Set("Accept-Encoding", acceptEncoding)
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, b
}

func TestTransportDecodesGzipTransparently(t *testing.T) {
	body := jsonBody(10 << 10)
	srv := newJSONServer(t, compress.Config{}, body)
	// The default transport adds "Accept-Encoding: gzip" and decodes on its own.
	res, got := get(t, srv.Client(), "GET", srv.URL, "")
	if !res.Uncompressed {
		t.Fatalf("transport did not see a gzip response (headers %v)", res.Header)
	}
	if !bytes.Equal(got, body) {
		t.Fatalf("decoded body differs")
	}
}

func TestRealClientRoundTrips(t *testing.T) {
	body := jsonBody(100 << 10)
	srv := newJSONServer(t, compress.Config{}, body)
	for _, enc := range []string{"zstd", "gzip"} {
		res, raw := get(t, srv.Client(), "GET", srv.URL, enc)
		if res.Header.Get("Content-Encoding") != enc {
			t.Fatalf("asked %s, got %q", enc, res.Header.Get("Content-Encoding"))
		}
		if len(raw) >= len(body)/3 {
			t.Errorf("%s: %d bytes for %d of JSON: not compressed enough", enc, len(raw), len(body))
		}
		if !bytes.Equal(decode(t, enc, raw), body) {
			t.Fatalf("%s: body differs after decoding", enc)
		}
		if res.ContentLength != -1 || len(res.TransferEncoding) == 0 {
			t.Errorf("%s: ContentLength %d TransferEncoding %v, want chunked", enc, res.ContentLength, res.TransferEncoding)
		}
	}
	// HEAD on a real server: no body, no coding, but Vary.
	res, raw := get(t, srv.Client(), "HEAD", srv.URL, "zstd")
	if len(raw) != 0 || res.Header.Get("Content-Encoding") != "" || res.Header.Get("Vary") != "Accept-Encoding" {
		t.Fatalf("HEAD: %d body bytes, Content-Encoding %q, Vary %q", len(raw), res.Header.Get("Content-Encoding"), res.Header.Get("Vary"))
	}
}

// TestCommandLineToolsDecode feeds the raw response bytes to the reference gzip and
// zstd implementations, so the streams are checked by something other than our own
// library.
func TestCommandLineToolsDecode(t *testing.T) {
	body := jsonBody(100 << 10)
	for _, cfg := range []struct {
		name string
		cfg  compress.Config
	}{
		{"plain", compress.Config{}},
		{"padded", compress.Config{Padding: 64}},
		{"level 9", compress.Config{Level: 9}},
	} {
		srv := newJSONServer(t, cfg.cfg, body)
		for _, tool := range []string{"gzip", "zstd"} {
			t.Run(cfg.name+"/"+tool, func(t *testing.T) {
				path, err := exec.LookPath(tool)
				if err != nil {
					t.Skipf("%s command not installed", tool)
				}
				res, raw := get(t, srv.Client(), "GET", srv.URL, tool)
				if res.Header.Get("Content-Encoding") != tool {
					t.Fatalf("Content-Encoding %q", res.Header.Get("Content-Encoding"))
				}
				cmd := exec.Command(path, "-d", "-c")
				cmd.Stdin = bytes.NewReader(raw)
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				out, err := cmd.Output()
				if err != nil {
					t.Fatalf("%s -d: %v: %s", tool, err, stderr.String())
				}
				if !bytes.Equal(out, body) {
					t.Fatalf("%s -d output differs (%d bytes, want %d)", tool, len(out), len(body))
				}
			})
		}
	}
}

func TestHTTP2RoundTrip(t *testing.T) {
	body := jsonBody(20 << 10)
	c := mustNew(t, compress.Config{})
	srv := httptest.NewUnstartedServer(c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor != 2 {
			http.Error(w, "want HTTP/2", http.StatusHTTPVersionNotSupported)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body[:1000])
		if err := http.NewResponseController(w).Flush(); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		_, _ = w.Write(body[1000:])
	})))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	res, raw := get(t, srv.Client(), "GET", srv.URL, "zstd")
	if res.ProtoMajor != 2 || res.Header.Get("Content-Encoding") != "zstd" {
		t.Fatalf("proto %s, encoding %q", res.Proto, res.Header.Get("Content-Encoding"))
	}
	if !bytes.Equal(decode(t, "zstd", raw), body) {
		t.Fatalf("HTTP/2 body differs")
	}
}

// TestConcurrentResponses runs many requests of different encodings and sizes at once
// through one Compressor; with -race it checks the pools share nothing unsafely, and
// the bodies check no encoder state leaks between responses.
func TestConcurrentResponses(t *testing.T) {
	bodies := [][]byte{jsonBody(100), jsonBody(1 << 10), jsonBody(10 << 10), jsonBody(100 << 10)}
	c := mustNew(t, compress.Config{Padding: 16})
	srv := httptest.NewServer(c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var i int
		_, _ = fmt.Sscan(r.URL.Query().Get("i"), &i)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(bodies[i])
	})))
	t.Cleanup(srv.Close)
	encs := []string{"zstd", "gzip", ""}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 8 {
		wg.Go(func() {
			for n := range 12 {
				i, enc := (g+n)%len(bodies), encs[(g*n)%len(encs)]
				req, _ := http.NewRequest("GET", fmt.Sprintf("%s/?i=%d", srv.URL, i), nil)
				req.Header.Set("Accept-Encoding", enc)
				if enc == "" {
					req.Header.Set("Accept-Encoding", "identity")
				}
				res, err := srv.Client().Do(req)
				if err != nil {
					errs <- err
					return
				}
				raw, err := io.ReadAll(res.Body)
				res.Body.Close()
				if err != nil {
					errs <- err
					return
				}
				got := res.Header.Get("Content-Encoding")
				want := enc
				if len(bodies[i]) < compress.DefaultMinSize {
					want = ""
				}
				if got != want {
					errs <- fmt.Errorf("body %d asked %q: Content-Encoding %q", i, enc, got)
					return
				}
				if !bytes.Equal(decode(t, got, raw), bodies[i]) {
					errs <- fmt.Errorf("body %d via %q differs", i, enc)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
