package compress_test

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/nexus-reussite/harden/compress"
)

// sseServer streams one event, flushes, and holds the response open until release is
// closed; then it sends a second event.
func sseServer(t *testing.T, cfg compress.Config, release <-chan struct{}) *httptest.Server {
	t.Helper()
	c := mustNew(t, cfg)
	srv := httptest.NewServer(c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = io.WriteString(w, "event: progress\ndata: {\"step\":1}\n\n")
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("flush: %v", err)
			return
		}
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		_, _ = io.WriteString(w, "event: progress\ndata: {\"step\":2}\n\n")
	})))
	t.Cleanup(srv.Close)
	return srv
}

// readEvent reads one SSE event (up to the blank line) from r.
func readEvent(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	var b strings.Builder
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("reading event: %v (have %q)", err, b.String())
		}
		if line == "\n" {
			return b.String()
		}
		b.WriteString(line)
	}
}

func TestEventStreamIsStreamedNotBuffered(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cfg     compress.Config
		accept  string
		wantEnc string
	}{
		{"default list: identity", compress.Config{}, "zstd, gzip", ""},
		{"opted in: zstd", compress.Config{ContentTypes: append(compress.DefaultContentTypes(), "text/event-stream")}, "zstd", "zstd"},
		{"opted in: gzip", compress.Config{ContentTypes: append(compress.DefaultContentTypes(), "text/event-stream")}, "gzip", "gzip"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			release := make(chan struct{})
			srv := sseServer(t, tc.cfg, release)
			req, _ := http.NewRequest("GET", srv.URL, nil)
			req.Header.Set("Accept-Encoding", tc.accept)
			res, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			if got := res.Header.Get("Content-Encoding"); got != tc.wantEnc {
				t.Fatalf("Content-Encoding %q, want %q", got, tc.wantEnc)
			}
			var body io.Reader = res.Body
			switch tc.wantEnc {
			case "gzip":
				zr, err := gzip.NewReader(res.Body)
				if err != nil {
					t.Fatal(err)
				}
				body = zr
			case "zstd":
				zr, err := zstd.NewReader(res.Body, zstd.WithDecoderConcurrency(1))
				if err != nil {
					t.Fatal(err)
				}
				defer zr.Close()
				body = zr
			}
			br := bufio.NewReader(body)
			// The handler is still blocked on release: this event can only arrive if
			// nothing along the way buffered it.
			done := make(chan string, 1)
			go func() { done <- readEvent(t, br) }()
			select {
			case ev := <-done:
				if ev != "event: progress\ndata: {\"step\":1}\n" {
					t.Fatalf("first event %q", ev)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("first event not delivered while the handler was still running")
			}
			close(release)
			if ev := readEvent(t, br); ev != "event: progress\ndata: {\"step\":2}\n" {
				t.Fatalf("second event %q", ev)
			}
		})
	}
}

func TestFlushBeforeMinSizeStreamsCompressed(t *testing.T) {
	c := mustNew(t, compress.Config{})
	release := make(chan struct{})
	srv := httptest.NewServer(c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, "[1,\n")
		w.(http.Flusher).Flush()
		<-release
		_, _ = io.WriteString(w, "2]\n")
	})))
	t.Cleanup(srv.Close)
	req, _ := http.NewRequest("GET", srv.URL, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("a flushed stream of an allowed type is compressed; got %q", res.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(zr)
	line, err := br.ReadString('\n')
	if err != nil || line != "[1,\n" {
		t.Fatalf("first line %q, %v", line, err)
	}
	close(release)
	rest, err := io.ReadAll(br)
	if err != nil || string(rest) != "2]\n" {
		t.Fatalf("rest %q, %v", rest, err)
	}
}

func TestFlushWithoutBodyOrTypeSendsHeaders(t *testing.T) {
	c := mustNew(t, compress.Config{})
	rec := httptest.NewRecorder()
	c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		w.(http.Flusher).Flush()
		_, _ = w.Write(bytes.Repeat([]byte("x"), 1000))
	})).ServeHTTP(rec, httptestRequest("zstd"))
	if !rec.Flushed || rec.Code != http.StatusAccepted || rec.Header().Get("Content-Encoding") != "" || rec.Body.Len() != 1000 {
		t.Fatalf("flushed %v code %d encoding %q len %d", rec.Flushed, rec.Code, rec.Header().Get("Content-Encoding"), rec.Body.Len())
	}
}

func httptestRequest(acceptEncoding string) *http.Request {
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Accept-Encoding", acceptEncoding)
	return r
}
