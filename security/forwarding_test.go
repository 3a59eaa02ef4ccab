package security

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// publicHost is the host clients use; the proxy passes it on in the Host header.
const publicHost = "api.example.com"

// proxyChain is a backend behind the middleware, reached through a reverse proxy on
// loopback that listens for plain HTTP and for HTTPS, as a TLS-terminating proxy does.
type proxyChain struct {
	httpURL, httpsURL string
	client            *http.Client
	hits              int
}

// startProxyChain starts the backend with cfg (trusting the loopback proxy) and a proxy
// that sets the forwarding headers of family the way common proxies do and passes every
// other header of the client through untouched:
//
//   - "X-Forwarded-For" (nginx with proxy_add_x_forwarded_for): appends the client to
//     X-Forwarded-For and overwrites X-Forwarded-Proto; a client's Forwarded and
//     X-Forwarded-Host pass through.
//   - "Forwarded": appends an RFC 7239 element naming the client, the scheme and the host;
//     a client's Forwarded elements stay on its left, its X-Forwarded-* pass through.
//   - "X-Real-IP": overwrites X-Real-IP and X-Forwarded-Proto.
func startProxyChain(t *testing.T, family string, cfg Config) *proxyChain {
	t.Helper()
	cfg.TrustedProxies = []string{"127.0.0.1"}
	cfg.ClientIPHeader = family
	s := mustNew(t, cfg)
	pc := &proxyChain{}
	backend := httptest.NewServer(s.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pc.hits++
		_, _ = io.WriteString(w, "ok")
	})))
	t.Cleanup(backend.Close)
	target, err := url.Parse(backend.URL)
	require.NoError(t, err)

	proxy := func(scheme string) http.Handler {
		return &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host
			// Rewrite starts without forwarding headers; a proxy that does not set one
			// passes the client's through.
			for _, k := range []string{"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-Ip"} {
				pr.Out.Header[k] = pr.In.Header[k]
			}
			client, _, _ := net.SplitHostPort(pr.In.RemoteAddr)
			switch family {
			case "Forwarded":
				pr.Out.Header.Add("Forwarded", "for="+client+";proto="+scheme+";host="+pr.In.Host)
			case "X-Real-IP":
				pr.Out.Header.Set("X-Real-IP", client)
				pr.Out.Header.Set("X-Forwarded-Proto", scheme)
			default:
				pr.Out.Header.Add("X-Forwarded-For", client)
				pr.Out.Header.Set("X-Forwarded-Proto", scheme)
			}
		}}
	}
	front := httptest.NewServer(proxy("http"))
	t.Cleanup(front.Close)
	tlsFront := httptest.NewTLSServer(proxy("https"))
	t.Cleanup(tlsFront.Close)
	pc.httpURL, pc.httpsURL = front.URL, tlsFront.URL
	// The client connects from 127.0.0.2, an address nobody trusts, as a visitor from the
	// internet would; the proxy reaches the backend from 127.0.0.1.
	tr := tlsFront.Client().Transport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}).DialContext
	pc.client = &http.Client{Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	t.Cleanup(tr.CloseIdleConnections)
	return pc
}

// visit is what a browser does with a URL on publicHost: it sends the request with the
// attacker's headers and follows redirects (at most three), each to the proxy's listener
// for the scheme of the Location. It returns the final response and every Location seen.
func (pc *proxyChain) visit(t *testing.T, method, scheme string, hdr http.Header) (*http.Response, []string) {
	t.Helper()
	var locations []string
	next := scheme + "://" + publicHost + "/account?tab=1"
	for range 4 {
		u, err := url.Parse(next)
		require.NoError(t, err)
		listener := pc.httpURL
		if u.Scheme == "https" {
			listener = pc.httpsURL
		}
		req, err := http.NewRequest(method, listener+u.RequestURI(), nil)
		require.NoError(t, err)
		req.Host = u.Host
		for k, v := range hdr {
			req.Header[k] = v
		}
		resp, err := pc.client.Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		loc := resp.Header.Get("Location")
		if resp.StatusCode/100 != 3 || loc == "" {
			return resp, locations
		}
		locations = append(locations, loc)
		next = loc
	}
	t.Fatalf("redirect loop: %v", locations)
	return nil, nil
}

// Behind a trusted proxy, whatever forwarding header a client adds itself neither makes
// the middleware loop, nor serves plain HTTP, nor redirects to a host nobody listed. The
// client-sent headers are tried with each header family, over plain HTTP and HTTPS.
func TestForwardingHeadersFromClientsAreIgnored(t *testing.T) {
	attacks := map[string]http.Header{
		"own Forwarded proto=http":             {"Forwarded": {"proto=http"}},
		"own Forwarded proto=http, evil host":  {"Forwarded": {"proto=http;host=evil.example"}},
		"forged Forwarded element, https+evil": {"Forwarded": {"for=192.0.2.1;proto=https;host=evil.example"}},
		"own X-Forwarded-Host":                 {"X-Forwarded-Host": {"evil.example"}},
		"own X-Forwarded-Proto https":          {"X-Forwarded-Proto": {"https"}},
		"everything at once": {"Forwarded": {"for=127.0.0.1;proto=http;host=evil.example"},
			"X-Forwarded-Host": {"evil.example"}, "X-Forwarded-Proto": {"http"}, "X-Real-IP": {"127.0.0.1"}},
	}
	for _, family := range []string{"", "X-Forwarded-For", "Forwarded", "X-Real-IP"} {
		for _, hosts := range [][]string{{publicHost}, {"*"}} {
			pc := startProxyChain(t, family, Config{AllowedHosts: hosts})
			for name, hdr := range attacks {
				for _, scheme := range []string{"http", "https"} {
					t.Run(family+"/"+hosts[0]+"/"+name+"/"+scheme, func(t *testing.T) {
						hits := pc.hits
						resp, locs := pc.visit(t, http.MethodGet, scheme, hdr)
						assert.Equal(t, http.StatusOK, resp.StatusCode)
						assert.Equal(t, hits+1, pc.hits, "the handler ran once, over HTTPS")
						assert.NotEmpty(t, resp.Header.Get("Strict-Transport-Security"), "answered as HTTPS")
						want := 0
						if scheme == "http" {
							want = 1
						}
						require.Len(t, locs, want, "plain HTTP is redirected once, HTTPS never")
						for _, l := range locs {
							assert.Equal(t, "https://"+publicHost+"/account?tab=1", l)
						}
					})
				}
			}
		}
	}
}

// With TrustForwardedHost, the forwarded host is the proxy's: in the Forwarded family the
// element the proxy appended (a client's elements on its left are ignored); in the
// X-Forwarded-For family X-Forwarded-Host, which a proxy that does not set it passes
// through from the client, so a client's value is checked against AllowedHosts and
// refused rather than redirected to.
func TestTrustForwardedHost(t *testing.T) {
	evil := http.Header{"Forwarded": {"for=192.0.2.1;proto=http;host=evil.example"}, "X-Forwarded-Host": {"evil.example"}}

	pc := startProxyChain(t, "Forwarded", Config{AllowedHosts: []string{publicHost}, TrustForwardedHost: true})
	resp, locs := pc.visit(t, http.MethodGet, "http", evil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, []string{"https://" + publicHost + "/account?tab=1"}, locs)

	pc = startProxyChain(t, "X-Forwarded-For", Config{AllowedHosts: []string{publicHost}, TrustForwardedHost: true})
	for _, scheme := range []string{"http", "https"} {
		resp, locs = pc.visit(t, http.MethodGet, scheme, evil)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, scheme)
		assert.Empty(t, locs, scheme)
		assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
	}
	assert.Zero(t, pc.hits)
}

// Without AllowedHosts nothing is redirected, whatever the client forwards: plain HTTP
// gets 400 and HTTPS is served.
func TestForwardingWithoutAllowedHosts(t *testing.T) {
	for _, family := range []string{"X-Forwarded-For", "Forwarded", "X-Real-IP"} {
		for _, trustHost := range []bool{false, true} {
			pc := startProxyChain(t, family, Config{TrustForwardedHost: trustHost})
			hdr := http.Header{"Forwarded": {"proto=http;host=evil.example"}, "X-Forwarded-Host": {"evil.example"}}
			resp, locs := pc.visit(t, http.MethodGet, "http", hdr)
			assert.Equal(t, http.StatusBadRequest, resp.StatusCode, family)
			assert.Empty(t, locs, family)
			assert.Empty(t, resp.Header.Get("Location"), family)
			resp, locs = pc.visit(t, http.MethodGet, "https", hdr)
			assert.Equal(t, http.StatusOK, resp.StatusCode, family)
			assert.Empty(t, locs, family)
		}
	}
}

// The CSRF check compares Origin with the host the allowed-hosts check and the redirect
// use: the Host header, or the proxy's forwarded host with TrustForwardedHost, never a
// host the client forwarded itself. The requests come from a browser too old to send
// Sec-Fetch-Site, so the Origin/Host comparison decides.
func TestCSRFUsesTheSameHost(t *testing.T) {
	const proxy = "10.0.0.2:4000"
	for _, tc := range []struct {
		name   string
		cfg    Config
		host   string
		header http.Header
		ok     bool
	}{
		{"origin matches Host", Config{}, publicHost,
			http.Header{"X-Forwarded-Proto": {"https"}, "Origin": {"https://" + publicHost}}, true},
		{"client's X-Forwarded-Host not believed", Config{}, publicHost,
			http.Header{"X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"evil.example"}, "Origin": {"https://evil.example"}}, false},
		{"client's Forwarded host not believed", Config{}, publicHost,
			http.Header{"X-Forwarded-Proto": {"https"}, "Forwarded": {"proto=https;host=evil.example"}, "Origin": {"https://evil.example"}}, false},
		{"Forwarded family: proxy's host believed", Config{ClientIPHeader: "Forwarded", TrustForwardedHost: true}, "backend:5000",
			http.Header{"Forwarded": {"for=198.51.100.7;proto=https;host=" + publicHost}, "Origin": {"https://" + publicHost}}, true},
		{"Forwarded family: forged left element ignored", Config{ClientIPHeader: "Forwarded", TrustForwardedHost: true}, "backend:5000",
			http.Header{"Forwarded": {"for=192.0.2.1;proto=https;host=evil.example", "for=198.51.100.7;proto=https;host=" + publicHost},
				"Origin": {"https://evil.example"}}, false},
		{"X-Real-IP family: client's X-Forwarded-Host not believed", Config{ClientIPHeader: "X-Real-IP"}, publicHost,
			http.Header{"X-Real-IP": {"198.51.100.7"}, "X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"evil.example"},
				"Origin": {"https://evil.example"}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.TrustedProxies = []string{"10.0.0.0/8"}
			tc.cfg.AllowedHosts = []string{publicHost, "backend:5000"}
			next := &okHandler{}
			r := newReq(http.MethodPost, "http://"+tc.host+"/api/items", strings.NewReader("{}"), withRemote(proxy), withHost(tc.host))
			for k, v := range tc.header {
				r.Header[k] = v
			}
			rec := serve(mustNew(t, tc.cfg).Handler(next), r)
			if tc.ok {
				require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
				assert.Equal(t, tc.host, next.got.Host, "the handler sees the Host it was sent")
				return
			}
			isProblem(t, rec, http.StatusForbidden)
			assert.Nil(t, next.got)
		})
	}
}
