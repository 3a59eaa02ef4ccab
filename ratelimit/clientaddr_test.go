package ratelimit

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-reussite/harden/internal/clientip"
)

var trustedForTests = []string{"127.0.0.1", "10.0.0.0/8", "::1", "2001:db8:ffff::/48"}

func forwardedRequest(remote string, xff []string, fwd string) *http.Request {
	r := &http.Request{RemoteAddr: remote, Header: http.Header{}}
	for _, v := range xff {
		r.Header.Add("X-Forwarded-For", v)
	}
	if fwd != "" {
		r.Header.Set("Forwarded", fwd)
	}
	return r
}

func TestClientIPMatchesResolver(t *testing.T) {
	res, err := clientip.New(trustedForTests)
	require.NoError(t, err)
	for _, tc := range []struct {
		remote string
		xff    []string
		fwd    string
		want   string
	}{
		{"203.0.113.9:1", []string{"1.1.1.1"}, "", "203.0.113.9"},
		{"127.0.0.1:1", nil, "", "127.0.0.1"},
		{"127.0.0.1:1", []string{"198.51.100.7"}, "", "198.51.100.7"},
		{"127.0.0.1:1", []string{"6.6.6.6, 198.51.100.7, 10.1.1.1 ,10.2.2.2"}, "", "198.51.100.7"},
		{"127.0.0.1:1", []string{"6.6.6.6", "198.51.100.7"}, "", "198.51.100.7"},
		{"127.0.0.1:1", []string{"198.51.100.7", "10.9.9.9"}, "", "198.51.100.7"},
		{"127.0.0.1:1", []string{"10.9.9.9, 10.8.8.8"}, "", "10.9.9.9"},
		{"127.0.0.1:1", []string{"198.51.100.7, nonsense"}, "", "127.0.0.1"},
		{"127.0.0.1:1", []string{"198.51.100.7, "}, "", "127.0.0.1"},
		{"127.0.0.1:1", []string{""}, "", "127.0.0.1"},
		{"127.0.0.1:1", []string{"198.51.100.7", ""}, "", "127.0.0.1"},
		{"127.0.0.1:1", []string{"198.51.100.7:5555"}, "", "198.51.100.7"},
		{"127.0.0.1:1", []string{"[2001:db8::7]:80"}, "", "2001:db8::7"},
		{"127.0.0.1:1", []string{"2001:db8::7"}, "", "2001:db8::7"},
		{"127.0.0.1:1", []string{"fe80::1%eth0"}, "", "fe80::1"},
		{"127.0.0.1:1", []string{"::ffff:198.51.100.7"}, "", "198.51.100.7"},
		{"127.0.0.1:1", []string{"[2001:db8::7"}, "", "127.0.0.1"},
		{"[::1]:1", []string{"2001:db8:ffff::1, 2001:db8:1::1, 2001:db8:ffff::2"}, "", "2001:db8:1::1"},
		{"127.0.0.1:1", []string{"6.6.6.6"}, `for=192.0.2.60;proto=https, for="[2001:db8::1]:4711"`, "2001:db8::1"},
		{"127.0.0.1:1", []string{"198.51.100.7"}, `proto=https`, "127.0.0.1"}, // Forwarded wins, and names no client
		{"pipe", []string{"198.51.100.7"}, "", "invalid IP"},
	} {
		r := forwardedRequest(tc.remote, tc.xff, tc.fwd)
		got := clientIP(res, r)
		assert.Equal(t, tc.want, got.String(), "%s %q %q", tc.remote, tc.xff, tc.fwd)
		assert.Equal(t, res.ClientIP(r), got, "%s %q %q", tc.remote, tc.xff, tc.fwd)
	}
}

func TestClientIPDoesNotAllocate(t *testing.T) {
	res, err := clientip.New(trustedForTests)
	require.NoError(t, err)
	long := forwardedRequest("10.0.0.1:80", []string{strings.Repeat("10.1.1.1, ", 200) + "198.51.100.7, 10.3.3.3", "10.2.2.2"}, "")
	for _, r := range []*http.Request{
		forwardedRequest("203.0.113.9:1", []string{"1.1.1.1"}, ""),
		forwardedRequest("127.0.0.1:1", []string{"6.6.6.6, 198.51.100.7"}, ""),
		forwardedRequest("[::1]:1", []string{"2001:db8:1:2::7"}, ""),
		long,
	} {
		var got netip.Addr
		assert.Zero(t, testing.AllocsPerRun(100, func() { got = clientIP(res, r) }))
		assert.Equal(t, res.ClientIP(r), got)
	}
}

// FuzzClientIP checks the in-place X-Forwarded-For walk against the resolver it stands
// in for, on arbitrary peers and header lines.
func FuzzClientIP(f *testing.F) {
	f.Add("127.0.0.1:1", "6.6.6.6, 198.51.100.7", "10.1.1.1", "")
	f.Add("[::1]:1", "[2001:db8::7]:80,2001:db8:ffff::1", "", "")
	f.Add("10.0.0.1:80", " ,, ", "x", "")
	f.Add("10.0.0.1:80", "198.51.100.7", "", `for="[2001:db8:aa::1]:80"`)
	f.Add("10.0.0.1:80", "fe80::1%25eth0, ::ffff:1.2.3.4", "1.2.3.4:", "proto=https")
	f.Add("garbage", "1.1.1.1", "", "for=1.1.1.1")
	res, err := clientip.New(trustedForTests)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, remote, xff1, xff2, fwd string) {
		var xff []string
		if xff1 != "" || xff2 != "" {
			xff = []string{xff1}
		}
		if xff2 != "" {
			xff = append(xff, xff2)
		}
		r := forwardedRequest(remote, xff, fwd)
		if got, want := clientIP(res, r), res.ClientIP(r); got != want {
			t.Fatalf("clientIP = %v, resolver says %v (remote %q, xff %q, forwarded %q)", got, want, remote, xff, fwd)
		}
	})
}

// FuzzAppendIPKey checks the appended client key against the formatting it replaced.
func FuzzAppendIPKey(f *testing.F) {
	f.Add("192.0.2.1", 64)
	f.Add("2001:db8:1:2:3:4:5:6", 64)
	f.Add("2001:db8:1:2:3:4:5:6", 128)
	f.Add("2001:db8::1", 1)
	f.Add("fe80::1%eth0", 128)
	f.Add("", 64)
	f.Fuzz(func(t *testing.T, addr string, bits int) {
		if bits < 1 || bits > 128 {
			bits = 1 + (bits%128+128)%128
		}
		a, _ := netip.ParseAddr(addr)
		want := "ip:unknown"
		if a.IsValid() {
			if a.Is4() || bits == 128 {
				want = "ip:" + a.String()
			} else {
				p, _ := a.Prefix(bits)
				want = "ip:" + p.String()
			}
		}
		if got := string(appendIPKey([]byte("prefix:"), a, bits)); got != "prefix:"+want {
			t.Fatalf("appendIPKey(%v, %d) = %q, want %q", a, bits, got, "prefix:"+want)
		}
		if got := ipKey(a, bits); got != want {
			t.Fatalf("ipKey(%v, %d) = %q, want %q", a, bits, got, want)
		}
	})
}
