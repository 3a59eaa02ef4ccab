package cache

import (
	"bytes"
	"encoding/binary"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// splitKeyParts decodes what appendKeyPart wrote.
func splitKeyParts(b []byte) ([]string, bool) {
	var parts []string
	for len(b) > 0 {
		l, k := binary.Uvarint(b)
		if k <= 0 || l > uint64(len(b)-k) {
			return nil, false
		}
		parts = append(parts, string(b[k:k+int(l)]))
		b = b[k+int(l):]
	}
	return parts, true
}

// FuzzCacheKey checks that the request key encoding is unambiguous (it decodes back to its
// parts, so different requests never share a key) and that keys are built from any
// request without panicking, with a bounded length.
func FuzzCacheKey(f *testing.F) {
	f.Add("example.com", "/api/formulas", "level=1", "gzip, br", "fr")
	f.Add("a", "/b:c", "", "", "")
	f.Add("EXAMPLE.com:443", "/%2F/x", "a=1&a=2", "gzip;q=0, br;q=1", "fr,\x00")
	f.Add("ÉXAMPLE.Com", "/é ü", "", "GZIP, a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q, r, s", " fr , en ")
	f.Fuzz(func(t *testing.T, host, path, query, ae, lang string) {
		var b []byte
		for _, p := range []string{host, path, query, ae, lang} {
			b = appendKeyPart(b, p)
		}
		parts, ok := splitKeyParts(b)
		if !ok || !reflect.DeepEqual(parts, []string{host, path, query, ae, lang}) {
			t.Fatalf("key parts do not round-trip: %q", parts)
		}
		r := &http.Request{Method: "GET", Host: host, URL: &url.URL{Path: path, RawQuery: query}, Header: http.Header{}}
		r.Header.Set("Accept-Encoding", ae)
		r.Header.Set("Accept-Language", lang)
		p := primaryKey(r)
		if len(p) != 2+64 {
			t.Fatalf("primary key length %d", len(p))
		}
		names := []string{"Accept-Encoding", "Accept-Language"}
		v := variantKey(p, names, r.Header)
		if len(v) != len(p)+1+64 {
			t.Fatalf("variant key length %d", len(v))
		}
		// The keys hashed on the stack are those of the plain string-building form.
		if want := referencePrimaryKey(r); p != want {
			t.Fatalf("primary key %s, reference %s", p, want)
		}
		if want := referenceVariantKey(p, names, r.Header); v != want {
			t.Fatalf("variant key %s, reference %s", v, want)
		}
		if want := referenceNormalizeAcceptEncoding([]string{ae, lang}); normalizeAcceptEncoding([]string{ae, lang}) != want {
			t.Fatalf("normalised %q, reference %q", normalizeAcceptEncoding([]string{ae, lang}), want)
		}
		// Normalising Accept-Encoding is idempotent and ignores order.
		n := normalizeAcceptEncoding([]string{ae})
		if normalizeAcceptEncoding([]string{n}) != n {
			t.Fatalf("normalisation not idempotent: %q -> %q", ae, n)
		}
		items := strings.Split(ae, ",")
		for i, j := 0, len(items)-1; i < j; i, j = i+1, j-1 {
			items[i], items[j] = items[j], items[i]
		}
		if got := normalizeAcceptEncoding([]string{strings.Join(items, ",")}); got != n {
			t.Fatalf("order changes the normalised value: %q vs %q", got, n)
		}
	})
}

func FuzzCacheControl(f *testing.F) {
	for _, s := range []string{
		"max-age=60", "no-store", `private="Set-Cookie", max-age=0`, "public, s-maxage=31536000",
		`no-cache="a\"b", max-age="10"`, "max-age=99999999999999999999", "MAX-AGE=5, max-age=3",
		"max-stale", "max-age", "=,,=", `"`, "stale-while-revalidate=30, stale-if-error=600",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cc := ParseCacheControl([]string{s})
		for _, v := range []int64{cc.MaxAge, cc.SMaxAge, cc.MaxStale, cc.MinFresh, cc.StaleWhileRevalidate, cc.StaleIfError} {
			if v < -1 || v > maxDelta {
				t.Fatalf("%q: delta out of range: %+v", s, cc)
			}
		}
		again := ParseCacheControl([]string{cc.String()})
		cc.Invalid = false
		if again != cc {
			t.Fatalf("%q: canonical form %q reads back as %+v, want %+v", s, cc.String(), again, cc)
		}
	})
}

func FuzzETagMatch(f *testing.F) {
	f.Add(`"a", W/"b"`, `"b"`)
	f.Add(`*`, `"x"`)
	f.Add(`W/`, `"x"`)
	f.Add(`"unterminated`, `"x"`)
	f.Fuzz(func(t *testing.T, header, etag string) {
		got := etagMatches([]string{header}, etag)
		if strings.Trim(header, " \t") == "*" && etag != "" && !got { // OWS is SP and HTAB only
			t.Fatal("* must match")
		}
		wellFormed := len(etag) > 1 && strings.HasPrefix(etag, `"`) && strings.HasSuffix(etag, `"`) && !strings.Contains(etag[1:len(etag)-1], `"`)
		if wellFormed && !etagMatches([]string{header, etag}, etag) {
			t.Fatalf("field line %s does not match itself after %q", etag, header)
		}
	})
}

// FuzzStoredEntries feeds arbitrary bytes to the decoders of stored data (a shared Redis
// may hold anything): they fail cleanly, and what they accept re-encodes identically.
func FuzzStoredEntries(f *testing.F) {
	e := envelope{tier: Long, storedAt: 1, freshUntil: 2, tags: []tagVersion{{"formulas", 3}}, payload: []byte("p")}
	f.Add(e.appendTo(nil))
	s := storedResponse{status: 200, header: http.Header{"Etag": {`"x"`}}, body: []byte("b")}
	f.Add(s.appendTo(nil))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		if e, err := decodeEnvelope(b); err == nil {
			e2, err := decodeEnvelope(e.appendTo(nil))
			if err != nil || !reflect.DeepEqual(e, e2) {
				t.Fatalf("envelope does not round-trip: %+v vs %+v, %v", e, e2, err)
			}
		}
		if s, err := decodeStoredResponse(b); err == nil {
			s2, err := decodeStoredResponse(s.appendTo(nil))
			if err != nil || s2.status != s.status || !bytes.Equal(s2.body, s.body) || !reflect.DeepEqual(s2.header, s.header) {
				t.Fatalf("stored response does not round-trip: %v", err)
			}
		}
	})
}
