package main

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzDecodeJSON: any request body is decoded or refused with a client error; nothing
// panics and nothing is a 5xx.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{"email":"a@b.c","password":"x"}`, `{"email":1}`, `[]`, `{} {}`, `{"refresh_token":"\u0000"}`, `{"email":"` + strings.Repeat("a", 100) + `"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest("POST", "/api/auth/login", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		var req loginRequest
		err := decodeJSON(httptest.NewRecorder(), r, &req)
		if err == nil {
			return
		}
		var br *badRequest
		if !errors.As(err, &br) || br.status < 400 || br.status >= 500 {
			t.Fatalf("error %v is not a client error", err)
		}
	})
}

// FuzzAuthorizationHeader: no Authorization header value authenticates without a token
// signed with the key, and none panics.
func FuzzAuthorizationHeader(f *testing.F) {
	for _, s := range []string{"Bearer x.y.z", "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.", "bearer  ", "Basic Zm9vOmJhcg==", strings.Repeat("A", 5000)} {
		f.Add(s)
	}
	a := &app{cfg: &Config{JWTSecretKey: "fuzz-key-fuzz-key-fuzz-key-fuzz-key"}, now: time.Now}
	f.Fuzz(func(t *testing.T, h string) {
		r := httptest.NewRequest("GET", "/api/auth/me", nil)
		r.Header.Set("Authorization", h)
		if p, err := a.authenticate(r); err == nil || p != nil {
			t.Fatalf("header %q authenticated as %+v", h, p)
		}
	})
}

// FuzzQueryParams: paging and search parameters are validated or refused; the LIKE
// pattern always escapes the wildcards it was given.
func FuzzQueryParams(f *testing.F) {
	f.Add("1", "20", "hadd")
	f.Add("-1", "1000", "%_\\")
	f.Add("99999999999999999999", "0", "' OR 1=1 --")
	f.Fuzz(func(t *testing.T, page, per, search string) {
		r := &http.Request{URL: mustURL("/api/students")}
		q := r.URL.Query()
		q.Set("page", page)
		q.Set("per_page", per)
		r.URL.RawQuery = q.Encode()
		p, n, err := pageParams(r)
		if err == nil && (p < 1 || n < 1 || n > 100) {
			t.Fatalf("accepted page %d per_page %d", p, n)
		}
		pat := likePattern(search)
		inner := pat[1 : len(pat)-1]
		for i := 0; i < len(inner); i++ {
			switch inner[i] {
			case '\\':
				i++ // an escape and the escaped byte
				if i >= len(inner) {
					t.Fatalf("dangling escape in %q", pat)
				}
			case '%', '_':
				t.Fatalf("unescaped wildcard in %q (from %q)", pat, search)
			}
		}
	})
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}
