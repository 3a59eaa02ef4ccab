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

// fit completes the headers once the response's status and Content-Type are known. A
// response a browser may render as a document or run as a worker gets the headers that
// govern only those (Permissions-Policy, Cross-Origin-Opener-Policy,
// Cross-Origin-Embedder-Policy, X-Frame-Options, Referrer-Policy). Any other response —
// JSON, a problem, an image, a stylesheet, a font — gets APICSP instead of the default
// policy (fitCSP) and, of those headers, only:
//
//   - X-Frame-Options when no enforced policy of the response has frame-ancestors, which
//     says the same to every current browser (APICSP has it);
//   - Referrer-Policy on stylesheets and redirects, since it governs the requests a
//     stylesheet makes and the request that follows a redirect.
//
// A header the handler set itself is left as it is. A response without a Content-Type
// is sniffed by net/http later, so it is treated as a document. The headers that
// protect every response (Strict-Transport-Security, X-Content-Type-Options,
// Cross-Origin-Resource-Policy) were set before the handler ran.
func (st *reqState) fit(code int) {
	h := st.w.Header()
	mt := mediaType(h["Content-Type"])
	doc := startsContext(mt)
	if !doc {
		st.fitCSP(h)
	}
	for _, kv := range st.s.headers.document {
		if _, set := h[kv.key]; set {
			continue
		}
		if doc || st.wantedOffDocuments(h, kv.key, code, mt) {
			st.vals.set(h, kv.key, kv.val)
		}
	}
}

// wantedOffDocuments reports whether the document header key still does a job on a
// response that is not a document.
func (st *reqState) wantedOffDocuments(h http.Header, key string, code int, mt string) bool {
	switch key {
	case hdrFrameOptions:
		return !st.forbidsFraming(h[hdrCSP])
	case hdrReferrer:
		return code >= 300 && code < 400 || strings.EqualFold(mt, "text/css")
	}
	return false
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

// forbidsFraming is framingForbidden for the enforced policies of a response,
// answered without a scan when the value is one of the policies this Security renders
// without nonce (the usual case: its own policy, or APICSP on a response that is not a
// document).
func (st *reqState) forbidsFraming(policies []string) bool {
	if len(policies) == 1 {
		for _, p := range [2]*policy{st.s.apiPolicy, st.policy} {
			if p != nil && policies[0] == p.static {
				return p.framing
			}
		}
	}
	return framingForbidden(policies)
}

// framingForbidden reports whether one of the enforced policies has a frame-ancestors
// directive (several policies all apply, so one is enough). Report-only policies do not
// count: they forbid nothing.
func framingForbidden(policies []string) bool {
	for _, p := range policies {
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
