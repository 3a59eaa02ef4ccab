// Package openapitest holds HTTP exchanges to an OpenAPI 3.1 document: a Validator
// checks a request and its response against the document, and its Transport does so
// for every exchange of a test client.
//
// An exchange passes when:
//
//   - it is an operation of the document (GET also covers HEAD), whose response has a
//     status the operation lists (no "default"), the headers it requires, and a body of
//     a listed media type that matches the schema, content codings (gzip, zstd) undone;
//     a response the document gives no content has an empty body;
//   - the request matches the operation's parameters, body schema and security, or
//     else the response is one of the operation's 4xx answers: a request the document
//     calls invalid must be refused;
//   - or it is answered before routing, for which the document has no operation: a
//     path or method it does not list gets a 4xx problem (application/problem+json
//     matching the document's Problem schema) or a redirect, a CORS preflight gets a
//     2xx or a 4xx problem, and a plain-HTTP request may be redirected to the same URL
//     over HTTPS.
package openapitest

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/klauspost/compress/zstd"
)

// maxDecoded bounds a decompressed body; larger ones are refused as undecodable.
const maxDecoded = 64 << 20

// problemSchema is the schema, in the document's components, of every error body.
const problemSchema = "Problem"

// Validator checks HTTP exchanges against an OpenAPI 3.1 document. It is safe for
// concurrent use.
type Validator struct {
	doc    *openapi3.T
	router routers.Router
}

// New loads and validates an OpenAPI 3.1 document, which must define the schema
// components/schemas/Problem used for answers given before routing.
func New(document []byte) (*Validator, error) {
	doc := &openapi3.T{}
	if err := json.Unmarshal(document, doc); err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	loader := openapi3.NewLoader()
	if err := loader.ResolveRefsIn(doc, nil); err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1.") {
		return nil, fmt.Errorf("openapi: version %q, want 3.1.x", doc.OpenAPI)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("openapi: invalid document: %w", err)
	}
	if doc.Components == nil || doc.Components.Schemas[problemSchema] == nil {
		return nil, fmt.Errorf("openapi: no components/schemas/%s", problemSchema)
	}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	return &Validator{doc: doc, router: router}, nil
}

// Operations lists the operations of the document as "METHOD /path/{param}", sorted.
func (v *Validator) Operations() []string {
	var ops []string
	for path, item := range v.doc.Paths.Map() {
		for method := range item.Operations() {
			ops = append(ops, method+" "+path)
		}
	}
	slices.Sort(ops)
	return ops
}

// Check validates one exchange: req as sent with its body reqBody, and resp as received
// with its body respBody (both still content-coded, if they were). It returns nil when
// the document describes the exchange.
func (v *Validator) Check(req *http.Request, reqBody []byte, resp *http.Response, respBody []byte) error {
	if ok, err := answeredBeforeRouting(req, resp); ok {
		return err
	}
	respBody, err := decode(resp.Header.Get("Content-Encoding"), respBody)
	if err != nil {
		return fmt.Errorf("response body: %w", err)
	}
	lookup := req
	if req.Method == http.MethodHead {
		lookup = req.Clone(req.Context())
		lookup.Method = http.MethodGet
	}
	route, params, err := v.router.FindRoute(lookup)
	if err != nil {
		return v.checkUnrouted(req, resp, respBody)
	}
	in := &openapi3filter.RequestValidationInput{
		Request:    lookup,
		PathParams: params,
		Route:      route,
		Options:    &openapi3filter.Options{AuthenticationFunc: bearerPresent},
	}
	reqErr := v.checkRequest(in, reqBody)
	if reqErr != nil && (resp.StatusCode < 400 || resp.StatusCode >= 500) {
		return fmt.Errorf("the document refuses the request but the server answered %d: %w", resp.StatusCode, reqErr)
	}
	response := route.Operation.Responses.Status(resp.StatusCode)
	if response == nil || response.Value == nil {
		return fmt.Errorf("status %d is not a response of %s %s", resp.StatusCode, route.Method, route.Path)
	}
	if len(response.Value.Content) == 0 && len(respBody) > 0 {
		return fmt.Errorf("status %d of %s %s has no content, but the body is %.100q", resp.StatusCode, route.Method, route.Path, respBody)
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, ExcludeResponseBody: req.Method == http.MethodHead},
	}
	out.SetBodyBytes(respBody)
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		return err
	}
	// ValidateResponse skips HEAD, 301, 304, 307 and 308: their status was checked
	// above, their headers are checked here.
	if req.Method == http.MethodHead || resp.StatusCode/100 == 3 {
		return requiredHeaders(response.Value, resp.Header)
	}
	return nil
}

// checkRequest validates the request of in with its body decoded.
func (v *Validator) checkRequest(in *openapi3filter.RequestValidationInput, body []byte) error {
	body, err := decode(in.Request.Header.Get("Content-Encoding"), body)
	if err != nil {
		return fmt.Errorf("request body: %w", err)
	}
	r := in.Request.Clone(in.Request.Context())
	r.Header.Del("Content-Encoding")
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	in.Request = r
	return openapi3filter.ValidateRequest(context.Background(), in)
}

// checkUnrouted accepts, for a request the document has no operation for, a 4xx
// problem or a redirect.
func (v *Validator) checkUnrouted(req *http.Request, resp *http.Response, body []byte) error {
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		if resp.Header.Get("Location") == "" {
			return fmt.Errorf("no operation of the document, and a %d without Location", resp.StatusCode)
		}
		return nil
	case resp.StatusCode >= 400 && resp.StatusCode < 500:
		if resp.StatusCode == http.StatusMethodNotAllowed && resp.Header.Get("Allow") == "" {
			return errors.New("no operation of the document, and a 405 without Allow")
		}
		if req.Method == http.MethodHead {
			return nil
		}
		return v.checkProblem(resp, body)
	}
	return fmt.Errorf("no operation of the document, but the server answered %d", resp.StatusCode)
}

// checkProblem validates an application/problem+json body against the Problem schema.
func (v *Validator) checkProblem(resp *http.Response, body []byte) error {
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/problem+json" {
		return fmt.Errorf("no operation of the document, and a %d of type %q, not a problem", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var value any
	if err := json.Unmarshal(body, &value); err != nil {
		return fmt.Errorf("problem body: %w", err)
	}
	schema := v.doc.Components.Schemas[problemSchema].Value
	if err := schema.VisitJSON(value, openapi3.EnableJSONSchema2020(), openapi3.VisitAsResponse()); err != nil {
		return fmt.Errorf("problem body: %w", err)
	}
	return nil
}

// answeredBeforeRouting recognises the answers the middleware gives for any path,
// which are no operation of the document: CORS preflights, and the redirect of a
// plain-HTTP request to HTTPS. ok reports whether resp is one; err, whether it is
// malformed.
func answeredBeforeRouting(req *http.Request, resp *http.Response) (ok bool, err error) {
	switch {
	case req.Method == http.MethodOptions && req.Header.Get("Origin") != "" && req.Header.Get("Access-Control-Request-Method") != "":
		if resp.StatusCode/100 == 2 || resp.StatusCode/100 == 4 && isProblem(resp) {
			return true, nil
		}
		return true, fmt.Errorf("CORS preflight answered %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	case resp.StatusCode == http.StatusPermanentRedirect && req.URL.Scheme == "http" && strings.HasPrefix(resp.Header.Get("Location"), "https://"):
		host := req.Host
		if host == "" {
			host = req.URL.Host
		}
		// A server that trusts its proxy's X-Forwarded-Host redirects to that host.
		loc := resp.Header.Get("Location")
		for _, h := range []string{host, req.Header.Get("X-Forwarded-Host")} {
			if h != "" && loc == "https://"+h+req.URL.RequestURI() {
				return true, nil
			}
		}
		return true, fmt.Errorf("redirected to %q, not to the same URL over HTTPS (%q)", loc, "https://"+host+req.URL.RequestURI())
	}
	return false, nil
}

func isProblem(resp *http.Response) bool {
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return mt == "application/problem+json"
}

// requiredHeaders checks that h has the headers response requires.
func requiredHeaders(response *openapi3.Response, h http.Header) error {
	for name, header := range response.Headers {
		if header.Value != nil && header.Value.Required && h.Get(name) == "" {
			return fmt.Errorf("response header %q missing", name)
		}
	}
	return nil
}

// bearerPresent is the check of the document's bearer scheme: the request carries an
// "Authorization: Bearer <token>" header. Whether the token is good is the server's
// business, answered with a documented 401.
func bearerPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	scheme := in.SecurityScheme
	if scheme == nil || scheme.Type != "http" || !strings.EqualFold(scheme.Scheme, "bearer") {
		return fmt.Errorf("security scheme %q is not HTTP bearer", in.SecuritySchemeName)
	}
	auth := in.RequestValidationInput.Request.Header.Get("Authorization")
	if scheme, token, ok := strings.Cut(auth, " "); !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return errors.New("no Authorization: Bearer header")
	}
	return nil
}

// decode undoes the content coding of a body: none, identity, gzip (x-gzip) or zstd.
func decode(coding string, body []byte) ([]byte, error) {
	var r io.Reader
	switch strings.ToLower(strings.TrimSpace(coding)) {
	case "", "identity":
		return body, nil
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		r = zr
	case "zstd":
		zr, err := zstd.NewReader(bytes.NewReader(body), zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		r = zr
	default:
		return nil, fmt.Errorf("content coding %q", coding)
	}
	out, err := io.ReadAll(io.LimitReader(r, maxDecoded+1))
	if err != nil {
		return nil, err
	}
	if len(out) > maxDecoded {
		return nil, fmt.Errorf("more than %d bytes decoded", maxDecoded)
	}
	return out, nil
}
