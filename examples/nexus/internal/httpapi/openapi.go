package httpapi

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
)

// openapiJSON is the OpenAPI 3.1 description of every route, served at openapiPath.
// Tests check that it names every route of routes and the probes, and validate the
// end-to-end tests' requests and responses against it.
//
//go:embed openapi.json
var openapiJSON []byte

// openapiPath serves the OpenAPI document.
const openapiPath = "/api/openapi.json"

// OpenAPI returns the OpenAPI 3.1 document describing the API, as served at
// GET /api/openapi.json.
func OpenAPI() []byte { return bytes.Clone(openapiJSON) }

// openapiHandler serves the document: public for five minutes, then revalidated with
// a strong ETag derived from its bytes, so it changes only when the document does.
// The body is JSON, which the Content-Security-Policy of the API does not restrict.
func openapiHandler() http.Handler {
	sum := sha256.Sum256(openapiJSON)
	etag := `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
	length := strconv.Itoa(len(openapiJSON))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "public, max-age=300")
		h.Set("ETag", etag)
		if etagListed(r.Header.Get("If-None-Match"), etag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", length)
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(openapiJSON)
	})
}

// etagListed reports whether the If-None-Match value list names etag, weakly compared
// (RFC 9110 §13.1.2), or is "*".
func etagListed(list, etag string) bool {
	for tag := range strings.SplitSeq(list, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" || strings.TrimPrefix(tag, "W/") == etag {
			return true
		}
	}
	return false
}
