package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
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
		var he *httpError
		if !errors.As(err, &he) || he.status < 400 || he.status >= 500 {
			t.Fatalf("error %v is not a client error", err)
		}
	})
}

// FuzzPageParams: paging parameters are in range or refused.
func FuzzPageParams(f *testing.F) {
	f.Add("1", "20")
	f.Add("-1", "1000")
	f.Add("99999999999999999999", "0")
	f.Fuzz(func(t *testing.T, page, per string) {
		q := url.Values{"page": {page}, "per_page": {per}}
		r := &http.Request{URL: &url.URL{Path: "/api/students", RawQuery: q.Encode()}}
		p, n, err := pageParams(r)
		if err == nil && (p < 1 || n < 1 || n > 100) {
			t.Fatalf("accepted page %d per_page %d", p, n)
		}
	})
}

// TestProblem: errors are RFC 9457 problem details with the status text as title.
func TestProblem(t *testing.T) {
	rec := httptest.NewRecorder()
	writeProblem(rec, http.StatusConflict, `this slot is already booked <"&">`)
	var p map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	if rec.Code != http.StatusConflict || rec.Header().Get("Content-Type") != "application/problem+json" ||
		rec.Header().Get("X-Content-Type-Options") != "nosniff" || rec.Header().Get("Content-Length") != strconv.Itoa(rec.Body.Len()) {
		t.Fatalf("%d %v", rec.Code, rec.Header())
	}
	want := map[string]any{"type": "about:blank", "title": "Conflict", "status": float64(409), "detail": `this slot is already booked <"&">`}
	for k, v := range want {
		if p[k] != v {
			t.Errorf("%s = %v, want %v", k, p[k], v)
		}
	}
	if len(p) != len(want) {
		t.Errorf("members %v", p)
	}
}
