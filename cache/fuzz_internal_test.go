package cache

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"net/http"
	"net/textproto"
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
		h := &HTTPCache{query: []string{"a", "level"}}
		p := h.primaryKey(r)
		if len(p) != 2+64 {
			t.Fatalf("primary key length %d", len(p))
		}
		names := []string{"Accept-Encoding", "Accept-Language"}
		v := variantKey(p, names, r.Header)
		if len(v) != len(p)+1+64 {
			t.Fatalf("variant key length %d", len(v))
		}
		// The keys hashed on the stack are those of the plain string-building form.
		if want := referencePrimaryKey(r, h.query); h.queryDeclared(query) && p != want {
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

// requestOfMemoID rebuilds a request from the parts of a memo id (appendRequestParts, then
// appendRequestVaryParts) and returns the Vary names the id holds.
func requestOfMemoID(id []byte) (*http.Request, []string, bool) {
	next := func() (string, bool) {
		l, k := binary.Uvarint(id)
		if k <= 0 || l > uint64(len(id)-k) {
			return "", false
		}
		s := string(id[k : k+int(l)])
		id = id[k+int(l):]
		return s, true
	}
	if len(id) < 2 || id[1] > 1 {
		return nil, nil, false
	}
	r := &http.Request{Method: http.MethodGet, URL: &url.URL{}, Header: http.Header{}}
	if id[1] == 1 {
		r.TLS = &tls.ConnectionState{}
	}
	id = id[2:]
	for _, dst := range []*string{&r.Host, &r.URL.Path, &r.URL.RawPath, &r.URL.RawQuery} {
		var ok bool
		if *dst, ok = next(); !ok {
			return nil, nil, false
		}
	}
	var names []string
	for len(id) > 0 {
		name, ok := next()
		if !ok {
			return nil, nil, false
		}
		n, k := binary.Uvarint(id)
		if k <= 0 {
			return nil, nil, false
		}
		id = id[k:]
		var vals []string
		for range n {
			v, ok := next()
			if !ok {
				return nil, nil, false
			}
			vals = append(vals, v)
		}
		if len(vals) > 0 {
			r.Header[textproto.CanonicalMIMEHeaderKey(name)] = vals
		}
		names = append(names, name)
	}
	return r, names, true
}

// FuzzMemoID checks that the memo id of a variant, built from the request's parts as they
// are, decodes back to them and names one store key: the request rebuilt from the id alone
// has the primary and variant keys of the original, even for a Vary name not in canonical
// form.
func FuzzMemoID(f *testing.F) {
	f.Add(false, "api.example.com", "/api/formulas", "", "level=1", "gzip", "", "fr")
	f.Add(true, "EXAMPLE.com:443", "/a/b", "/a%2Fb", "a=1&a=2", "br, GZIP", "zstd;q=0", " fr , en ")
	f.Add(false, "ÉXAMPLE.Com", "/é ü", "/%C3%A9", "", "gzip;q=0.5,", "x", "")
	f.Fuzz(func(t *testing.T, overTLS bool, host, path, rawPath, query, ae1, ae2, lang string) {
		r := &http.Request{Method: http.MethodGet, Host: host, URL: &url.URL{Path: path, RawPath: rawPath, RawQuery: query}, Header: http.Header{}}
		if overTLS {
			r.TLS = &tls.ConnectionState{}
		}
		r.Header.Add("Accept-Encoding", ae1)
		r.Header.Add("Accept-Encoding", ae2)
		r.Header.Set("Accept-Language", lang)
		names := []string{"Accept-Encoding", "accept-language", "X-Absent"}
		fields := canonicalNames(names)
		if !reflect.DeepEqual(fields, []string{"Accept-Encoding", "Accept-Language", "X-Absent"}) || names[1] != "accept-language" {
			t.Fatalf("canonical names %q of %q", fields, names)
		}
		id := appendRequestVaryParts(appendRequestParts([]byte{memoVariant}, r), names, fields, r.Header)
		back, backNames, ok := requestOfMemoID(id)
		if !ok || !reflect.DeepEqual(backNames, names) {
			t.Fatalf("memo id does not decode: %v, names %q", ok, backNames)
		}
		if back.Host != host || back.URL.Path != path || back.URL.RawPath != rawPath || back.URL.RawQuery != query || (back.TLS != nil) != overTLS {
			t.Fatalf("request parts do not round-trip: %+v", back)
		}
		h := &HTTPCache{query: []string{"a", "level"}}
		p := h.primaryKey(r)
		if got := h.primaryKey(back); got != p {
			t.Fatalf("primary key %s from the id, %s from the request", got, p)
		}
		if got, want := variantKey(p, names, back.Header), referenceVariantKey(p, names, r.Header); got != want {
			t.Fatalf("variant key %s from the id, reference %s", got, want)
		}
	})
}

// FuzzQueryDeclared checks the query check against net/url: a query it accepts parses
// without error into declared parameters only, whose values are those the key holds.
func FuzzQueryDeclared(f *testing.F) {
	for _, q := range []string{"", "level=1", "a=1&level=x&a=2", "level=%zz", "level=a;b", "lev%65l=1", "&&a=1&", "=1", "a", "a=%2B+b"} {
		f.Add(q)
	}
	h := &HTTPCache{query: []string{"a", "level"}}
	f.Fuzz(func(t *testing.T, raw string) {
		if !h.queryDeclared(raw) {
			return
		}
		q, err := url.ParseQuery(raw)
		if err != nil {
			t.Fatalf("%q accepted, net/url says %v", raw, err)
		}
		for name, values := range q {
			if name != "a" && name != "level" {
				t.Fatalf("%q accepted with parameter %q", raw, name)
			}
			if got := queryValues(raw, name); !reflect.DeepEqual(got, values) {
				t.Fatalf("%q: key values of %s %q, net/url %q", raw, name, got, values)
			}
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
