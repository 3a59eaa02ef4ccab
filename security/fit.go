package security

import (
	"net/http"
	"strings"
)

// Header names, in canonical form, of the fixed headers that only documents (and, for
// some, workers) obey, and of the policy that makes X-Frame-Options redundant.
const (
	hdrPermissions   = "Permissions-Policy"
	hdrOpenerPolicy  = "Cross-Origin-Opener-Policy"
	hdrEmbedderPol   = "Cross-Origin-Embedder-Policy"
	hdrFrameOptions  = "X-Frame-Options"
	hdrReferrer      = "Referrer-Policy"
	hdrCSP           = "Content-Security-Policy"
	frameAncestorsDn = "frame-ancestors"
)

// fit adjusts the headers to the response once its status and Content-Type are known. A
// response no browser renders as a document or runs as a worker — JSON, a problem, an
// image, a stylesheet, a font — gets APICSP instead of the default policy (fitCSP) and
// none of the headers that govern only documents:
//
//   - Permissions-Policy, Cross-Origin-Opener-Policy and Cross-Origin-Embedder-Policy
//     apply to documents (and workers) alone;
//   - X-Frame-Options says what the enforced CSP's frame-ancestors directive already says
//     (it is kept when no enforced policy of the response has that directive);
//   - Referrer-Policy governs the requests a document, a worker or a stylesheet makes,
//     and the request that follows a redirect: it is kept on stylesheets and on 3xx.
//
// Strict-Transport-Security, X-Content-Type-Options and Cross-Origin-Resource-Policy,
// which protect the response itself, stay on every response. A response without a
// Content-Type yet is sniffed by net/http later, so it keeps every header.
func (st *reqState) fit(code int) {
	h := st.w.Header()
	mt := mediaType(h["Content-Type"])
	if startsContext(mt) {
		return
	}
	st.fitCSP(h)
	st.drop(h, hdrPermissions)
	st.drop(h, hdrOpenerPolicy)
	st.drop(h, hdrEmbedderPol)
	if len(h[hdrFrameOptions]) > 0 && st.s.framingForbidden(h[hdrCSP]) {
		st.drop(h, hdrFrameOptions)
	}
	if (code < 300 || code >= 400) && !strings.EqualFold(mt, "text/css") {
		st.drop(h, hdrReferrer)
	}
}

// fitCSP sends APICSP instead of the default policy: the directives of DefaultCSP that
// govern what a page loads have nothing to govern on a response that is not a document,
// and the four of APICSP forbid everything, framing included, in half the bytes. A
// policy the service chose, a route's own, and a policy carrying a nonce are kept.
func (st *reqState) fitCSP(h http.Header) {
	s := st.s
	if s.apiPolicy == nil || st.policy != s.policy || st.nonce != "" {
		return
	}
	if v := h[s.cspHeader]; len(v) == 1 && v[0] == s.policy.static {
		st.vals.set(h, s.cspHeader, s.apiPolicy.static)
	}
}

// drop deletes h[key] when it is still the value the middleware set: a value the handler
// set, even an equal one, is its own.
func (st *reqState) drop(h http.Header, key string) {
	if st.vals.owns(h[key]) {
		delete(h, key)
	}
}

// framingForbidden reports whether one of the enforced policies has a frame-ancestors
// directive (several policies all apply, so one is enough). Report-only policies do not
// count: they forbid nothing.
func (s *Security) framingForbidden(policies []string) bool {
	for _, p := range policies {
		if s.apiPolicy != nil && p == s.apiPolicy.static {
			return true // APICSP has the directive
		}
		for p != "" {
			var d string
			d, p, _ = strings.Cut(p, ";")
			d = strings.TrimSpace(d)
			if i := strings.IndexAny(d, " \t"); i >= 0 {
				d = d[:i]
			}
			if strings.EqualFold(d, frameAncestorsDn) {
				return true
			}
		}
	}
	return false
}

// mediaType returns the media type of a Content-Type value, without parameters; "" when
// there is none.
func mediaType(contentType []string) string {
	if len(contentType) == 0 {
		return ""
	}
	mt, _, _ := strings.Cut(contentType[0], ";")
	return strings.TrimSpace(mt)
}

// startsContext reports whether a response of media type mt may be rendered as a
// document or run as a worker, the two kinds of response whose own headers set a CSP,
// a permissions policy or an opener policy: HTML, XML, SVG, PDF, JavaScript, and
// anything without a valid media type (left to the browser's sniffing).
func startsContext(mt string) bool {
	mt = strings.ToLower(mt) // no copy when it is lower case already
	switch mt {
	case "application/json", "application/problem+json":
		return false
	case "text/html", "application/xhtml+xml", "image/svg+xml", "text/xml", "application/xml",
		"application/pdf", "text/javascript", "application/javascript":
		return true
	}
	if !strings.Contains(mt, "/") {
		return true
	}
	// +xml types, and the legacy names of JavaScript (application/x-javascript,
	// text/ecmascript ...): a worker takes its policies from its script's response.
	return strings.HasSuffix(mt, "+xml") || strings.Contains(mt, "javascript") || strings.Contains(mt, "ecmascript")
}
