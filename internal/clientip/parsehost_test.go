package clientip

import "testing"

var parseHostSeeds = []string{
	"1.2.3.4", "1.2.3.4:80", "127.0.0.1:40000", "255.255.255.255", "0.0.0.0:0", "1.2.3.4:",
	"01.2.3.4", "1.2.3.256", "1.2.3", "1.2.3.4.5", "1.2.3.4567", "1.2.3.4:a:b", " 1.2.3.4",
	"1.2.3.4 ", "1.2.3.4]", "[::1]:80", "::1", "::ffff:1.2.3.4", "[::ffff:1.2.3.4]:9",
	"fe80::1%eth0", "", ":", "1..2.3", "1.2.3.-4", "1.2.3.4:80 ",
}

func TestParseHostMatchesGeneralPath(t *testing.T) {
	for _, s := range parseHostSeeds {
		if got, want := parseHost(s), parseHostGeneral(s); got != want {
			t.Errorf("parseHost(%q) = %v, want %v", s, got, want)
		}
	}
	if _, ok := parseIPv4Port("127.0.0.1:40000"); !ok {
		t.Error("the common peer form missed the fast path")
	}
}

// FuzzParseHost checks that the IPv4 fast path never changes what an address parses to:
// parseHostGeneral is the reference.
func FuzzParseHost(f *testing.F) {
	for _, s := range parseHostSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := parseHost(s), parseHostGeneral(s); got != want {
			t.Errorf("parseHost(%q) = %v, want %v", s, got, want)
		}
	})
}

func BenchmarkParseHost(b *testing.B) {
	for _, s := range []string{"127.0.0.1:40000", "198.51.100.7", "[2001:db8::1]:443"} {
		b.Run(s, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = parseHost(s)
			}
		})
		b.Run(s+"/general", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = parseHostGeneral(s)
			}
		})
	}
}

func BenchmarkClientIPProxied(b *testing.B) {
	r, _ := New(Config{TrustedProxies: []string{"127.0.0.1"}})
	q := req("127.0.0.1:40000", "X-Forwarded-For", "198.51.100.7", "X-Forwarded-Proto", "https", "Accept-Encoding", "gzip")
	b.ReportAllocs()
	for b.Loop() {
		_ = r.ClientIP(q)
	}
}
