package ratelimit

import (
	"net/netip"
	"testing"
)

// FuzzAppendIPKey checks the appended client key against the formatting of
// netip.Addr.String and netip.Prefix.String.
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
		k := clientKey{v6bits: bits}
		if got := string(k.append([]byte("prefix:"), a)); got != "prefix:"+want {
			t.Fatalf("append(%v) with /%d = %q, want %q", a, bits, got, "prefix:"+want)
		}
	})
}
