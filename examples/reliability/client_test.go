package reliability

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// requestTimeout bounds every request of the tests.
const requestTimeout = 30 * time.Second

// api is an HTTP client of one child, shared by every simulated client. A simulated
// client is told apart by the X-Forwarded-For address it sends (the child trusts the
// loopback proxy).
type api struct {
	base string
	hc   *http.Client
}

func newAPI(base string) *api {
	tr := &http.Transport{
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     30 * time.Second,
	}
	return &api{base: base, hc: &http.Client{
		Transport:     tr,
		Timeout:       requestTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// close drops the idle connections.
func (a *api) close() { a.hc.CloseIdleConnections() }

// reply is a read response, or the transport error that stood in for one (status 0).
type reply struct {
	status int
	header http.Header
	body   []byte
	took   time.Duration
	err    error
}

func (r reply) String() string {
	if r.err != nil {
		return "transport error: " + r.err.Error()
	}
	b := r.body
	if len(b) > 200 {
		b = b[:200]
	}
	return fmt.Sprintf("%d %s (%s)", r.status, bytes.TrimSpace(b), r.took.Round(time.Millisecond))
}

// problemJSON reports whether the reply is application/problem+json.
func (r reply) problemJSON() bool {
	return r.header.Get("Content-Type") == "application/problem+json"
}

// decode unmarshals the body into v.
func (r reply) decode(v any) error {
	if err := json.Unmarshal(r.body, v); err != nil {
		return fmt.Errorf("status %d body %q: %w", r.status, r.body, err)
	}
	return nil
}

// call sends a request. body is marshalled to JSON unless it is a string or []byte (sent
// as is) or another io.Reader (sent chunked); a body sets Content-Type application/json
// unless hdr sets it (a "Host" pair sets the request's Host). ip, when set, is
// sent as X-Forwarded-For; token as a Bearer token; hdr holds name, value pairs.
func (a *api) call(ctx context.Context, method, path, ip, token string, body any, hdr ...string) reply {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	case io.Reader:
		rd = b // sent chunked
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return reply{err: err}
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return reply{err: err}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if ip != "" {
		req.Header.Set("X-Forwarded-For", ip)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "Host" {
			req.Host = hdr[i+1]
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	start := time.Now()
	resp, err := a.hc.Do(req)
	if err != nil {
		return reply{err: err, took: time.Since(start)}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	r := reply{status: resp.StatusCode, header: resp.Header, body: raw, took: time.Since(start)}
	if err != nil {
		r.status, r.err = 0, fmt.Errorf("reading the body of a %d: %w", resp.StatusCode, err)
	}
	return r
}

// must sends a request and fails the test unless the status is want.
func (a *api) must(t *testing.T, want int, method, path, ip, token string, body any, hdr ...string) reply {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	r := a.call(ctx, method, path, ip, token, body, hdr...)
	if r.status != want {
		t.Fatalf("%s %s: got %s, want %d", method, path, r, want)
	}
	return r
}

// tokens is the body of login and refresh responses.
type tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

// login logs email in from ip and returns its tokens.
func (a *api) login(t *testing.T, ip, email, password string) tokens {
	t.Helper()
	var tk tokens
	r := a.must(t, http.StatusOK, "POST", "/api/auth/login", ip, "", map[string]string{"email": email, "password": password})
	if err := r.decode(&tk); err != nil || tk.AccessToken == "" || tk.RefreshToken == "" {
		t.Fatalf("login %s: %v %s", email, err, r)
	}
	return tk
}
