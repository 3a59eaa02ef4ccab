package health

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// HTTPConfig describes an HTTP dependency to check.
type HTTPConfig struct {
	// URL is the absolute http or https URL to request. Required. Any password in it
	// is redacted from errors.
	URL string
	// Method is the request method. Default GET.
	Method string
	// Header is sent with every request (for example an API key). Default none; the
	// User-Agent is "harden-health" unless Header sets one.
	Header http.Header
	// Client sends the request. Default: a client on http.DefaultTransport that does
	// not follow redirects, so a redirect (to a login page, say) fails the check.
	Client *http.Client
	// ExpectStatus reports whether a response status is healthy. Default: 2xx.
	ExpectStatus func(code int) bool
}

// maxDrain bounds how much of a response body is read so the connection can be reused.
const maxDrain = 64 << 10

// HTTP returns a check that requests cfg.URL within the check's timeout and expects a
// healthy status. The response body is not interpreted. It is a "component".
func HTTP(name string, cfg HTTPConfig) Check {
	c := Check{Name: name, ComponentType: "component"}
	u, err := url.Parse(cfg.URL)
	switch {
	case err != nil:
		c.err = fmt.Errorf("HTTPConfig.URL: %w", err)
		return c
	case u.Scheme != "http" && u.Scheme != "https":
		c.err = fmt.Errorf("HTTPConfig.URL %q: scheme must be http or https", u.Redacted())
		return c
	case u.Host == "":
		c.err = fmt.Errorf("HTTPConfig.URL %q has no host", u.Redacted())
		return c
	}
	method := cfg.Method
	if method == "" {
		method = http.MethodGet
	}
	if strings.ContainsAny(method, " \t\r\n") {
		c.err = fmt.Errorf("HTTPConfig.Method %q is not a token", method)
		return c
	}
	client := cfg.Client
	if client == nil {
		client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}
	}
	expect := cfg.ExpectStatus
	if expect == nil {
		expect = func(code int) bool { return code >= 200 && code < 300 }
	}
	header := cfg.Header.Clone()
	target := u.String()
	shown := u.Redacted()
	c.Func = func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, method, target, nil)
		if err != nil {
			return fmt.Errorf("%s %s: %w", method, shown, err)
		}
		// Fresh value slices per request: a transport may write to the ones it is given.
		for k, v := range header {
			req.Header[k] = slices.Clone(v)
		}
		if req.Header.Get("User-Agent") == "" {
			req.Header.Set("User-Agent", "harden-health")
		}
		resp, err := client.Do(req)
		if err != nil {
			return err // *url.Error, password already redacted by net/http
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
		_ = resp.Body.Close()
		if !expect(resp.StatusCode) {
			return fmt.Errorf("%s %s: unexpected status %d", method, shown, resp.StatusCode)
		}
		return nil
	}
	return c
}
