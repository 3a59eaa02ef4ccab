package health

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestHTTPCheckAgainstRealServer(t *testing.T) {
	type seen struct {
		method, path, ua, key string
	}
	got := make(chan seen, 10)
	status := atomic.Int32{}
	status.Store(200)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- seen{r.Method, r.URL.RequestURI(), r.UserAgent(), r.Header.Get("X-Api-Key")}
		if s := status.Load(); s == 302 {
			http.Redirect(w, r, "/login", http.StatusFound)
			return
		} else {
			w.WriteHeader(int(s))
		}
		_, _ = w.Write([]byte(strings.Repeat("x", 100<<10))) // longer than what is drained
	}))
	defer srv.Close()

	tests := []struct {
		name   string
		cfg    HTTPConfig
		status int32
		want   Status
		seen   seen
		errHas string
	}{
		{"default GET 200", HTTPConfig{URL: srv.URL + "/v1/models?x=1"}, 200, StatusPass,
			seen{"GET", "/v1/models?x=1", "harden-health", ""}, ""},
		{"204 is healthy", HTTPConfig{URL: srv.URL}, 204, StatusPass, seen{"GET", "/", "harden-health", ""}, ""},
		{"503 fails", HTTPConfig{URL: srv.URL + "/up"}, 503, StatusFail, seen{"GET", "/up", "harden-health", ""}, "unexpected status 503"},
		{"redirect not followed", HTTPConfig{URL: srv.URL + "/up"}, 302, StatusFail, seen{"GET", "/up", "harden-health", ""}, "unexpected status 302"},
		{"method and headers", HTTPConfig{URL: srv.URL + "/h", Method: http.MethodHead,
			Header: http.Header{"X-Api-Key": {"k1"}, "User-Agent": {"nexus/1"}}}, 200, StatusPass,
			seen{"HEAD", "/h", "nexus/1", "k1"}, ""},
		{"custom expectation", HTTPConfig{URL: srv.URL + "/teapot", ExpectStatus: func(c int) bool { return c == 418 }}, 418, StatusPass,
			seen{"GET", "/teapot", "harden-health", ""}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status.Store(tt.status)
			h := mustNew(t, Config{Checks: []Check{HTTP("api", tt.cfg)}})
			r := h.run(context.Background()).Checks[0]
			if r.Status != tt.want {
				t.Errorf("status %s (%v), want %s", r.Status, r.Err, tt.want)
			}
			if tt.errHas != "" && (r.Err == nil || !strings.Contains(r.Err.Error(), tt.errHas)) {
				t.Errorf("error %v, want it to mention %q", r.Err, tt.errHas)
			}
			select {
			case s := <-got:
				if s != tt.seen {
					t.Errorf("server saw %+v, want %+v", s, tt.seen)
				}
			default:
				t.Error("server saw no request")
			}
			if len(got) != 0 {
				t.Errorf("%d extra requests (redirect followed?)", len(got))
			}
		})
	}
}

func TestHTTPCheckHangingServerTimesOut(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	h := mustNew(t, Config{Checks: []Check{{Name: "x", Func: HTTP("api", HTTPConfig{URL: srv.URL}).Func, Timeout: 200 * time.Millisecond}}})
	r := h.run(context.Background()).Checks[0]
	if !errors.Is(r.Err, ErrTimeout) || r.Duration > time.Second {
		t.Errorf("%v after %v", r.Err, r.Duration)
	}
}

func TestHTTPCheckRedactsPassword(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "ops" || p != "s3cret" {
			t.Errorf("server got basic auth %q %q %v", u, p, ok)
		}
		w.WriteHeader(500)
	}))
	defer srv.Close()
	url := strings.Replace(srv.URL, "http://", "http://ops:s3cret@", 1)
	h := mustNew(t, Config{Checks: []Check{HTTP("api", HTTPConfig{URL: url})}})
	r := h.run(context.Background()).Checks[0]
	if r.Err == nil || strings.Contains(r.Err.Error(), "s3cret") || !strings.Contains(r.Err.Error(), "ops:xxxxx@") {
		t.Errorf("error %v", r.Err)
	}
	srv.Close()
	r = h.run(context.Background()).Checks[0]
	if r.Err == nil || strings.Contains(r.Err.Error(), "s3cret") {
		t.Errorf("transport error %v", r.Err)
	}
}

// roundTripper adapts a function to http.RoundTripper.
type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// A transport that writes to a request header's values in place (signing, rewriting)
// must not change what the next run sends.
func TestHTTPCheckHeaderValuesNotShared(t *testing.T) {
	got := make(chan string, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Get("X-Api-Key")
	}))
	defer srv.Close()
	client := &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		resp, err := http.DefaultTransport.RoundTrip(r)
		r.Header["X-Api-Key"][0] = "tampered"
		return resp, err
	})}
	cfg := HTTPConfig{URL: srv.URL, Client: client, Header: http.Header{"X-Api-Key": {"k1"}}}
	h := mustNew(t, Config{Checks: []Check{HTTP("api", cfg)}})
	for i := range 2 {
		if err := h.run(context.Background()).Checks[0].Err; err != nil {
			t.Fatal(err)
		}
		if key := <-got; key != "k1" {
			t.Errorf("run %d sent X-Api-Key %q", i+1, key)
		}
	}
	if cfg.Header["X-Api-Key"][0] != "k1" {
		t.Errorf("the caller's header changed: %v", cfg.Header)
	}
}
