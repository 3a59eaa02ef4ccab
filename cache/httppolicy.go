package cache

import (
	"bytes"
	"mime"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/nexus-reussite/harden/cache/internal/cachecontrol"
)

// What an HTTPCache may serve and store, decided from the request and the response.

// credentialed reports whether r carries a field that identifies who is asking:
// Authorization, a CredentialHeaders field, or a cookie not named in AnonymousCookies.
func (h *HTTPCache) credentialed(r *http.Request) bool {
	hd := r.Header
	if len(hd["Authorization"]) > 0 {
		return true
	}
	for _, k := range h.credHeaders {
		if len(hd[k]) > 0 {
			return true
		}
	}
	for _, line := range hd["Cookie"] {
		if !h.anonymousCookies(line) {
			return true
		}
	}
	return false
}

// anonymousCookies reports whether every cookie of a Cookie field line is named in
// AnonymousCookies.
func (h *HTTPCache) anonymousCookies(line string) bool {
	for part := range strings.SplitSeq(line, ";") {
		if part = textproto.TrimString(part); part == "" {
			continue
		}
		name, _, _ := strings.Cut(part, "=")
		if !slices.Contains(h.anonCookies, name) {
			return false
		}
	}
	return true
}

// withoutCredentials returns a copy of r without Authorization, CredentialHeaders fields
// and the cookies not named in AnonymousCookies.
func (h *HTTPCache) withoutCredentials(r *http.Request) *http.Request {
	r2 := r.Clone(r.Context())
	delete(r2.Header, "Authorization")
	for _, k := range h.credHeaders {
		delete(r2.Header, k)
	}
	var kept []string
	for _, line := range r2.Header["Cookie"] {
		for part := range strings.SplitSeq(line, ";") {
			part = textproto.TrimString(part)
			if name, _, _ := strings.Cut(part, "="); part != "" && slices.Contains(h.anonCookies, name) {
				kept = append(kept, part)
			}
		}
	}
	delete(r2.Header, "Cookie")
	if len(kept) > 0 {
		r2.Header["Cookie"] = []string{strings.Join(kept, "; ")}
	}
	return r2
}

// queryDeclared reports whether every parameter of the raw query is one of the declared
// parameters, written as the key reads it: the name as declared, and a value that
// unescapes. Empty pairs ("a=1&&b=2") are ignored, as net/url does; a semicolon, which
// net/url refuses, is refused.
func (h *HTTPCache) queryDeclared(raw string) bool {
	if strings.IndexByte(raw, ';') >= 0 {
		return false
	}
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" {
			continue
		}
		name, value, _ := strings.Cut(pair, "=")
		if !slices.Contains(h.query, name) {
			return false
		}
		if strings.IndexByte(value, '%') >= 0 {
			if _, err := url.QueryUnescape(value); err != nil {
				return false
			}
		}
	}
	return true
}

// storableStatus reports whether a response of status may be stored (cacheable), and
// whether it may be for the tier's TTL when the handler gives no lifetime
// (implicitLifetime); the other cacheable statuses are stored only for an s-maxage or
// max-age.
func storableStatus(status int) (implicitLifetime, cacheable bool) {
	switch status {
	case 200, 203, 204, 300, 301, 308:
		return true, true
	case 404, 405, 410, 414, 501:
		return false, true
	}
	return false, false
}

// storable decides from its header whether a response may be stored, and for how long.
// It returns the reason when it may not: a token for the detail of Cache-Status. pre holds
// the fields outer middleware had set before the handler ran; routed tells whether a
// router had matched the request to a pattern before the cache.
func (h *HTTPCache) storable(status int, hd, pre http.Header, routed bool) (time.Duration, string) {
	implicit, ok := storableStatus(status)
	if !ok {
		return 0, "status"
	}
	cc := cachecontrol.Parse(hd["Cache-Control"])
	if reason := refusal(cc, hd, pre, routed); reason != "" {
		return 0, reason
	}
	switch {
	case cc.SMaxAge >= 0:
		return explicitLifetime(cc.SMaxAge)
	case cc.MaxAge >= 0:
		return explicitLifetime(cc.MaxAge)
	case !implicit:
		return 0, "status"
	}
	return h.c.jittered(h.c.tiers.TTL(h.tier)), ""
}

// refusal returns why a response with header hd and directives cc must not be stored, or
// "" when nothing in its header forbids it.
func refusal(cc cachecontrol.Directives, hd, pre http.Header, routed bool) string {
	switch {
	case len(hd["Set-Cookie"]) > 0:
		return "set-cookie"
	case cc.NoStore || cc.NoCache || cc.Private || cc.Invalid:
		return "cache-control"
	case !routed && !cc.Public && cc.SMaxAge < 0:
		// Not a route the cache was put on, and not a response addressed to shared caches.
		return "unrouted"
	case varyStar(hd["Vary"]):
		return "vary"
	case nonceByHandler(hd, pre), len(nonces(hd)) > 0 && isMarkup(headerValue(hd, "Content-Type")):
		return "csp-nonce"
	}
	return ""
}

// explicitLifetime is the lifetime of seconds given by s-maxage or max-age; 0 forbids
// storing.
func explicitLifetime(seconds int64) (time.Duration, string) {
	if seconds == 0 {
		return 0, "cache-control"
	}
	return time.Duration(seconds) * time.Second, ""
}

func varyStar(values []string) bool {
	_, star := varyNames(values)
	return star
}

// cspFields are the response fields whose policy may carry a nonce.
var cspFields = [...]string{"Content-Security-Policy", "Content-Security-Policy-Report-Only"}

// nonces returns the nonces of the CSP fields of hd.
func nonces(hd http.Header) []string {
	var out []string
	for _, k := range cspFields {
		out = appendNonces(out, hd[k])
	}
	return out
}

// appendNonces appends the values of the 'nonce-…' sources of policies to out.
func appendNonces(out, policies []string) []string {
	const source = "'nonce-"
	for _, v := range policies {
		for i := 0; i+len(source) <= len(v); i++ {
			if !strings.EqualFold(v[i:i+len(source)], source) {
				continue
			}
			n, _, _ := strings.Cut(v[i+len(source):], "'")
			if n = strings.TrimSpace(n); n != "" {
				out = append(out, n)
			}
		}
	}
	return out
}

// nonceByHandler reports whether a CSP field with a nonce was set or changed behind the
// cache: stored, it would hand the same nonce to every later request.
func nonceByHandler(hd, pre http.Header) bool {
	for _, k := range cspFields {
		if !slices.Equal(hd[k], pre[k]) && len(appendNonces(nil, hd[k])) > 0 {
			return true
		}
	}
	return false
}

// replaysNonce reports whether a body answered under a CSP with a nonce may carry that
// nonce: it contains it, is encoded (and cannot be searched) or, without a Content-Type,
// sniffs as markup.
func replaysNonce(hd http.Header, body []byte) bool {
	ns := nonces(hd)
	if len(ns) == 0 {
		return false
	}
	if headerValue(hd, "Content-Encoding") != "" {
		return true
	}
	if headerValue(hd, "Content-Type") == "" && isMarkup(http.DetectContentType(body)) {
		return true
	}
	for _, n := range ns {
		if bytes.Contains(body, []byte(n)) {
			return true
		}
	}
	return false
}

// isMarkup reports whether contentType is HTML or XML, documents whose scripts and
// styles a nonce admits.
func isMarkup(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(contentType))
	}
	return mt == "text/html" || mt == "text/xml" || mt == "application/xml" || strings.HasSuffix(mt, "+xml")
}
