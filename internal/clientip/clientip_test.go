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
	res, err := New([]string{"10.0.0.0/8", "::1", " "})
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
		{"forwarded preferred", req("10.0.0.1:80", "Forwarded", `for=192.0.2.60;proto=https, for="[2001:db8::1]:4711"`, "X-Forwarded-For", "6.6.6.6"), "2001:db8::1"},
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
	_, err := New([]string{"10.0.0.0/33"})
	assert.ErrorContains(t, err, "invalid CIDR")
	_, err = New([]string{"not-an-ip"})
	assert.ErrorContains(t, err, "invalid address")
}

func TestSchemeAndHost(t *testing.T) {
	res, err := New([]string{"127.0.0.1"})
	require.NoError(t, err)
	assert.Equal(t, "https", res.Scheme(req("127.0.0.1:1", "X-Forwarded-Proto", "http, https")))
	assert.Equal(t, "http", res.Scheme(req("127.0.0.2:1", "X-Forwarded-Proto", "https")))
	assert.Equal(t, "https", res.Scheme(req("127.0.0.1:1", "Forwarded", "for=1.2.3.4;proto=HTTPS")))
	tlsReq := req("8.8.8.8:1")
	tlsReq.TLS = &tls.ConnectionState{}
	assert.Equal(t, "https", res.Scheme(tlsReq))

	r := req("127.0.0.1:1", "X-Forwarded-Host", "evil.example, api.example.com")
	r.Host = "internal:5000"
	assert.Equal(t, "api.example.com", res.Host(r))
	r = req("127.0.0.1:1", "Forwarded", `host="app.example.com";proto=https`)
	assert.Equal(t, "app.example.com", res.Host(r))
	r = req("8.8.8.8:1", "X-Forwarded-Host", "evil.example")
	r.Host = "api.example.com"
	assert.Equal(t, "api.example.com", res.Host(r))
}

func TestHostScheme(t *testing.T) {
	res, err := New([]string{"127.0.0.1"})
	require.NoError(t, err)
	for _, tc := range []struct {
		r            *http.Request
		tls          bool
		host, scheme string
	}{
		{req("127.0.0.1:1", "X-Forwarded-Host", "a.example, b.example", "X-Forwarded-Proto", "https"), false, "b.example", "https"},
		{req("127.0.0.1:1", "Forwarded", `host=f.example;proto=http`, "X-Forwarded-Proto", "https"), false, "f.example", "http"},
		{req("127.0.0.1:1", "Forwarded", `for=1.2.3.4`, "X-Forwarded-Proto", "HTTPS", "X-Forwarded-Host", "x.example"), false, "x.example", "https"},
		{req("8.8.8.8:1", "X-Forwarded-Host", "evil.example", "X-Forwarded-Proto", "https"), false, "origin.example", "http"},
		{req("8.8.8.8:1", "X-Forwarded-Host", "evil.example"), true, "origin.example", "https"},
		{req("127.0.0.1:1"), false, "origin.example", "http"},
	} {
		tc.r.Host = "origin.example"
		if tc.tls {
			tc.r.TLS = &tls.ConnectionState{}
		}
		h, s := res.HostScheme(tc.r)
		assert.Equal(t, tc.host, h, tc.r.Header)
		assert.Equal(t, tc.scheme, s, tc.r.Header)
		assert.Equal(t, res.Host(tc.r), h)
		assert.Equal(t, res.Scheme(tc.r), s)
	}
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
	f.Add("10.0.0.1:80", "1.2.3.4, 10.0.0.2", `for=1.2.3.4;proto=https`)
	f.Add("[::1]:1", `"[::1]", ,,`, `for="\"`)
	f.Add("garbage", "", "")
	res, err := New([]string{"10.0.0.0/8", "::1/128"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, remote, xff, fwd string) {
		r := &http.Request{RemoteAddr: remote, Header: http.Header{}}
		if xff != "" {
			r.Header.Set("X-Forwarded-For", xff)
		}
		if fwd != "" {
			r.Header.Set("Forwarded", fwd)
		}
		ip := res.ClientIP(r)
		peer := Peer(r)
		if !res.Trusted(peer) && ip != peer {
			t.Fatalf("untrusted peer %v but client %v", peer, ip)
		}
		if ip.IsValid() && ip.Zone() != "" {
			t.Fatalf("zone leaked: %v", ip)
		}
		if s := res.Scheme(r); s != "http" && s != "https" {
			t.Fatalf("scheme %q", s)
		}
		r.Host = "origin.example"
		r.Header.Set("X-Forwarded-Proto", xff)
		r.Header.Set("X-Forwarded-Host", xff)
		for _, state := range []*tls.ConnectionState{nil, {}} {
			r.TLS = state
			h, s := res.HostScheme(r)
			if h != res.Host(r) || s != res.Scheme(r) {
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
	res, err := New([]string{"10.0.0.0/8"})
	require.NoError(t, err)
	allocs := testing.AllocsPerRun(100, func() { _ = res.ClientIP(r) })
	assert.Zero(t, allocs)
}

func TestClientIPWalkDoesNotAllocate(t *testing.T) {
	res, err := New([]string{"127.0.0.1", "10.0.0.0/8", "::1"})
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
	res, err := New([]string{"127.0.0.1"})
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
