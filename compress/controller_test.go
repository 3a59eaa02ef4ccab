package compress_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nexus-reussite/harden/compress"
)

func TestResponseWriterUnwraps(t *testing.T) {
	c := mustNew(t, compress.Config{})
	rec := httptest.NewRecorder()
	var inner http.ResponseWriter
	c.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			t.Fatal("wrapper has no Unwrap")
		}
		inner = u.Unwrap()
	})).ServeHTTP(rec, httptestRequest("zstd"))
	if inner != rec {
		t.Fatalf("Unwrap returned %T, want the recorder", inner)
	}
}

func TestHijackThroughWrapper(t *testing.T) {
	c := mustNew(t, compress.Config{})
	for _, via := range []string{"controller", "interface"} {
		t.Run(via, func(t *testing.T) {
			srv := httptest.NewServer(c.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(`{"held":"back"}`)) // buffered, must not leak
				var conn interface {
					Write([]byte) (int, error)
					Close() error
				}
				var brw *bufio.ReadWriter
				var err error
				if via == "controller" {
					conn, brw, err = http.NewResponseController(w).Hijack()
				} else {
					conn, brw, err = w.(http.Hijacker).Hijack()
				}
				if err != nil {
					t.Errorf("hijack: %v", err)
					return
				}
				defer conn.Close()
				raw := "HTTP/1.1 200 OK\r\nContent-Length: 8\r\nX-Raw: yes\r\nConnection: close\r\n\r\nhijacked"
				if _, err := w.Write([]byte("late")); err != http.ErrHijacked {
					raw = "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
				}
				_, _ = brw.WriteString(raw)
				_ = brw.Flush()
			})))
			defer srv.Close()
			req, _ := http.NewRequest("GET", srv.URL, nil)
			req.Header.Set("Accept-Encoding", "zstd")
			res, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body, _ := io.ReadAll(res.Body)
			if res.Header.Get("X-Raw") != "yes" || string(body) != "hijacked" {
				t.Fatalf("got %v %q", res.Header, body)
			}
		})
	}
}

func TestResponseControllerDeadlinesAndFullDuplex(t *testing.T) {
	c := mustNew(t, compress.Config{})
	srv := httptest.NewServer(c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		var errs []string
		if err := rc.SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			errs = append(errs, "write deadline: "+err.Error())
		}
		if err := rc.SetReadDeadline(time.Now().Add(time.Minute)); err != nil {
			errs = append(errs, "read deadline: "+err.Error())
		}
		if err := rc.EnableFullDuplex(); err != nil {
			errs = append(errs, "full duplex: "+err.Error())
		}
		if b, err := io.ReadAll(r.Body); err != nil || string(b) != "ping" {
			errs = append(errs, "body: "+string(b))
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`"` + strings.Join(errs, "; ") + strings.Repeat(" ", 600) + `"`))
	})))
	defer srv.Close()
	req, _ := http.NewRequest("POST", srv.URL, strings.NewReader("ping"))
	req.Header.Set("Accept-Encoding", "gzip")
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	body := strings.TrimSpace(strings.Trim(string(decode(t, res.Header.Get("Content-Encoding"), raw)), `"`))
	if body != "" {
		t.Fatalf("ResponseController through the wrapper: %s", body)
	}
}

func TestFlushErrorAfterHijack(t *testing.T) {
	c := mustNew(t, compress.Config{})
	srv := httptest.NewServer(c.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		defer conn.Close()
		status := "204 No Content"
		if err := http.NewResponseController(w).Flush(); err != http.ErrHijacked {
			status = "500 Internal Server Error"
		}
		_, _ = io.WriteString(conn, "HTTP/1.1 "+status+"\r\nConnection: close\r\n\r\n")
	})))
	defer srv.Close()
	res, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNoContent {
		t.Fatalf("flush after hijack did not report http.ErrHijacked (status %d)", res.StatusCode)
	}
}

func TestInformationalResponsesPassThrough(t *testing.T) {
	c := mustNew(t, compress.Config{})
	body := jsonBody(3000)
	srv := httptest.NewServer(c.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Link", "</app.css>; rel=preload; as=style")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Del("Link")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})))
	defer srv.Close()
	var hints []string
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
		hints = append(hints, strconv.Itoa(code)+" "+h.Get("Link"))
		return nil
	}}
	req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", srv.URL, nil)
	req.Header.Set("Accept-Encoding", "zstd")
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if len(hints) != 1 || hints[0] != "103 </app.css>; rel=preload; as=style" {
		t.Fatalf("1xx seen by the client: %q", hints)
	}
	if res.Header.Get("Content-Encoding") != "zstd" || string(decode(t, "zstd", raw)) != string(body) {
		t.Fatalf("final response: %q", res.Header.Get("Content-Encoding"))
	}
}
