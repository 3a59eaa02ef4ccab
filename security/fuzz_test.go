package security

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
)

func FuzzHardenCookie(f *testing.F) {
	for _, s := range []string{"a=1", "session=x; Path=/; secure", "novalue", "=v", "a=b; SameSite=None", "a=1;;; HttpOnly;",
		"a=1; samesite", "x=\"q;r\"; Domain=.example.com", " ", "a\x00=1"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	c, err := newCookieHardener(Cookies{ScriptReadable: []string{"js"}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, line string, https bool) {
		out, changed := c.hardenLine(line, https)
		if !changed {
			if out != line {
				t.Fatal("unchanged line rewritten")
			}
		} else if !strings.HasPrefix(out, strings.TrimRight(line, "; \t")) {
			t.Fatalf("original content lost: %q -> %q", line, out)
		}
		again, changed2 := c.hardenLine(out, https)
		if changed2 || again != out {
			t.Fatalf("not idempotent: %q -> %q -> %q", line, out, again)
		}
		if strings.TrimSpace(line) == "" {
			return
		}
		attrs := strings.ToLower(out[strings.IndexByte(out+";", ';'):])
		if !strings.Contains(attrs, "samesite") {
			t.Fatalf("no SameSite in %q", out)
		}
		if https && !strings.Contains(attrs, "secure") {
			t.Fatalf("no Secure over https in %q", out)
		}
	})
}

// FuzzRedirectHost sends arbitrary Host, X-Forwarded-Host, X-Forwarded-Proto and
// Forwarded values from a trusted proxy and a stranger to three configurations: a host
// list (every redirect names a listed host), no AllowedHosts (nothing is ever redirected)
// and ["*"] without TrustForwardedHost (a redirect names the Host header's own host,
// never a forwarded one).
func FuzzRedirectHost(f *testing.F) {
	f.Add("api.example.com", "", "", "", "/x?y=1")
	f.Add("evil.example", "api.example.com", "https", "proto=http;host=evil.example", "//evil.example/")
	f.Add("api.example.com@evil.example", "", "http", "for=10.0.0.9;proto=http", "/")
	f.Add("[::1]:80", "a.b.example.org, evil", "https, http", "host=\"evil\"", "/%2F%2Fevil")
	proxies := []string{"10.0.0.0/8"}
	listed, err := New(Config{AllowedHosts: []string{"api.example.com", "*.example.org"}, TrustedProxies: proxies})
	if err != nil {
		f.Fatal(err)
	}
	none, err := New(Config{TrustedProxies: proxies, TrustForwardedHost: true})
	if err != nil {
		f.Fatal(err)
	}
	anyHost, err := New(Config{AllowedHosts: []string{"*"}, TrustedProxies: proxies})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, host, xfh, xfp, fwd, path string) {
		u, err := url.ParseRequestURI(path)
		if err != nil {
			return
		}
		for _, remote := range []string{"10.0.0.1:1", "198.51.100.1:1"} {
			r := &http.Request{Method: http.MethodGet, URL: u, Host: host, RemoteAddr: remote, Header: http.Header{}}
			for k, v := range map[string]string{"X-Forwarded-Host": xfh, "X-Forwarded-Proto": xfp, "Forwarded": fwd} {
				if v != "" {
					r.Header.Set(k, v)
				}
			}
			if name := redirectedTo(t, serve(listed.Handler(&okHandler{}), r)); name != "" &&
				name != "api.example.com" && !strings.HasSuffix(name, ".example.org") {
				t.Fatalf("redirect off the allowed hosts: %q (host %q, xfh %q)", name, host, xfh)
			}
			if rec := serve(none.Handler(&okHandler{}), r); len(rec.Header().Values("Location")) != 0 {
				t.Fatalf("redirect without AllowedHosts: %q (host %q, xfh %q)", rec.Header().Get("Location"), host, xfh)
			}
			if name := redirectedTo(t, serve(anyHost.Handler(&okHandler{}), r)); name != "" {
				own, _, _ := splitHost(host)
				if name != strings.Trim(own, "[]") {
					t.Fatalf("redirect to %q for Host %q (xfh %q)", name, host, xfh)
				}
			}
		}
	})
}

// redirectedTo checks a response is 200, 400 or an https redirect without user info, and
// returns the redirect's host name ("" when not redirected).
func redirectedTo(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	switch rec.Code {
	case http.StatusBadRequest, http.StatusOK:
		return ""
	case http.StatusPermanentRedirect:
	default:
		t.Fatalf("status %d", rec.Code)
	}
	loc, err := url.Parse(rec.Header().Get("Location"))
	if err != nil || loc.Scheme != "https" || loc.User != nil || loc.Hostname() == "" {
		t.Fatalf("bad Location %q", rec.Header().Get("Location"))
	}
	return loc.Hostname()
}

func FuzzCORSOrigin(f *testing.F) {
	for _, s := range []string{"https://app.example.com", "https://a.example.org", "https://example.org", "null",
		"https://a.example.org:443", "https://x.example.org.evil.com", "HTTPS://A.EXAMPLE.ORG", "https://@a.example.org"} {
		f.Add(s)
	}
	p, err := newCORS(CORS{Origins: []string{"https://app.example.com", "https://*.example.org"}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, origin string) {
		if !p.allowed(origin) {
			return
		}
		if origin == "https://app.example.com" {
			return
		}
		u, err := url.Parse(origin)
		if err != nil || u.Scheme != "https" || u.Port() != "" || u.User != nil || u.Path != "" || u.RawQuery != "" ||
			!strings.HasSuffix(u.Host, ".example.org") || u.Host == ".example.org" || strings.ToLower(origin) != origin {
			t.Fatalf("origin %q allowed", origin)
		}
	})
}

func FuzzCSPValidate(f *testing.F) {
	f.Add("script-src", "'self'", "https://cdn.example")
	f.Add("img-src", "'self';", "script-src *")
	f.Add("frame-ancestors", "'none'", "")
	f.Add("report-to", "csp", "x")
	f.Fuzz(func(t *testing.T, directive, a, b string) {
		srcs := []string{a}
		if b != "" {
			srcs = append(srcs, b)
		}
		c := DefaultCSP().With(directive, srcs...)
		p, err := c.compile()
		if (err == nil) != (c.Validate() == nil) {
			t.Fatal("Validate and compile disagree")
		}
		if err != nil {
			return
		}
		v := p.render("bm9uY2U=")
		if strings.ContainsAny(v, "\r\n,\x00") {
			t.Fatalf("header value %q", v)
		}
		parsed, _, ok := parseObsCSP(v)
		if !ok {
			t.Fatalf("compiled policy does not parse: %q", v)
		}
		if len(parsed) != len(c) {
			t.Fatalf("directive count changed: %d -> %d in %q", len(c), len(parsed), v)
		}
		got := parsed[strings.ToLower(directive)]
		if len(got) != len(srcs) {
			t.Fatalf("sources of %s changed: %q -> %q", directive, srcs, got)
		}
		if p.usesNonce() {
			// The per-request rendering is render with the nonce it drew, and the nonce
			// is the one in the value.
			value, nonce := p.renderNewNonce()
			if len(nonce) != nonceLen || value != p.render(nonce) || len(value) != p.renderedLen(nonceLen) {
				t.Fatalf("renderNewNonce = %q, %q; render = %q", value, nonce, p.render(nonce))
			}
		}
	})
}

// allHeadersAllowed reports whether every name of an Access-Control-Request-Headers
// value is among the default CORS headers, compared in lower case.
func allHeadersAllowed(headers string) bool {
	for h := range strings.SplitSeq(headers, ",") {
		h = strings.ToLower(strings.TrimSpace(h))
		if h != "" && !slices.ContainsFunc(defaultCORSHeaders(), func(a string) bool { return strings.ToLower(a) == h }) {
			return false
		}
	}
	return true
}

// FuzzCORSPreflight sends preflights with arbitrary Origin, Access-Control-Request-Method
// and Access-Control-Request-Headers: a preflight is granted (204, the origin echoed)
// only when the origin, the method and every requested header are allowed, and is
// otherwise refused with a 403 problem that grants nothing. It never reaches the handler.
func FuzzCORSPreflight(f *testing.F) {
	f.Add("https://app.example.com", "POST", "content-type")
	f.Add("https://a.example.org", "DELETE", "Authorization, X-Request-ID,")
	f.Add("https://evil.example", "GET", "")
	f.Add("https://app.example.com", "post", "x-secret")
	f.Add("https://app.example.com", "PUT", " ,\t, accept ,")
	f.Add("null", "TRACE", "\x00")
	s, err := New(Config{CORS: CORS{Origins: []string{"https://app.example.com", "https://*.example.org"}, AllowCredentials: true}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, origin, method, headers string) {
		next := &okHandler{}
		r := newReq(http.MethodOptions, "https://api.example.com/x", nil, withTLS())
		r.Header["Origin"] = []string{origin}
		r.Header["Access-Control-Request-Method"] = []string{method}
		if headers != "" {
			r.Header["Access-Control-Request-Headers"] = []string{headers}
		}
		rec := serve(s.Handler(next), r)
		if origin == "" || method == "" {
			return // not a preflight: an ordinary OPTIONS request
		}
		if next.got != nil {
			t.Fatal("preflight reached the handler")
		}
		want := s.cors.allowed(origin) && slices.Contains(defaultCORSMethods(), method) && allHeadersAllowed(headers)
		acao := rec.Header().Values("Access-Control-Allow-Origin")
		if !want {
			if rec.Code != http.StatusForbidden || len(acao) != 0 || len(rec.Header().Values("Access-Control-Allow-Credentials")) != 0 {
				t.Fatalf("refused preflight answered %d with %q", rec.Code, acao)
			}
			return
		}
		if rec.Code != http.StatusNoContent || len(acao) != 1 || acao[0] != origin {
			t.Fatalf("granted preflight answered %d with %q", rec.Code, acao)
		}
	})
}
