package cache

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nexus-reussite/harden/cache/internal/cachecontrol"
	"github.com/nexus-reussite/harden/internal/problem"
)

// HTTPConfig configures an [HTTPCache]. The zero value caches the anonymous GET and HEAD
// requests, without query parameters, of the routes it wraps.
type HTTPConfig struct {
	// Tier gives the TTL of responses that carry neither s-maxage nor max-age; default
	// Short. The cache's jitter applies to it; origin-given lifetimes are kept exactly.
	Tier Tier
	// Tags are attached to every stored response, so [Cache.InvalidateTags] drops them all
	// (for example "formulas" after an admin update); default none.
	Tags []string
	// Query lists the query parameters the responses depend on; default none. The cache
	// key holds their values, unescaped and in a fixed order, so "?a=1&b=2" and
	// "?b=2&a=1" share an entry. A request with any other parameter (or a parameter name
	// written with escapes) goes to the handler and its response is neither served from
	// nor stored in the cache, so made-up parameters cannot fill the store. Declare only
	// parameters whose values the handler checks: every value it answers with a storable
	// response is an entry. Names are printable ASCII without space or any of &=;%+#.
	Query []string
	// MaxBodyBytes is the largest body stored; larger responses stream through uncached.
	// Default 1 MiB.
	MaxBodyBytes int64
	// AnonymousCookies names cookies that do not tell who is asking (a consent or theme
	// choice). A request whose cookies are all named here is served like one without
	// cookies; their values are not part of the key, so a response that depends on one
	// must say Vary: Cookie. Default none: a request with any cookie carries credentials.
	AnonymousCookies []string
	// CredentialHeaders names request header fields that, like Authorization and Cookie,
	// identify who is asking (an API key header, say); default none.
	CredentialHeaders []string
	// SameForEveryone declares that the route answers everyone alike, so requests carrying
	// credentials (Authorization, a cookie not in AnonymousCookies, a CredentialHeaders
	// field) may be served from the cache and fill it. The handler then receives the
	// request without those fields, so what it answers cannot depend on them; check them
	// in front of the cache (an authentication middleware wrapping it), and do not read
	// who is asking from the request's context behind it either. Default false: requests
	// carrying credentials go to the handler and are neither served from nor stored in
	// the cache.
	SameForEveryone bool
	// CacheStatus reports whether the response to r carries Cache-Status (RFC 9211), the
	// field that tells hits from misses. Default nil: no response does, because it tells
	// anyone who asks whether somebody requested the resource lately and when its entry
	// expires, which helps timing attacks and cache poisoning (RFC 9211 §6). Return true
	// for the clients allowed to see it, decided on what a client cannot forge (an
	// authenticated operator, a development build), or always while debugging. It is
	// called once per GET or HEAD request, before the cache looks anything up, with the
	// request as it reached the cache.
	CacheStatus func(r *http.Request) bool
	// Name identifies this cache in Cache-Status; default "harden". It must be a token.
	Name string
	// OnlyIfCachedHandler answers a request with Cache-Control: only-if-cached that
	// finds nothing; default a 504 problem+json.
	OnlyIfCachedHandler http.Handler
	// Logger receives store errors and panics of background revalidation; default the
	// Cache's logger.
	Logger *slog.Logger
	// Inner, when set, wraps every handler inside the cache, so what it does to a
	// response is stored with it. Give it a compressor's Handler and hits are served with
	// their compressed bytes instead of being compressed again on every request (the
	// compressor's Vary: Accept-Encoding keeps one entry per coding). Default none.
	Inner func(http.Handler) http.Handler
}

// HTTPCache is a response cache middleware for GET and HEAD (a shared cache in the sense of
// RFC 9111, subset). Put it on the routes to cache, between the router and the handler:
//
//	mux.Handle("GET /api/formulas", formulas.Handler(listFormulas))
//
// What it stores:
//
//   - Only responses that cannot belong to one user: requests carrying credentials
//     (Authorization, Cookie, HTTPConfig.CredentialHeaders) bypass the cache unless the
//     route declares SameForEveryone; responses with Set-Cookie, no-store, no-cache,
//     private or Vary: * are not stored.
//   - Only what a route answers: a request that reaches the cache before a router has
//     matched it to a pattern (the cache wrapping a whole http.ServeMux, or a router that
//     does not set Request.Pattern) is answered by the handler and stored only when the
//     response says Cache-Control: public or s-maxage. /metrics, probes and 404s of
//     unknown paths therefore pass through a cache wrapped around a mux. A pattern that
//     covers a subtree ("/api/") makes every handler under it a route of the cache, and
//     each path a route answers with a storable response is an entry of its own.
//   - Only the query parameters of HTTPConfig.Query; a request with others bypasses.
//   - Statuses 200, 203, 204, 300, 301 and 308 for their s-maxage, max-age or the tier's
//     TTL; 404, 405, 410, 414 and 501 only for an s-maxage or max-age the handler gives.
//   - Under a Content-Security-Policy with a nonce, only what cannot replay it: not a
//     policy the handler set itself, not HTML or XML, not a body that contains the nonce
//     or is encoded (compressed inside the cache). A policy set by middleware outside the
//     cache is set afresh on every response, hits included.
//
// How it answers:
//
//   - Request Cache-Control: no-store bypasses; no-cache (or Pragma: no-cache) and
//     max-age=0 go to the handler and store the result; max-age and min-fresh bound what is
//     served; only-if-cached answers 504 on a miss.
//   - Vary is honoured, and Accept-Encoding is normalised to the set of accepted codings,
//     so responses compressed by a middleware inside the cache are stored per encoding; a
//     compressing middleware outside it compresses what the cache serves.
//   - Every stored response has an ETag (the handler's, or one derived from the body);
//     If-None-Match is answered with 304 Not Modified.
//   - Stale entries: within StaleWhileRevalidate served at once while one background
//     request refreshes them; within StaleIfError served when the handler answers 5xx.
//     Responses with must-revalidate, proxy-revalidate or s-maxage are never served stale.
//   - Headers: Age on stored responses. Cache-Status (RFC 9211), the field that tells
//     hits from misses, only on the responses HTTPConfig.CacheStatus approves (none by
//     default; there is no X-Cache): "harden; hit; ttl=597" for a fresh hit; a negative
//     ttl for a stale one, plus "fwd=stale; fwd-status=503" when it stands in for a
//     failing handler; a miss gives why it went to the handler (fwd=uri-miss, vary-miss,
//     stale or request) then, for a GET, "stored" or detail=<why not>; a request the
//     cache must not handle gets fwd=bypass, with detail=query or detail=credentials
//     unless it said no-store; only-if-cached with nothing stored gets
//     detail=only-if-cached. Fields set by middleware outside the cache are neither
//     stored nor replayed, nor are the handler's own Age, Cache-Status and X-Cache.
//   - HEAD is answered from the GET entry; a HEAD miss goes to the handler unstored.
//   - POST, PUT, PATCH and DELETE through the middleware invalidate the stored responses
//     of their URI once the handler returns (RFC 9111 §4.4). Other URIs are invalidated
//     with tags.
type HTTPCache struct {
	c           *Cache
	tier        Tier
	tags        []string
	query       []string // sorted
	maxBody     int64
	anonCookies []string
	credHeaders []string // canonical
	shared      bool
	name        string
	status      func(*http.Request) bool
	onlyIf      http.Handler
	inner       func(http.Handler) http.Handler
	log         *slog.Logger
	memo        *memoTable
}

// NewHTTP returns a response cache storing into c.
func NewHTTP(c *Cache, cfg HTTPConfig) (*HTTPCache, error) {
	if c == nil {
		return nil, fmt.Errorf("%w: nil Cache", ErrInvalidConfig)
	}
	h := &HTTPCache{c: c, tier: cfg.Tier, tags: slices.Clone(cfg.Tags), maxBody: cfg.MaxBodyBytes,
		shared: cfg.SameForEveryone, name: cfg.Name, status: cfg.CacheStatus, onlyIf: cfg.OnlyIfCachedHandler, inner: cfg.Inner, log: cfg.Logger}
	if h.tier == 0 {
		h.tier = Short
	}
	if !h.tier.valid() {
		return nil, fmt.Errorf("%w: unknown tier %d", ErrInvalidConfig, cfg.Tier)
	}
	if _, err := collect([]Option{Tags(h.tags...)}); err != nil {
		return nil, err
	}
	switch {
	case h.maxBody < 0:
		return nil, fmt.Errorf("%w: MaxBodyBytes is negative", ErrInvalidConfig)
	case h.maxBody == 0:
		h.maxBody = DefaultMaxBodyBytes
	}
	if h.name == "" {
		h.name = "harden"
	}
	if !isToken(h.name) {
		return nil, fmt.Errorf("%w: Name %q is not a token", ErrInvalidConfig, h.name)
	}
	if err := h.setRequestFields(cfg); err != nil {
		return nil, err
	}
	if h.onlyIf == nil {
		h.onlyIf = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			problem.Error(w, http.StatusGatewayTimeout, "The response is not in the cache and the request allows only cached responses.")
		})
	}
	if h.log == nil {
		h.log = c.log
	}
	h.memo = newMemoTable()
	return h, nil
}

// setRequestFields checks and keeps Query, AnonymousCookies and CredentialHeaders.
func (h *HTTPCache) setRequestFields(cfg HTTPConfig) error {
	for _, q := range cfg.Query {
		if !plainQueryName(q) {
			return fmt.Errorf("%w: Query parameter %q must be non-empty, printable ASCII, without space or any of &=;%%+#", ErrInvalidConfig, q)
		}
	}
	h.query = slices.Compact(slices.Sorted(slices.Values(cfg.Query)))
	for _, c := range cfg.AnonymousCookies {
		if !isToken(c) {
			return fmt.Errorf("%w: AnonymousCookies name %q is not a token", ErrInvalidConfig, c)
		}
	}
	h.anonCookies = slices.Clone(cfg.AnonymousCookies)
	for _, f := range cfg.CredentialHeaders {
		if !isToken(f) {
			return fmt.Errorf("%w: CredentialHeaders name %q is not a token", ErrInvalidConfig, f)
		}
		h.credHeaders = append(h.credHeaders, textproto.CanonicalMIMEHeaderKey(f))
	}
	return nil
}

// plainQueryName reports whether a query parameter name reads the same raw and unescaped,
// and cannot split a query: printable ASCII without space, '&', '=', ';', '%', '+' or '#'.
func plainQueryName(name string) bool {
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c >= 0x7f || strings.IndexByte("&=;%+#", c) >= 0 {
			return false
		}
	}
	return name != ""
}

// Handler returns next behind the cache (and behind HTTPConfig.Inner when set).
func (h *HTTPCache) Handler(next http.Handler) http.Handler {
	// Routes may be wrapped before their cache is made (to list them); a nil cache still
	// fails on its first request.
	if h != nil && h.inner != nil {
		next = h.inner(next)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			h.get(w, r, next)
		case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
			// RFC 9111 §4.4: an unsafe request invalidates what is stored for its URI.
			next.ServeHTTP(w, r)
			if err := h.c.Delete(context.WithoutCancel(r.Context()), h.primaryKey(r)); err != nil {
				h.c.m.storeSet.Inc()
				h.log.WarnContext(r.Context(), "response cache invalidation failed", "err", err)
			}
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// get answers a GET or HEAD request: bypassed, from the store, or by the handler.
func (h *HTTPCache) get(w http.ResponseWriter, r *http.Request, next http.Handler) {
	show := h.status != nil && h.status(r)
	reqCC := requestDirectives(r.Header)
	if reason := h.bypass(r, &reqCC); reason != "" {
		h.mark(show, w.Header(), reason)
		next.ServeHTTP(w, r)
		return
	}
	if h.shared && h.credentialed(r) {
		r = h.withoutCredentials(r)
	}
	fwd, stale, served := h.fromStore(w, r, next, &reqCC, show)
	switch {
	case served:
	case reqCC.OnlyIfCached:
		h.mark(show, w.Header(), "detail=only-if-cached")
		h.onlyIf.ServeHTTP(w, r)
	case r.Method == http.MethodHead:
		// A HEAD response has no body to store for GET: forward it as it is.
		h.mark(show, w.Header(), "fwd="+fwd)
		next.ServeHTTP(w, r)
	default:
		h.forward(w, r, next, fwd, stale, show)
	}
}

// requestDirectives parses the request's Cache-Control, reading Pragma: no-cache when it
// has none.
func requestDirectives(hd http.Header) cachecontrol.Directives {
	// The field names are canonical: index the header without canonicalising again.
	values := hd["Cache-Control"]
	cc := cachecontrol.Parse(values)
	if len(values) == 0 && pragmaNoCache(hd["Pragma"]) {
		cc.NoCache = true
	}
	return cc
}

// bypass returns the Cache-Status parameters of a request the cache must not handle, or
// "" when it may.
func (h *HTTPCache) bypass(r *http.Request, cc *cachecontrol.Directives) string {
	switch {
	case cc.NoStore:
		return "fwd=bypass"
	case !h.queryDeclared(r.URL.RawQuery):
		return "fwd=bypass; detail=query"
	case !h.shared && h.credentialed(r):
		return "fwd=bypass; detail=credentials"
	}
	return ""
}

// fromStore answers r with a stored response when one may answer it. Otherwise it returns
// the Cache-Status forward reason, and the stale entry that may answer if the handler
// fails.
func (h *HTTPCache) fromStore(w http.ResponseWriter, r *http.Request, next http.Handler, cc *cachecontrol.Directives, show bool) (fwd string, stale *hit, served bool) {
	if cc.NoCache || cc.MaxAge == 0 || cc.Invalid {
		return "request", nil, false
	}
	found, reason := h.find(r, h.c.now().UnixNano())
	switch {
	case found.m == nil:
		return reason, nil, false
	case found.state == stFresh && acceptable(cc, &found):
		h.c.m.hits.inc(found.m.env.tier)
		h.serve(w, r, &found, show, "")
		return "", nil, true
	case found.state == stFresh:
		return "stale", nil, false // fresh for the cache, not for this request's max-age/min-fresh
	case !found.mayServeStale() || cc.MaxAge >= 0 || cc.MinFresh >= 0:
		return "stale", nil, false
	case found.state == stSWR:
		pre := w.Header().Clone() // what outer middleware set, for the background request
		h.c.m.stale.inc(found.m.env.tier)
		h.serve(w, r, &found, show, "")
		h.revalidate(r, next, pre)
		return "", nil, true
	}
	kept := found // a copy, so found itself stays on the stack
	return "stale", &kept, false
}

// hit is an entry found for a request (m is nil when none was).
type hit struct {
	m     *memoEntry
	state state
	now   int64 // Unix nanoseconds
}

func (f *hit) mayServeStale() bool { return f.m.resp.mayServeStale }

func (f *hit) age() time.Duration { return max(f.m.env.age(f.now), 0) }

// remaining is the freshness left (negative when stale).
func (f *hit) remaining() time.Duration { return subNanos(f.m.env.freshUntil, f.now) }

func acceptable(cc *cachecontrol.Directives, f *hit) bool {
	if cc.MaxAge >= 0 && f.age() > time.Duration(cc.MaxAge)*time.Second {
		return false
	}
	return cc.MinFresh < 0 || f.remaining() >= time.Duration(cc.MinFresh)*time.Second
}

func pragmaNoCache(values []string) bool {
	for _, v := range values {
		for d := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(d), "no-cache") {
				return true
			}
		}
	}
	return false
}

// find looks up the variant r selects of the resource it names; the second result is the
// Cache-Status forward reason on a miss. Both memo ids are built on the stack.
func (h *HTTPCache) find(r *http.Request, now int64) (hit, string) {
	ctx := r.Context()
	var room [512]byte
	id := appendRequestParts(append(room[:0], memoSpec), r)
	spec, st, _ := h.lookup(ctx, id, r, nil, now)
	if st == stMiss {
		return hit{}, "uri-miss"
	}
	id[0] = memoPlain
	if len(spec.names) > 0 {
		id[0] = memoVariant
		id = appendRequestVaryParts(id, spec.names, spec.fields, r.Header)
	}
	e, st, bad := h.lookup(ctx, id, r, spec.names, now)
	switch {
	case bad:
		return hit{}, "uri-miss"
	case st == stMiss:
		return hit{}, "vary-miss"
	}
	return hit{m: e, state: st, now: now}, ""
}

func splitNames(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// mark adds this cache's member to Cache-Status, in a slice of this response's own, when
// the response shows it.
func (h *HTTPCache) mark(show bool, hd http.Header, params string) {
	if !show {
		return
	}
	v := h.name
	if params != "" {
		v += "; " + params
	}
	hd["Cache-Status"] = append(slices.Clip(hd["Cache-Status"]), v)
}

// serve writes a stored response (or 304 when If-None-Match matches its ETag), with
// Cache-Status when show is true. The values it sets share one allocation; none of them
// aliases the stored entry or a slice set by outer middleware.
func (h *HTTPCache) serve(w http.ResponseWriter, r *http.Request, f *hit, show bool, extra string) {
	hd := w.Header()
	p := f.m.resp
	vals := make([]string, p.nvalues+3) // + Age, Cache-Status, Content-Length
	for _, fl := range p.fields {
		if fl.name == "Vary" && len(hd[fl.name]) > 0 {
			// Keep what outer middleware (a compressor) already announced.
			hd[fl.name] = append(slices.Clip(hd[fl.name]), fl.values...)
			continue
		}
		n := len(fl.values)
		copy(vals[:n], fl.values)
		hd[fl.name] = vals[:n:n]
		vals = vals[n:]
	}
	age, status := h.statusValues(f, extra)
	vals[0], vals[1], vals[2] = age, status, p.contentLength
	hd["Age"] = vals[0:1:1]
	if show {
		if prev := hd["Cache-Status"]; len(prev) > 0 {
			hd["Cache-Status"] = append(slices.Clip(prev), vals[1])
		} else {
			hd["Cache-Status"] = vals[1:2:2]
		}
	}
	h.write(w, r, p.status, p.body, vals[2:3:3])
}

// statusValues returns the Age value and this cache's Cache-Status member for a stored
// response served at f.now. Both change at most twice a second, so the last pair formatted
// without extra parameters is kept with the entry (strings are immutable: sharing them
// between responses is safe).
func (h *HTTPCache) statusValues(f *hit, extra string) (age, status string) {
	ageSec := int64(f.age() / time.Second)
	ttlSec := int64(f.remaining().Round(time.Second) / time.Second)
	if f.state != stFresh && ttlSec >= 0 {
		ttlSec = -1 // stale by less than half a second: the ttl still says stale
	}
	if extra == "" {
		if st := f.m.status.Load(); st != nil && st.age == ageSec && st.ttl == ttlSec {
			return st.value[:st.ageEnd], st.value[st.ageEnd:]
		}
	}
	var room [96]byte
	b := strconv.AppendInt(room[:0], ageSec, 10)
	ageEnd := len(b)
	b = append(b, h.name...)
	b = append(b, "; hit; ttl="...)
	b = strconv.AppendInt(b, ttlSec, 10)
	if extra != "" {
		b = append(b, "; "...)
		b = append(b, extra...)
	}
	s := string(b)
	if extra == "" {
		f.m.status.Store(&statusLine{age: ageSec, ttl: ttlSec, value: s, ageEnd: ageEnd})
	}
	return s[:ageEnd], s[ageEnd:]
}

// write sends status and body, or 304 when the request's If-None-Match matches the ETag
// of a 200 response; HEAD gets no body. contentLength holds the decimal length of body
// (nil: formatted here).
func (h *HTTPCache) write(w http.ResponseWriter, r *http.Request, status int, body []byte, contentLength []string) {
	hd := w.Header()
	if inm := r.Header["If-None-Match"]; len(inm) > 0 && status == http.StatusOK && etagMatches(inm, headerValue(hd, "Etag")) {
		for _, k := range []string{"Content-Length", "Content-Type", "Content-Encoding", "Content-Range", "Last-Modified"} {
			delete(hd, k)
		}
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if status != http.StatusNoContent && status != http.StatusNotModified {
		if contentLength == nil {
			contentLength = []string{strconv.Itoa(len(body))}
		}
		hd["Content-Length"] = contentLength
	}
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// headerValue is hd.Get for a key already in canonical form.
func headerValue(hd http.Header, key string) string {
	if v := hd[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// forward runs the handler, stores its response when allowed, and answers the client.
func (h *HTTPCache) forward(w http.ResponseWriter, r *http.Request, next http.Handler, fwd string, stale *hit, show bool) {
	// Fields set by outer middleware (request IDs, security headers) are theirs, not the
	// resource's: only what the handler adds is stored.
	pre := w.Header().Clone()
	routed := r.Pattern != ""
	rec := &recorder{w: w, max: h.maxBody}
	var refused string
	rec.decide = func(status int, hd http.Header) bool {
		if stale != nil && status >= 500 {
			return true // hold: the stale entry may answer instead
		}
		_, refused = h.storable(status, hd, pre, routed)
		return refused == ""
	}
	rec.onPass = func(hd http.Header) { h.mark(show, hd, missParams(fwd, refused)) }
	next.ServeHTTP(rec, withoutConditionals(r))
	if rec.passing {
		return
	}
	if !rec.wroteHeader {
		rec.status = http.StatusOK
	}
	hd := w.Header()
	if stale != nil && rec.status >= 500 {
		// Drop what the failing handler set and keep what outer middleware had set.
		clear(hd)
		maps.Copy(hd, pre)
		h.c.m.stale.inc(stale.m.env.tier)
		h.serve(w, r, stale, show, "fwd=stale; fwd-status="+strconv.Itoa(rec.status))
		return
	}
	h.c.m.misses.inc(h.tier)
	refused = h.store(r.Context(), r, rec.status, hd, pre, rec.buf.Bytes())
	h.mark(show, hd, missParams(fwd, refused))
	h.write(w, r, rec.status, rec.buf.Bytes(), nil)
}

// missParams returns the Cache-Status parameters of a miss: the forward reason, then
// "stored" or why the response was not.
func missParams(fwd, refused string) string {
	if refused == "" {
		return "fwd=" + fwd + "; stored"
	}
	return "fwd=" + fwd + "; detail=" + refused
}

// withoutConditionals returns r, or a shallow clone without If-None-Match and
// If-Modified-Since so the handler produces a full response the cache can store.
func withoutConditionals(r *http.Request) *http.Request {
	if r.Header.Get("If-None-Match") == "" && r.Header.Get("If-Modified-Since") == "" {
		return r
	}
	r2 := r.Clone(r.Context())
	r2.Header.Del("If-None-Match")
	r2.Header.Del("If-Modified-Since")
	return r2
}

// store saves a response under its variant key, or returns why it may not (see
// storable); it adds an ETag to hd when the handler set none, and Accept-Encoding to Vary
// when the body is encoded.
func (h *HTTPCache) store(ctx context.Context, r *http.Request, status int, hd, pre http.Header, body []byte) string {
	ttl, refused := h.storable(status, hd, pre, r.Pattern != "")
	if refused == "" && replaysNonce(hd, body) {
		refused = "csp-nonce"
	}
	if refused != "" {
		return refused
	}
	own := ownFields(pre, hd)
	names, _ := varyNames(own["Vary"])
	if own.Get("Content-Encoding") != "" && !slices.Contains(names, "Accept-Encoding") {
		hd["Vary"] = append(slices.Clip(hd["Vary"]), "Accept-Encoding")
		own["Vary"] = append(own["Vary"], "Accept-Encoding")
		names = append(names, "Accept-Encoding")
		slices.Sort(names)
	}
	if status == http.StatusOK && hd.Get("ETag") == "" {
		etag := bodyETag(body)
		hd.Set("ETag", etag)
		own.Set("ETag", etag)
	}
	primary := h.primaryKey(r)
	tv, err := h.c.tagVersions(ctx, h.tags, true)
	if err == nil {
		sr := storedResponse{status: status, header: storableHeader(own), body: body}
		err = h.c.writeTTL(ctx, variantKey(primary, names, r.Header), h.tier, ttl, sr.appendTo(nil), tv)
	}
	if err == nil {
		err = h.c.writeTTL(ctx, primary, h.tier, ttl, []byte(strings.Join(names, ",")), tv)
	}
	if err != nil {
		h.c.m.storeSet.Inc()
		h.log.WarnContext(ctx, "response cache write failed", "err", err)
		return "store-error"
	}
	return ""
}

// revalidate refreshes a stale entry in the background, once per variant at a time. pre
// holds the fields outer middleware had set on the response the stale entry answered, so
// the background response is judged as a live one would be.
func (h *HTTPCache) revalidate(r *http.Request, next http.Handler, pre http.Header) {
	c := h.c
	if c.closed.Load() {
		return
	}
	key := "revalidate:" + h.primaryKey(r) + r.Method + r.Header.Get("Accept-Encoding")
	if _, running := c.refreshes.LoadOrStore(key, struct{}{}); running {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), c.loadTO)
	r2 := r.Clone(ctx) // before the handler returns and the server lets go of r
	r2.Header.Del("If-None-Match")
	r2.Header.Del("If-Modified-Since")
	r2.Method = http.MethodGet
	r2.Body = http.NoBody
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer c.refreshes.Delete(key)
		defer cancel()
		bw := &bufferWriter{header: pre.Clone(), max: h.maxBody}
		defer func() {
			if v := recover(); v != nil {
				c.m.loadErrors.inc(h.tier)
				h.log.ErrorContext(ctx, "response cache revalidation panicked", "panic", v)
			}
		}()
		next.ServeHTTP(bw, r2)
		if bw.status == 0 {
			bw.status = http.StatusOK
		}
		if bw.over || bw.status >= 500 {
			c.m.loadErrors.inc(h.tier)
			return
		}
		h.store(ctx, r2, bw.status, bw.header, pre, bw.buf.Bytes())
	}()
}

// ownFields returns the fields of final the handler set: those absent from pre or changed
// since; for a field outer middleware had set and the handler extended (Vary), only the
// added values. The value slices are copies.
func ownFields(pre, final http.Header) http.Header {
	own := make(http.Header, len(final))
	for k, vals := range final {
		before, ok := pre[k]
		switch {
		case !ok:
			own[k] = slices.Clone(vals)
		case slices.Equal(before, vals):
		case len(vals) > len(before) && slices.Equal(before, vals[:len(before)]):
			own[k] = slices.Clone(vals[len(before):])
		default:
			own[k] = slices.Clone(vals)
		}
	}
	return own
}

// readFailed counts and logs a store read that failed.
func (h *HTTPCache) readFailed(ctx context.Context, err error) {
	h.c.m.storeGet.Inc()
	h.log.WarnContext(ctx, "response cache read failed", "err", err)
}
