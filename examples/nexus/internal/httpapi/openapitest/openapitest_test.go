package openapitest

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// doc is a small API in the style of the real one: an item behind a bearer token,
// created from a strict body, with problem+json errors.
const doc = `{
  "openapi": "3.1.0",
  "info": {"title": "items", "version": "1"},
  "paths": {
    "/items/{id}": {
      "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 1}}],
      "get": {
        "security": [{"bearer": []}],
        "responses": {
          "200": {
            "description": "ok",
            "headers": {"X-Count": {"required": true, "schema": {"type": "integer"}}},
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}}
          },
          "304": {"description": "not modified", "headers": {"ETag": {"required": true, "schema": {"type": "string"}}}},
          "401": {"$ref": "#/components/responses/Problem"},
          "404": {"$ref": "#/components/responses/Problem"}
        }
      }
    },
    "/items": {
      "post": {
        "requestBody": {"required": true, "content": {"application/json": {"schema": {
          "type": "object", "additionalProperties": false, "required": ["name"],
          "properties": {"name": {"type": "string", "minLength": 1}}}}}},
        "responses": {
          "204": {"description": "created"},
          "400": {"$ref": "#/components/responses/Problem"}
        }
      }
    },
    "/": {"get": {"responses": {"200": {"description": "page", "content": {"text/html": {}}}}}}
  },
  "components": {
    "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
    "responses": {"Problem": {"description": "problem", "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}},
    "schemas": {
      "Item": {"type": "object", "additionalProperties": false, "required": ["id", "at"],
        "properties": {"id": {"type": "integer"}, "at": {"type": "string", "format": "date-time"}, "note": {"type": ["string", "null"]}}},
      "Problem": {"type": "object", "additionalProperties": false, "required": ["title", "status"],
        "properties": {"type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"}, "detail": {"type": "string"}, "retry_after": {"type": "integer"}}}
    }
  }
}`

const (
	item    = `{"id":3,"at":"2025-03-11T09:00:00Z","note":null}`
	problem = `{"type":"about:blank","title":"Not Found","status":404,"detail":"no such item"}`
	bearer  = "Bearer abc"
)

type exchange struct {
	name                 string
	method, url, reqBody string
	reqHeader            []string
	status               int
	respHeader           []string
	respBody             string
	ok                   bool
}

func TestCheck(t *testing.T) {
	v, err := New([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	js, pj := "application/json; charset=utf-8", "application/problem+json"
	for _, c := range []exchange{
		{name: "described", method: "GET", url: "/items/3", reqHeader: []string{"Authorization", bearer},
			status: 200, respHeader: []string{"Content-Type", js, "X-Count", "1"}, respBody: item, ok: true},
		{name: "undocumented field", method: "GET", url: "/items/3", reqHeader: []string{"Authorization", bearer},
			status: 200, respHeader: []string{"Content-Type", js, "X-Count", "1"}, respBody: `{"id":3,"at":"2025-03-11T09:00:00Z","secret":"x"}`},
		{name: "missing field", method: "GET", url: "/items/3", reqHeader: []string{"Authorization", bearer},
			status: 200, respHeader: []string{"Content-Type", js, "X-Count", "1"}, respBody: `{"id":3}`},
		{name: "not a date-time", method: "GET", url: "/items/3", reqHeader: []string{"Authorization", bearer},
			status: 200, respHeader: []string{"Content-Type", js, "X-Count", "1"}, respBody: `{"id":3,"at":"tomorrow"}`},
		{name: "wrong status", method: "GET", url: "/items/3", reqHeader: []string{"Authorization", bearer},
			status: 201, respHeader: []string{"Content-Type", js, "X-Count", "1"}, respBody: item},
		{name: "undocumented 500", method: "GET", url: "/items/3", reqHeader: []string{"Authorization", bearer},
			status: 500, respHeader: []string{"Content-Type", pj}, respBody: problem},
		{name: "required header missing", method: "GET", url: "/items/3", reqHeader: []string{"Authorization", bearer},
			status: 200, respHeader: []string{"Content-Type", js}, respBody: item},
		{name: "wrong media type", method: "GET", url: "/items/3", reqHeader: []string{"Authorization", bearer},
			status: 200, respHeader: []string{"Content-Type", "text/plain", "X-Count", "1"}, respBody: item},
		{name: "error as plain JSON", method: "GET", url: "/items/3", reqHeader: []string{"Authorization", bearer},
			status: 404, respHeader: []string{"Content-Type", "application/json"}, respBody: problem},
		{name: "problem with an unknown member", method: "GET", url: "/items/3", reqHeader: []string{"Authorization", bearer},
			status: 404, respHeader: []string{"Content-Type", pj}, respBody: `{"title":"Not Found","status":404,"trace":"x"}`},
		{name: "gzip response", method: "GET", url: "/items/3", reqHeader: []string{"Authorization", bearer},
			status: 200, respHeader: []string{"Content-Type", js, "X-Count", "1", "Content-Encoding", "gzip"}, respBody: gz(item), ok: true},
		{name: "gzip response drifted", method: "GET", url: "/items/3", reqHeader: []string{"Authorization", bearer},
			status: 200, respHeader: []string{"Content-Type", js, "X-Count", "1", "Content-Encoding", "gzip"}, respBody: gz(`{"id":3}`)},
		{name: "HEAD", method: "HEAD", url: "/items/3", reqHeader: []string{"Authorization", bearer},
			status: 200, respHeader: []string{"Content-Type", js, "X-Count", "1"}, ok: true},
		{name: "HEAD wrong status", method: "HEAD", url: "/items/3", reqHeader: []string{"Authorization", bearer},
			status: 202, respHeader: []string{"X-Count", "1"}},
		{name: "HEAD required header missing", method: "HEAD", url: "/items/3", reqHeader: []string{"Authorization", bearer},
			status: 200, respHeader: []string{"Content-Type", js}},
		{name: "304", method: "GET", url: "/items/3", reqHeader: []string{"Authorization", bearer},
			status: 304, respHeader: []string{"ETag", `"x"`}, ok: true},
		{name: "304 without ETag", method: "GET", url: "/items/3", reqHeader: []string{"Authorization", bearer}, status: 304},
		{name: "no content but a body", method: "POST", url: "/items", reqHeader: []string{"Content-Type", "application/json"}, reqBody: `{"name":"a"}`,
			status: 204, respHeader: []string{"Content-Type", js}, respBody: `{}`},
		{name: "page left open", method: "GET", url: "/", status: 200, respHeader: []string{"Content-Type", "text/html; charset=utf-8"}, respBody: "<p>", ok: true},

		// Requests the document refuses must be refused.
		{name: "no token, 401", method: "GET", url: "/items/3", status: 401, respHeader: []string{"Content-Type", pj}, respBody: problem, ok: true},
		{name: "no token, 200", method: "GET", url: "/items/3",
			status: 200, respHeader: []string{"Content-Type", js, "X-Count", "1"}, respBody: item},
		{name: "bad id, 404", method: "GET", url: "/items/0", reqHeader: []string{"Authorization", bearer},
			status: 404, respHeader: []string{"Content-Type", pj}, respBody: problem, ok: true},
		{name: "unknown field, 400", method: "POST", url: "/items", reqHeader: []string{"Content-Type", "application/json"}, reqBody: `{"name":"a","admin":true}`,
			status: 400, respHeader: []string{"Content-Type", pj}, respBody: problem, ok: true},
		{name: "unknown field, accepted", method: "POST", url: "/items", reqHeader: []string{"Content-Type", "application/json"}, reqBody: `{"name":"a","admin":true}`,
			status: 204},
		{name: "unknown field, undocumented 422", method: "POST", url: "/items", reqHeader: []string{"Content-Type", "application/json"}, reqBody: `{"name":"a","admin":true}`,
			status: 422, respHeader: []string{"Content-Type", pj}, respBody: problem},
		{name: "gzip request", method: "POST", url: "/items", reqHeader: []string{"Content-Type", "application/json", "Content-Encoding", "GZIP"}, reqBody: gz(`{"name":"a"}`),
			status: 204, ok: true},
		{name: "undecodable request, 400", method: "POST", url: "/items", reqHeader: []string{"Content-Type", "application/json", "Content-Encoding", "gzip"}, reqBody: `{"name":"a"}`,
			status: 400, respHeader: []string{"Content-Type", pj}, respBody: problem, ok: true},

		// Answers given before routing.
		{name: "unknown path", method: "GET", url: "/nope", status: 404, respHeader: []string{"Content-Type", pj}, respBody: problem, ok: true},
		{name: "unknown path, HEAD", method: "HEAD", url: "/nope", status: 404, respHeader: []string{"Content-Type", pj}, ok: true},
		{name: "unknown path, 200", method: "GET", url: "/nope", status: 200, respHeader: []string{"Content-Type", js}, respBody: `{}`},
		{name: "unknown path, plain 404", method: "GET", url: "/nope", status: 404, respHeader: []string{"Content-Type", "text/plain"}, respBody: "404 page not found"},
		{name: "unknown method, 405", method: "DELETE", url: "/items", status: 405, respHeader: []string{"Content-Type", pj, "Allow", "POST"},
			respBody: `{"title":"Method Not Allowed","status":405}`, ok: true},
		{name: "unknown method, 405 without Allow", method: "DELETE", url: "/items", status: 405, respHeader: []string{"Content-Type", pj},
			respBody: `{"title":"Method Not Allowed","status":405}`},
		{name: "rate limited before routing", method: "GET", url: "/nope", status: 429, respHeader: []string{"Content-Type", pj, "Retry-After", "3"},
			respBody: `{"title":"Too Many Requests","status":429,"retry_after":3}`, ok: true},
		{name: "path cleaned", method: "GET", url: "/items//3", status: 301, respHeader: []string{"Location", "/items/3"}, ok: true},
		{name: "CORS preflight", method: "OPTIONS", url: "/items", reqHeader: []string{"Origin", "https://app.example", "Access-Control-Request-Method", "POST"},
			status: 204, ok: true},
		{name: "CORS preflight refused", method: "OPTIONS", url: "/items", reqHeader: []string{"Origin", "https://evil.example", "Access-Control-Request-Method", "POST"},
			status: 403, respHeader: []string{"Content-Type", pj}, respBody: `{"title":"Forbidden","status":403}`, ok: true},
		{name: "HTTPS redirect", method: "GET", url: "/items/3?x=1", reqHeader: []string{"Host", "api.example"},
			status: 308, respHeader: []string{"Location", "https://api.example/items/3?x=1"}, ok: true},
		{name: "redirect elsewhere", method: "GET", url: "/items/3", reqHeader: []string{"Host", "api.example"},
			status: 308, respHeader: []string{"Location", "https://evil.example/items/3"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest(c.method, "http://127.0.0.1:5000"+c.url, strings.NewReader(c.reqBody))
			for i := 0; i+1 < len(c.reqHeader); i += 2 {
				if c.reqHeader[i] == "Host" {
					req.Host = c.reqHeader[i+1]
					continue
				}
				req.Header.Set(c.reqHeader[i], c.reqHeader[i+1])
			}
			resp := &http.Response{StatusCode: c.status, Header: http.Header{}}
			for i := 0; i+1 < len(c.respHeader); i += 2 {
				resp.Header.Set(c.respHeader[i], c.respHeader[i+1])
			}
			err := v.Check(req, []byte(c.reqBody), resp, []byte(c.respBody))
			if c.ok && err != nil {
				t.Errorf("refused: %v", err)
			}
			if !c.ok && err != nil {
				t.Logf("refused: %s", strings.SplitN(err.Error(), "\n", 2)[0])
			}
			if !c.ok && err == nil {
				t.Error("accepted")
			}
		})
	}
}

// TestTransport: the transport checks every exchange of a client, reports those the
// document does not describe, and hands requests and responses on intact.
func TestTransport(t *testing.T) {
	v, err := New([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	var received string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		received = string(b)
		switch r.URL.Path {
		case "/items":
			w.WriteHeader(http.StatusNoContent)
		case "/items/3":
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("X-Count", "1")
			_, _ = io.WriteString(w, item)
		default:
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"id":"drifted"}`)
		}
	}))
	defer srv.Close()

	rec := &recorder{TB: t}
	client := &http.Client{Transport: v.Transport(rec, nil)}
	get := func(method, path, body string) string {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", bearer)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if got := get("GET", "/items/3", ""); got != item || len(rec.errs) != 0 {
		t.Fatalf("body %q, errors %v", got, rec.errs)
	}
	if get("POST", "/items", `{"name":"a"}`); received != `{"name":"a"}` || len(rec.errs) != 0 {
		t.Fatalf("server received %q, errors %v", received, rec.errs)
	}
	if got := get("GET", "/elsewhere", ""); got != `{"id":"drifted"}` || len(rec.errs) != 1 || !strings.Contains(rec.errs[0], "GET /elsewhere answered 200") {
		t.Fatalf("body %q, errors %v", got, rec.errs)
	}
}

// TestNewRefusesOtherDocuments: only a valid OpenAPI 3.1 document with a Problem schema
// is accepted.
func TestNewRefusesOtherDocuments(t *testing.T) {
	for name, d := range map[string]string{
		"not JSON":   `{`,
		"3.0":        strings.Replace(doc, `"3.1.0"`, `"3.0.3"`, 1),
		"no Problem": strings.ReplaceAll(strings.Replace(doc, `"Problem": {"type"`, `"Trouble": {"type"`, 1), "schemas/Problem", "schemas/Trouble"),
		"bad ref":    strings.Replace(doc, `#/components/schemas/Item"`, `#/components/schemas/Nothing"`, 1),
	} {
		if _, err := New([]byte(d)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// recorder collects the errors a Transport reports.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func gz(s string) string {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	_, _ = w.Write([]byte(s))
	_ = w.Close()
	return b.String()
}
