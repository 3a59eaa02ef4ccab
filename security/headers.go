package security

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/unrolled/secure"
)

// staticHeaders are the headers that do not vary per request, computed once by
// unrolled/secure from the configuration: those sent on every response, one set for
// HTTPS (with HSTS) and one for plain HTTP, and those that govern only documents, added
// when the response's header is written (see reqState.fit).
type staticHeaders struct {
	https, http []headerValue
	document    []headerValue
}

type headerValue struct {
	key, val string
}

func (s *staticHeaders) apply(h http.Header, https bool, b *valueBuf) {
	set := s.http
	if https {
		set = s.https
	}
	for _, kv := range set {
		b.set(h, kv.key, kv.val)
	}
}

// valueSlots is the number of header values a valueBuf holds: the most the middleware
// sets on one response (seven fixed headers plus Cross-Origin-Embedder-Policy, then the
// CSP, its APICSP form and Reporting-Endpoints, or up to six CORS headers on a preflight).
const valueSlots = 15

// valueBuf backs the header values the middleware sets on one response, so they cost no
// allocation of their own; it lives in the request's reqState. Each value is handed out
// as a slice with len == cap, so a handler that appends to it gets a fresh array, and a
// handler or outer middleware that writes one in place writes only this response's
// copy: the array belongs to one request and is never reused.
type valueBuf struct {
	n     int
	slots [valueSlots]string
}

// set sets h[key] to the single value v.
func (b *valueBuf) set(h http.Header, key, v string) {
	if b.n == len(b.slots) {
		h[key] = []string{v}
		return
	}
	b.slots[b.n] = v
	h[key] = b.slots[b.n : b.n+1 : b.n+1]
	b.n++
}

func headerOr(v, def string) string {
	switch v {
	case "":
		return def
	case Omit:
		return ""
	}
	return v
}

func buildStaticHeaders(cfg *Config) (*staticHeaders, error) {
	hd := cfg.Headers
	for name, v := range map[string]string{
		"ReferrerPolicy": hd.ReferrerPolicy, "PermissionsPolicy": hd.PermissionsPolicy,
		"FrameOptions": hd.FrameOptions, "CrossOriginOpenerPolicy": hd.CrossOriginOpenerPolicy,
		"CrossOriginResourcePolicy": hd.CrossOriginResourcePolicy,
		"CrossOriginEmbedderPolicy": hd.CrossOriginEmbedderPolicy,
	} {
		if strings.ContainsAny(v, "\r\n\x00") {
			return nil, fmt.Errorf("%w: Headers.%s contains a control character", ErrInvalidConfig, name)
		}
	}
	opt := secure.Options{
		ContentTypeNosniff:        true,
		CustomFrameOptionsValue:   headerOr(hd.FrameOptions, defaultFrameOptions),
		ReferrerPolicy:            headerOr(hd.ReferrerPolicy, defaultReferrer),
		PermissionsPolicy:         headerOr(hd.PermissionsPolicy, defaultPermissions),
		CrossOriginOpenerPolicy:   headerOr(hd.CrossOriginOpenerPolicy, defaultOpenerPolicy),
		CrossOriginResourcePolicy: headerOr(hd.CrossOriginResourcePolicy, defaultResourcePolicy),
		CrossOriginEmbedderPolicy: headerOr(hd.CrossOriginEmbedderPolicy, ""),
	}
	plain, err := secureHeaders(opt)
	if err != nil {
		return nil, err
	}
	plain, document := splitDocument(plain)
	out := &staticHeaders{http: plain, https: plain, document: document}
	maxAge := cfg.HSTS.MaxAge
	if maxAge == 0 {
		maxAge = defaultHSTSMaxAge
	}
	if cfg.Profile == Production && maxAge > 0 {
		secs := int64(maxAge.Seconds())
		if secs < 1 {
			return nil, fmt.Errorf("%w: HSTS.MaxAge %v is below one second", ErrInvalidConfig, maxAge)
		}
		if cfg.HSTS.Preload && (secs < 31536000 || cfg.HSTS.ExcludeSubdomains) {
			return nil, fmt.Errorf("%w: HSTS preload needs max-age of at least one year and includeSubDomains", ErrInvalidConfig)
		}
		opt.STSSeconds = secs
		opt.STSIncludeSubdomains = !cfg.HSTS.ExcludeSubdomains
		opt.STSPreload = cfg.HSTS.Preload
		opt.ForceSTSHeader = true
		if out.https, err = secureHeaders(opt); err != nil {
			return nil, err
		}
		out.https, _ = splitDocument(out.https)
	}
	return out, nil
}

// splitDocument separates the headers that govern only documents from the others.
func splitDocument(set []headerValue) (always, document []headerValue) {
	for _, kv := range set {
		switch kv.key {
		case hdrPermissions, hdrOpenerPolicy, hdrEmbedderPol, hdrFrameOptions, hdrReferrer:
			document = append(document, kv)
		default:
			always = append(always, kv)
		}
	}
	return always, document
}

// secureHeaders runs unrolled/secure once on a synthetic request and keeps the headers it
// produces, in a stable order.
func secureHeaders(opt secure.Options) ([]headerValue, error) {
	s := secure.New(opt)
	req := &http.Request{Method: http.MethodGet, URL: &url.URL{Scheme: "https", Host: "config.invalid", Path: "/"},
		Host: "config.invalid", Header: http.Header{}}
	h, _, err := s.ProcessNoModifyRequest(discardWriter{http.Header{}}, req)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidConfig, err)
	}
	out := make([]headerValue, 0, len(h))
	for k, v := range h {
		if len(v) > 0 {
			out = append(out, headerValue{key: http.CanonicalHeaderKey(k), val: v[0]})
		}
	}
	slices.SortFunc(out, func(a, b headerValue) int { return strings.Compare(a.key, b.key) })
	return out, nil
}

// discardWriter is the ResponseWriter handed to unrolled/secure while computing headers;
// with the options used it never writes.
type discardWriter struct{ h http.Header }

func (d discardWriter) Header() http.Header         { return d.h }
func (d discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d discardWriter) WriteHeader(int)             {}

// firstValue is h.Get(key) for a key already in canonical form: a map lookup without
// canonicalizing the key again on every request.
func firstValue(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}
