package compress

import (
	"strconv"
	"strings"
	"testing"
)

func TestNegotiate(t *testing.T) {
	both := []Encoding{Zstd, Gzip}
	gzipFirst := []Encoding{Gzip, Zstd}
	tests := []struct {
		name   string
		header []string
		prefs  []Encoding
		want   Encoding
	}{
		{"absent", nil, both, Identity},
		{"empty", []string{""}, both, Identity},
		{"only commas", []string{" , ,,"}, both, Identity},
		{"gzip only", []string{"gzip"}, both, Gzip},
		{"zstd only", []string{"zstd"}, both, Zstd},
		{"browser list", []string{"gzip, deflate, br, zstd"}, both, Zstd},
		{"tie goes to server order", []string{"gzip, zstd"}, both, Zstd},
		{"tie with gzip preferred", []string{"zstd, gzip"}, gzipFirst, Gzip},
		{"higher q wins over order", []string{"zstd;q=0.5, gzip;q=0.8"}, both, Gzip},
		{"q=1.000", []string{"zstd;q=0.999, gzip;q=1.000"}, both, Gzip},
		{"q zero refuses", []string{"zstd;q=0, gzip"}, both, Gzip},
		{"q 0.000 refuses", []string{"zstd;q=0.000, gzip;q=0.001"}, both, Gzip},
		{"all refused", []string{"zstd;q=0, gzip;q=0"}, both, Identity},
		{"star", []string{"*"}, both, Zstd},
		{"star with gzip preferred", []string{"*"}, gzipFirst, Gzip},
		{"star q0 excludes unnamed", []string{"gzip, *;q=0"}, both, Gzip},
		{"star lower than named", []string{"*;q=0.1, gzip;q=0.5"}, both, Gzip},
		{"named q0 beats star", []string{"*, zstd;q=0"}, both, Gzip},
		{"identity q0 alone", []string{"identity;q=0"}, both, Identity},
		{"identity q0 with gzip", []string{"identity;q=0, gzip"}, both, Gzip},
		{"identity preferred", []string{"gzip;q=0.5, identity"}, both, Identity},
		{"identity equal q keeps coding", []string{"gzip, identity"}, both, Gzip},
		{"unknown tokens ignored", []string{"br, deflate, compress, exi"}, both, Identity},
		{"case", []string{"GZIP;Q=0.5, ZsTd;q=0.4"}, both, Gzip},
		{"x-gzip alias", []string{"x-gzip"}, both, Gzip},
		{"whitespace and tabs", []string{" \tgzip\t ; q = 0.7 ,\tzstd ;q=0.6 "}, both, Gzip},
		{"multiple header lines", []string{"br", "gzip;q=0.2", "zstd;q=0.3"}, both, Zstd},
		{"first duplicate counts", []string{"zstd;q=0, zstd;q=1, gzip;q=0.1"}, both, Gzip},
		{"malformed q ignored", []string{"zstd;q=2, gzip;q=0.1"}, both, Gzip},
		{"q too precise ignored", []string{"zstd;q=0.0001, gzip;q=0.1"}, both, Gzip},
		{"q 1.5 ignored", []string{"zstd;q=1.5"}, both, Identity},
		{"q not number ignored", []string{"zstd;q=abc"}, both, Identity},
		{"other params ignored", []string{"zstd;level=3;q=0.9, gzip;q=0.8"}, both, Zstd},
		{"bad token ignored", []string{"gz ip, zs\"td"}, both, Identity},
		{"coding not configured", []string{"zstd"}, []Encoding{Gzip}, Identity},
		{"star for configured only", []string{"*"}, []Encoding{Gzip}, Gzip},
		{"semicolon only", []string{";q=1"}, both, Identity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := negotiate(tt.header, tt.prefs); got != tt.want {
				t.Errorf("negotiate(%q, %v) = %q, want %q", tt.header, tt.prefs, got, tt.want)
			}
		})
	}
}

func BenchmarkNegotiate(b *testing.B) {
	h := []string{"gzip;q=0.8, deflate, br;q=1.0, zstd;q=0.9, *;q=0.1, identity;q=0.5"}
	prefs := []Encoding{Zstd, Gzip}
	b.ReportAllocs()
	for b.Loop() {
		negotiate(h, prefs)
	}
}

// referenceNegotiate is a deliberately naive second implementation of the same rules,
// used to cross-check negotiate on fuzzed input.
func referenceNegotiate(header []string, prefs []Encoding) Encoding {
	q := map[string]float64{}
	for _, line := range header {
		for _, elem := range strings.Split(line, ",") {
			parts := strings.Split(elem, ";")
			name := strings.ToLower(strings.Trim(parts[0], " \t"))
			if name == "" || strings.ContainsAny(name, " \t\"(),/:<=>?@[\\]{}") || !printableASCII(name) {
				continue
			}
			if name == "x-gzip" {
				name = "gzip"
			}
			val, bad := 1.0, false
			for _, p := range parts[1:] {
				k, v, ok := strings.Cut(p, "=")
				if !ok || strings.ToLower(strings.Trim(k, " \t")) != "q" {
					continue
				}
				v = strings.Trim(v, " \t")
				f, err := strconv.ParseFloat(v, 64)
				if err != nil || !validQ(v) {
					bad = true
					break
				}
				val = f
			}
			if bad {
				continue
			}
			if _, seen := q[name]; !seen {
				q[name] = val
			}
		}
	}
	best, bestQ := Identity, 0.0
	for _, p := range prefs {
		v, ok := q[string(p)]
		if !ok {
			v, ok = q["*"]
		}
		if ok && v > bestQ {
			best, bestQ = p, v
		}
	}
	if id, ok := q["identity"]; ok && best != Identity && id > bestQ {
		return Identity
	}
	return best
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

func validQ(v string) bool {
	if v == "1" || v == "0" {
		return true
	}
	if len(v) < 2 || len(v) > 5 || v[1] != '.' {
		return false
	}
	for _, c := range v[2:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	if v[0] == '1' {
		return strings.Trim(v[2:], "0") == ""
	}
	return v[0] == '0'
}

func FuzzNegotiate(f *testing.F) {
	for _, s := range []string{
		"gzip, deflate, br, zstd", "zstd;q=0.5, gzip;q=0.8", "*;q=0, identity", "identity;q=0",
		"GZIP;Q=1.000", "x-gzip;q=0.3, *;q=0.2", " , ;q=1,zstd ; q = 0.001", "zstd;q=1.", "gzip;q=0.",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, header string, gzipFirst bool) {
		prefs := []Encoding{Zstd, Gzip}
		if gzipFirst {
			prefs = []Encoding{Gzip, Zstd}
		}
		lines := strings.Split(header, "\n")
		got := negotiate(lines, prefs)
		if want := referenceNegotiate(lines, prefs); got != want {
			t.Fatalf("negotiate(%q) = %q, reference says %q", header, got, want)
		}
	})
}

func TestNegotiateHostileHeaders(t *testing.T) {
	prefs := []Encoding{Zstd, Gzip}
	huge := strings.Repeat("br;q=0.9, ", 100_000) + "gzip;q=0.1"
	if got := negotiate([]string{huge}, prefs); got != Gzip {
		t.Fatalf("long list: %q", got)
	}
	// Parsing works on substrings of the header: memory must not grow with the list.
	if n := testing.AllocsPerRun(3, func() { negotiate([]string{huge}, prefs) }); n > 2 {
		t.Fatalf("a 100,000-element list allocates %v times", n)
	}
	for _, h := range []string{
		strings.Repeat(",", 1<<20),
		strings.Repeat(";", 1<<20),
		"zstd;" + strings.Repeat("q=1;", 1<<16),
		"zstd;q=" + strings.Repeat("0", 1<<16),
		"\x00\xff\xfe zstd",
		"zstd\x00;q=1",
		"gzip;q=0.5\r\n, zstd",
	} {
		got := negotiate([]string{h}, prefs)
		if want := referenceNegotiate([]string{h}, prefs); got != want {
			t.Errorf("%.40q…: %q, reference %q", h, got, want)
		}
	}
}
