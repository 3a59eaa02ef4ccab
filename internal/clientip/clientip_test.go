package clientip

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func req(remote string, hdr ...string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = remote
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Add(hdr[i], hdr[i+1])
	}
	return r
}

func TestClientIP(t *testing.T) {
	res, err := New(Config{TrustedProxies: []string{"10.0.0.0/8", "::1", " "}})
	require.NoError(t, err)
	tests := []struct {
		name string
		r    *http.Request
		want string
	}{
		{"untrusted peer ignores XFF", req("203.0.113.9:1234", "X-Forwarded-For", "1.1.1.1"), "203.0.113.9"},
		{"trusted peer no header", req("10.0.0.1:80"), "10.0.0.1"},
		{"trusted peer one hop", req("10.0.0.1:80", "X-Forwarded-For", "198.51.100.7"), "198.51.100.7"},
		{"spoofed left entries ignored", req("10.0.0.1:80", "X-Forwarded-For", "6.6.6.6, 198.51.100.7"), "198.51.100.7"},
		{"chain of trusted proxies skipped", req("10.0.0.1:80", "X-Forwarded-For", "6.6.6.6, 198.51.100.7, 10.1.1.1, 10.2.2.2"), "198.51.100.7"},
		{"several header lines", req("10.0.0.1:80", "X-Forwarded-For", "6.6.6.6", "X-Forwarded-For", "198.51.100.7"), "198.51.100.7"},
		{"all trusted gives leftmost", req("10.0.0.1:80", "X-Forwarded-For", "10.9.9.9, 10.8.8.8"), "10.9.9.9"},
		{"garbage hop stops walk", req("10.0.0.1:80", "X-Forwarded-For", "198.51.100.7, nonsense"), "10.0.0.1"},
		{"forwarded ignored by default", req("10.0.0.1:80", "Forwarded", `for=192.0.2.60;proto=https, for="[2001:db8::1]:4711"`, "X-Forwarded-For", "6.6.6.6"), "6.6.6.6"},
		{"forwarded alone ignored by default", req("10.0.0.1:80", "Forwarded", `for=192.0.2.60`), "10.0.0.1"},
		{"ipv6 peer trusted", req("[::1]:5000", "X-Forwarded-For", "192.0.2.1"), "192.0.2.1"},
		{"mapped v4 unmapped", req("[::ffff:203.0.113.9]:1"), "203.0.113.9"},
		{"bad remote addr", req("pipe"), "invalid IP"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, res.ClientIP(tc.r).String())
		})
	}
}

func TestZeroResolverTrustsNobody(t *testing.T) {
	var res *Resolver
	assert.Equal(t, "203.0.113.9", res.ClientIP(req("203.0.113.9:1", "X-Forwarded-For", "1.1.1.1")).String())
	assert.Equal(t, "http", (&Resolver{}).Scheme(req("127.0.0.1:1", "X-Forwarded-Proto", "https")))
}

func TestNewRejectsGarbage(t *testing.T) {
	_, err := New(Config{TrustedProxies: []string{"10.0.0.0/33"}})
	assert.ErrorContains(t, err, "invalid CIDR")
	_, err = New(Config{TrustedProxies: []string{"not-an-ip"}})
	assert.ErrorContains(t, err, "invalid address")
	for _, h := range []string{"X Real IP", "X-Forwarded-Proto", "x-forwarded-host", "Host", "bad:name", "é"} {
		_, err = New(Config{Header: h})
		assert.Error(t, err, h)
	}
}

func TestSchemeAndHost(t *testing.T) {
	res, err := New(Config{TrustedProxies: []string{"127.0.0.1"}, TrustHost: true})
	require.NoError(t, err)
	assert.Equal(t, "https", res.Scheme(req("127.0.0.1:1", "X-Forwarded-Proto", "http, https")))
	assert.Equal(t, "http", res.Scheme(req("127.0.0.2:1", "X-Forwarded-Proto", "https")))
	assert.Equal(t, "http", res.Scheme(req("127.0.0.1:1", "Forwarded", "for=1.2.3.4;proto=HTTPS")), "Forwarded is not the configured family")
	tlsReq := req("8.8.8.8:1")
	tlsReq.TLS = &tls.ConnectionState{}
	assert.Equal(t, "https", res.Scheme(tlsReq))

	r := req("127.0.0.1:1", "X-Forwarded-Host", "evil.example, api.example.com")
	r.Host = "internal:5000"
	assert.Equal(t, "api.example.com", res.Host(r))
	r = req("127.0.0.1:1", "Forwarded", `host="app.example.com";proto=https`)
	r.Host = "internal:5000"
	assert.Equal(t, "internal:5000", res.Host(r))
	r = req("8.8.8.8:1", "X-Forwarded-Host", "evil.example")
	r.Host = "api.example.com"
	assert.Equal(t, "api.example.com", res.Host(r))

	noHost, err := New(Config{TrustedProxies: []string{"127.0.0.1"}})
	require.NoError(t, err)
	r = req("127.0.0.1:1", "X-Forwarded-Host", "evil.example")
	r.Host = "api.example.com"
	assert.Equal(t, "api.example.com", noHost.Host(r), "X-Forwarded-Host needs TrustHost")
}

// TestFamilies pins, for each header family, which headers are believed from a trusted
// peer. The attacks are those of a client behind a proxy that sets only its own family
// and passes every other header through.
func TestFamilies(t *testing.T) {
	type want struct{ ip, host, scheme string }
	proxies := []string{"10.0.0.0/8"}
	for _, tc := range []struct {
		name      string
		header    string
		trustHost bool
		r         *http.Request
		want      want
	}{
		// X-Forwarded-For, the default.
		{"xff client", "", false, req("10.0.0.1:1", "X-Forwarded-For", "198.51.100.7", "X-Forwarded-Proto", "https"), want{"198.51.100.7", "origin.example", "https"}},
		{"xff ignores forged Forwarded for", "", false, req("10.0.0.1:1", "Forwarded", "for=6.6.6.6", "X-Forwarded-For", "198.51.100.7"), want{"198.51.100.7", "origin.example", "http"}},
		{"xff ignores forged Forwarded loopback", "", false, req("10.0.0.1:1", "Forwarded", "for=127.0.0.1", "X-Forwarded-For", "198.51.100.7"), want{"198.51.100.7", "origin.example", "http"}},
		{"xff ignores forged Forwarded proto", "", false, req("10.0.0.1:1", "Forwarded", "proto=http", "X-Forwarded-For", "198.51.100.7", "X-Forwarded-Proto", "https"), want{"198.51.100.7", "origin.example", "https"}},
		{"xff ignores forged Forwarded host", "", true, req("10.0.0.1:1", "Forwarded", "proto=http;host=evil.example", "X-Forwarded-For", "198.51.100.7"), want{"198.51.100.7", "origin.example", "http"}},
		{"xff host only when trusted", "", false, req("10.0.0.1:1", "X-Forwarded-For", "198.51.100.7", "X-Forwarded-Host", "evil.example"), want{"198.51.100.7", "origin.example", "http"}},
		{"xff host when enabled", "x-forwarded-for", true, req("10.0.0.1:1", "X-Forwarded-For", "198.51.100.7", "X-Forwarded-Host", "a.example, b.example"), want{"198.51.100.7", "b.example", "http"}},
		{"xff ignores X-Real-IP", "", false, req("10.0.0.1:1", "X-Real-IP", "6.6.6.6"), want{"10.0.0.1", "origin.example", "http"}},
		{"xff untrusted peer", "", true, req("203.0.113.9:1", "X-Forwarded-For", "1.1.1.1", "X-Forwarded-Proto", "https", "X-Forwarded-Host", "evil.example"), want{"203.0.113.9", "origin.example", "http"}},

		// Forwarded (RFC 7239).
		{"fwd client", "Forwarded", false, req("10.0.0.1:1", "Forwarded", `for=192.0.2.60;proto=https, for="[2001:db8::1]:4711";proto=https`), want{"2001:db8::1", "origin.example", "https"}},
		{"fwd ignores XFF", "Forwarded", false, req("10.0.0.1:1", "X-Forwarded-For", "6.6.6.6", "X-Forwarded-Proto", "https"), want{"10.0.0.1", "origin.example", "http"}},
		{"fwd forged left element ignored", "Forwarded", true, req("10.0.0.1:1", "Forwarded", `for=127.0.0.1;proto=http;host=evil.example, for=198.51.100.7;proto=https;host=app.example`), want{"198.51.100.7", "app.example", "https"}},
		{"fwd trusted hops skipped", "forwarded", false, req("10.0.0.1:1", "Forwarded", `for=198.51.100.7;proto=https, for=10.2.2.2;proto=http`), want{"198.51.100.7", "origin.example", "https"}},
		{"fwd host needs trust", "Forwarded", false, req("10.0.0.1:1", "Forwarded", `for=198.51.100.7;host=evil.example`), want{"198.51.100.7", "origin.example", "http"}},
		{"fwd obfuscated hop", "Forwarded", false, req("10.0.0.1:1", "Forwarded", `for=_hidden;proto=https`), want{"10.0.0.1", "origin.example", "https"}},
		{"fwd garbage", "Forwarded", false, req("10.0.0.1:1", "Forwarded", `;;,,"`), want{"10.0.0.1", "origin.example", "http"}},

		// A single-address header.
		{"real ip", "X-Real-IP", false, req("10.0.0.1:1", "X-Real-Ip", "198.51.100.7", "X-Forwarded-Proto", "https"), want{"198.51.100.7", "origin.example", "https"}},
		{"real ip ignores XFF and Forwarded", "X-Real-IP", false, req("10.0.0.1:1", "X-Forwarded-For", "6.6.6.6", "Forwarded", "for=6.6.6.7"), want{"10.0.0.1", "origin.example", "http"}},
		{"real ip garbage", "X-Real-IP", false, req("10.0.0.1:1", "X-Real-Ip", "nonsense"), want{"10.0.0.1", "origin.example", "http"}},
		{"real ip trusted value kept", "X-Real-IP", false, req("10.0.0.1:1", "X-Real-Ip", "10.9.9.9"), want{"10.9.9.9", "origin.example", "http"}},
		{"cf connecting ip v6", "CF-Connecting-IP", false, req("10.0.0.1:1", "Cf-Connecting-Ip", "2001:db8::7"), want{"2001:db8::7", "origin.example", "http"}},
		{"single untrusted peer", "X-Real-IP", false, req("203.0.113.9:1", "X-Real-Ip", "1.1.1.1"), want{"203.0.113.9", "origin.example", "http"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := New(Config{TrustedProxies: proxies, Header: tc.header, TrustHost: tc.trustHost})
			require.NoError(t, err)
			tc.r.Host = "origin.example"
			h, s := res.HostScheme(tc.r)
			assert.Equal(t, tc.want, want{res.ClientIP(tc.r).String(), h, s})
			assert.Equal(t, h, res.Host(tc.r))
			assert.Equal(t, s, res.Scheme(tc.r))
		})
	}
}

func TestHeaderName(t *testing.T) {
	for in, want := range map[string]string{"": "X-Forwarded-For", "x-forwarded-for": "X-Forwarded-For", "FORWARDED": "Forwarded", "x-real-ip": "X-Real-Ip", " CF-Connecting-IP ": "Cf-Connecting-Ip"} {
		res, err := New(Config{Header: in})
		require.NoError(t, err, in)
		assert.Equal(t, want, res.Header(), in)
	}
	assert.Equal(t, "X-Forwarded-For", (*Resolver)(nil).Header())
}

func TestParseForwarded(t *testing.T) {
	els := ParseForwarded(`For="[2001:db8:cafe::17]:4711";proto=https;by=203.0.113.43, for=192.0.2.43;host="a,b", junk`)
	require.Len(t, els, 3)
	assert.Equal(t, "[2001:db8:cafe::17]:4711", els[0].For)
	assert.Equal(t, "https", els[0].Proto)
	assert.Equal(t, "203.0.113.43", els[0].By)
	assert.Equal(t, "a,b", els[1].Host)
	assert.Equal(t, Element{}, els[2])
	assert.Equal(t, `a"b`, unquote(`"a\"b"`))
}

func TestParsePrefix(t *testing.T) {
	p, err := ParsePrefix("::ffff:10.0.0.1")
	require.NoError(t, err)
	assert.Equal(t, netip.MustParsePrefix("10.0.0.1/32"), p)
	p, err = ParsePrefix("10.1.2.3/8")
	require.NoError(t, err)
	assert.Equal(t, "10.0.0.0/8", p.String())
}

func FuzzClientIP(f *testing.F) {
	f.Add("10.0.0.1:80", "1.2.3.4, 10.0.0.2", `for=1.2.3.4;proto=https`, uint8(0))
	f.Add("[::1]:1", `"[::1]", ,,`, `for="\"`, uint8(1))
	f.Add("10.0.0.1:80", "1.2.3.4", `for=10.0.0.3;host=x, for=_h`, uint8(2))
	f.Add("garbage", "", "", uint8(3))
	var resolvers []*Resolver
	for _, h := range []string{"", "Forwarded", "X-Real-IP", "CF-Connecting-IP"} {
		for _, trustHost := range []bool{false, true} {
			res, err := New(Config{TrustedProxies: []string{"10.0.0.0/8", "::1/128"}, Header: h, TrustHost: trustHost})
			if err != nil {
				f.Fatal(err)
			}
			resolvers = append(resolvers, res)
		}
	}
	f.Fuzz(func(t *testing.T, remote, xff, fwd string, pick uint8) {
		res := resolvers[int(pick)%len(resolvers)]
		r := &http.Request{RemoteAddr: remote, Header: http.Header{}, Host: "origin.example"}
		for name, v := range map[string]string{"X-Forwarded-For": xff, "X-Real-Ip": xff, "Cf-Connecting-Ip": fwd, "Forwarded": fwd, "X-Forwarded-Proto": xff, "X-Forwarded-Host": fwd} {
			if v != "" {
				r.Header.Set(name, v)
			}
		}
		ip := res.ClientIP(r)
		peer := Peer(r)
		trusted := res.Trusted(peer)
		if !trusted && ip != peer {
			t.Fatalf("untrusted peer %v but client %v", peer, ip)
		}
		if ip.IsValid() && ip.Zone() != "" {
			t.Fatalf("zone leaked: %v", ip)
		}
		// Only the configured family may move the answer off the peer.
		other := r.Clone(r.Context())
		for _, name := range []string{"X-Forwarded-For", "X-Real-Ip", "Cf-Connecting-Ip", "Forwarded"} {
			if name != res.Header() {
				other.Header.Del(name)
			}
		}
		if got := res.ClientIP(other); got != ip {
			t.Fatalf("headers outside %s changed the client: %v, without them %v", res.Header(), ip, got)
		}
		for _, state := range []*tls.ConnectionState{nil, {}} {
			r.TLS = state
			h, s := res.HostScheme(r)
			switch {
			case s != "http" && s != "https":
				t.Fatalf("scheme %q", s)
			case state != nil && s != "https":
				t.Fatalf("TLS request has scheme %q", s)
			case h != r.Host && (!trusted || !res.trustHost):
				t.Fatalf("host %q without a trusted forwarded host", h)
			case !trusted && s == "https" && state == nil:
				t.Fatal("untrusted peer set the scheme")
			case h != res.Host(r) || s != res.Scheme(r):
				t.Fatalf("HostScheme = %q, %q; Host, Scheme = %q, %q", h, s, res.Host(r), res.Scheme(r))
			}
		}
	})
}

func TestParseHostForms(t *testing.T) {
	for in, want := range map[string]string{
		"1.2.3.4": "1.2.3.4", "1.2.3.4:80": "1.2.3.4", "[::1]:80": "::1", "::1": "::1", "[::1]": "::1",
		"[fe80::1%eth0]:5": "fe80::1", "[::1": "invalid IP", "": "invalid IP", "host:80": "invalid IP",
	} {
		assert.Equal(t, want, parseHost(in).String(), in)
	}
}

func TestPeerDoesNotAllocate(t *testing.T) {
	r := req("203.0.113.9:1234")
	res, err := New(Config{TrustedProxies: []string{"10.0.0.0/8"}})
	require.NoError(t, err)
	allocs := testing.AllocsPerRun(100, func() { _ = res.ClientIP(r) })
	assert.Zero(t, allocs)
}

func TestClientIPWalkDoesNotAllocate(t *testing.T) {
	res, err := New(Config{TrustedProxies: []string{"127.0.0.1", "10.0.0.0/8", "::1"}})
	require.NoError(t, err)
	long := req("10.0.0.1:80", "X-Forwarded-For", strings.Repeat("10.1.1.1, ", 200)+"198.51.100.7, 10.3.3.3", "X-Forwarded-For", "10.2.2.2")
	for _, r := range []*http.Request{
		req("127.0.0.1:1", "X-Forwarded-For", "6.6.6.6, 198.51.100.7"),
		req("[::1]:1", "X-Forwarded-For", "2001:db8:1:2::7"),
		long,
	} {
		assert.Zero(t, testing.AllocsPerRun(100, func() { _ = res.ClientIP(r) }))
	}
	assert.Equal(t, "198.51.100.7", res.ClientIP(long).String())
}

func TestSchemeAndHostDoNotAllocate(t *testing.T) {
	res, err := New(Config{TrustedProxies: []string{"127.0.0.1"}, TrustHost: true})
	require.NoError(t, err)
	r := req("127.0.0.1:1", "X-Forwarded-Proto", "http, HTTPS", "X-Forwarded-Host", "a.example, b.example")
	assert.Equal(t, "https", res.Scheme(r))
	assert.Equal(t, "b.example", res.Host(r))
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = res.Scheme(r); _ = res.Host(r) }))
	h, s := res.HostScheme(r)
	assert.Equal(t, "b.example", h)
	assert.Equal(t, "https", s)
	assert.Zero(t, testing.AllocsPerRun(100, func() { _, _ = res.HostScheme(r) }))
}
