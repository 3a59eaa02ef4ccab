package cache

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nexus-reussite/harden/internal/problem"
)

// HTTPConfig configures an [HTTPCache].
type HTTPConfig struct {
	// Tier gives the TTL of responses that carry neither s-maxage nor max-age; default
	// Short. The cache's jitter applies to it; origin-given lifetimes are kept exactly.
	Tier Tier
	// Tags are attached to every stored response, so [Cache.InvalidateTags] drops them all
	// (for example "formulas" after an admin update); default none.
	Tags []string
	// MaxBodyBytes is the largest body stored; larger responses stream through uncached.
	// Default 1 MiB.
	MaxBodyBytes int64
	// AllowAuthorized lets requests carrying Authorization use the cache. Even then a
	// response is stored only when it says public, s-maxage or must-revalidate
	// (RFC 9111 §3.5). Default false: such requests bypass the cache.
	AllowAuthorized bool
	// Name identifies this cache in Cache-Status (RFC 9211); default "harden". It must
	// be a token.
	Name string
	// OnlyIfCachedHandler answers a request with Cache-Control: only-if-cached that
	// finds nothing; default a 504 problem+json.
	OnlyIfCachedHandler http.Handler
	// Logger receives store errors and panics of background revalidation; default the
	// Cache's logger.
	Logger *slog.Logger
}

// DefaultMaxBodyBytes is the default HTTPConfig.MaxBodyBytes.
const DefaultMaxBodyBytes = 1 << 20

// HTTPCache is a response cache middleware for GET and HEAD (a shared cache in the sense of
// RFC 9111, subset):
//
//   - Request Cache-Control: no-store bypasses; no-cache (or Pragma: no-cache) and max-age=0
//     go to the handler and store the result; max-age and min-fresh bound what is served;
//     only-if-cached answers 504 on a miss.
//   - Response: stored only for a cacheable status (200, 203, 204, 300, 301, 308, 404, 405,
//     410, 414, 501) without no-store, no-cache, private, Set-Cookie or Vary: *. Lifetime
//     is s-maxage, else max-age, else the tier's TTL.
//   - Vary is honoured, and Accept-Encoding is normalised to the set of accepted codings,
//     so responses compressed by a middleware inside the cache are stored per encoding; a
//     compressing middleware outside it compresses what the cache serves.
//   - Every stored response has an ETag (the handler's, or one derived from the body);
//     If-None-Match is answered with 304 Not Modified.
//   - Stale entries: within StaleWhileRevalidate served at once while one background
//     request refreshes them; within StaleIfError served when the handler answers 5xx.
//     Responses with must-revalidate, proxy-revalidate or s-maxage are never served stale.
//   - Headers: Cache-Status (RFC 9211), X-Cache (HIT, STALE, MISS or BYPASS) and Age.
//   - HEAD is answered from the GET entry; a HEAD miss goes to the handler unstored.
//   - POST, PUT, PATCH and DELETE through the middleware invalidate the stored responses
//     of their URI once the handler returns (RFC 9111 §4.4). Other URIs are invalidated
//     with tags.
//
// Requests with Authorization bypass the cache unless AllowAuthorized.
//
// A hit reads the store for the resource, its variant and each tag, as every request does,
// but decodes a stored entry only once for each form of the requests selecting it: the
// decoded form (at most 4096 entries and 8 MiB of stored bytes) is found by the request's
// host, path, query and Vary fields as sent, without normalising them, and reused while the
// store returns the same bytes under its key. Requests differing only in what the keys
// normalise (the host's case, the order of Accept-Encoding) share the stored entry, each
// form decoding it once.
type HTTPCache struct {
	c         *Cache
	tier      Tier
	tags      []string
	maxBody   int64
	allowAuth bool
	name      string
	onlyIf    http.Handler
	log       *slog.Logger
	memo      *memoTable
}

// NewHTTP returns a response cache storing into c.
func NewHTTP(c *Cache, cfg HTTPConfig) (*HTTPCache, error) {
	if c == nil {
		return nil, fmt.Errorf("%w: nil Cache", ErrInvalidConfig)
	}
	h := &HTTPCache{c: c, tier: cfg.Tier, tags: slices.Clone(cfg.Tags), maxBody: cfg.MaxBodyBytes,
		allowAuth: cfg.AllowAuthorized, name: cfg.Name, onlyIf: cfg.OnlyIfCachedHandler, log: cfg.Logger}
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

// Handler returns next behind the cache.
func (h *HTTPCache) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead:
		case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
			// RFC 9111 §4.4: an unsafe request invalidates what is stored for its URI.
			next.ServeHTTP(w, r)
			if err := h.c.Delete(context.WithoutCancel(r.Context()), primaryKey(r)); err != nil {
				h.c.m.storeSet.Inc()
				h.log.WarnContext(r.Context(), "response cache invalidation failed", "err", err)
			}
			return
		default:
			next.ServeHTTP(w, r)
			return
		}
		// The field names are canonical: index the header without canonicalising again.
		ccValues := r.Header["Cache-Control"]
		reqCC := ParseCacheControl(ccValues)
		if len(ccValues) == 0 && pragmaNoCache(r.Header["Pragma"]) {
			reqCC.NoCache = true
		}
		authorized := headerValue(r.Header, "Authorization") != ""
		if reqCC.NoStore || (authorized && !h.allowAuth) {
			h.mark(w.Header(), "BYPASS", "fwd=bypass")
			next.ServeHTTP(w, r)
			return
		}
		fwd := "request"
		var stale *hit
		if !reqCC.NoCache && reqCC.MaxAge != 0 && !reqCC.Invalid {
			found, reason := h.find(r, h.c.now().UnixNano())
			fwd = reason
			switch {
			case found.m == nil:
			case found.state == stFresh && acceptable(reqCC, &found):
				h.c.m.hits.inc(found.m.env.tier)
				h.serve(w, r, &found, "HIT", "")
				return
			case found.state == stFresh:
				fwd = "stale" // fresh for the cache, not for this request's max-age/min-fresh
			case found.state == stSWR && found.mayServeStale() && reqCC.MaxAge < 0 && reqCC.MinFresh < 0:
				h.c.m.stale.inc(found.m.env.tier)
				h.serve(w, r, &found, "STALE", "")
				h.revalidate(r, next, primaryKey(r))
				return
			default:
				fwd = "stale"
				if found.mayServeStale() && reqCC.MaxAge < 0 && reqCC.MinFresh < 0 {
					kept := found
					stale = &kept
				}
			}
		}
		if reqCC.OnlyIfCached {
			h.mark(w.Header(), "MISS", "detail=only-if-cached")
			h.onlyIf.ServeHTTP(w, r)
			return
		}
		if r.Method == http.MethodHead {
			// A HEAD response has no body to store for GET: forward it as it is.
			h.mark(w.Header(), "MISS", "fwd="+fwd)
			next.ServeHTTP(w, r)
			return
		}
		h.forward(w, r, next, primaryKey(r), fwd, stale, authorized)
	})
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

func acceptable(cc CacheControl, f *hit) bool {
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
	var room [keyScratch]byte
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

// mark sets X-Cache and appends this cache's member to Cache-Status.
func (h *HTTPCache) mark(hd http.Header, xcache, params string) {
	hd.Set("X-Cache", xcache)
	v := h.name
	if params != "" {
		v += "; " + params
	}
	hd.Add("Cache-Status", v)
}

// serve writes a stored response (or 304 when If-None-Match matches its ETag). The values
// it sets share one allocation; none of them aliases the stored entry.
func (h *HTTPCache) serve(w http.ResponseWriter, r *http.Request, f *hit, xcache, extra string) {
	hd := w.Header()
	p := f.m.resp
	vals := make([]string, p.nvalues+4) // + Age, X-Cache, Cache-Status, Content-Length
	for _, fl := range p.fields {
		if fl.name == "Vary" && len(hd[fl.name]) > 0 {
			// Keep what outer middleware (a compressor) already announced.
			hd[fl.name] = append(hd[fl.name], fl.values...)
			continue
		}
		n := len(fl.values)
		copy(vals[:n], fl.values)
		hd[fl.name] = vals[:n:n]
		vals = vals[n:]
	}
	age, status := h.statusValues(f, extra)
	vals[0], vals[1], vals[2], vals[3] = age, xcache, status, p.contentLength
	hd["Age"] = vals[0:1:1]
	hd["X-Cache"] = vals[1:2:2]
	if prev := hd["Cache-Status"]; len(prev) > 0 {
		hd["Cache-Status"] = append(prev, vals[2])
	} else {
		hd["Cache-Status"] = vals[2:3:3]
	}
	h.write(w, r, p.status, p.body, vals[3:4:4])
}

// statusValues returns the Age value and this cache's Cache-Status member for a stored
// response served at f.now. Both change at most twice a second, so the last pair formatted
// without extra parameters is kept with the entry (strings are immutable: sharing them
// between responses is safe).
func (h *HTTPCache) statusValues(f *hit, extra string) (age, status string) {
	ageSec := int64(f.age() / time.Second)
	ttlSec := int64(f.remaining().Round(time.Second) / time.Second)
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
func (h *HTTPCache) forward(w http.ResponseWriter, r *http.Request, next http.Handler, primary, fwd string, stale *hit, authorized bool) {
	r2 := withoutConditionals(r)
	// Fields set by outer middleware (request IDs, security headers) are theirs, not the
	// resource's: only what the handler adds is stored.
	pre := w.Header().Clone()
	rec := &recorder{w: w, max: h.maxBody}
	rec.decide = func(status int, hd http.Header) bool {
		if stale != nil && status >= 500 {
			return true // hold: the stale entry may answer instead
		}
		_, ok := h.storable(status, hd, authorized)
		return ok
	}
	rec.onPass = func(hd http.Header) { h.mark(hd, "MISS", "fwd="+fwd) }
	next.ServeHTTP(rec, r2)
	if rec.passing {
		return
	}
	if !rec.wroteHeader {
		rec.status = http.StatusOK
	}
	hd := w.Header()
	if stale != nil && rec.status >= 500 {
		for k := range hd {
			delete(hd, k)
		}
		h.c.m.stale.inc(stale.m.env.tier)
		h.serve(w, r, stale, "STALE", "fwd=stale; fwd-status="+strconv.Itoa(rec.status))
		return
	}
	h.c.m.misses.inc(h.tier)
	stored := h.store(r.Context(), primary, r.Header, rec.status, hd, pre, rec.buf.Bytes(), authorized)
	params := "fwd=" + fwd
	if stored {
		params += "; stored"
	}
	h.mark(hd, "MISS", params)
	h.write(w, r, rec.status, rec.buf.Bytes(), nil)
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

// storable decides whether a response may be stored and for how long.
func (h *HTTPCache) storable(status int, hd http.Header, authorized bool) (time.Duration, bool) {
	switch status {
	case 200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501:
	default:
		return 0, false
	}
	if len(hd.Values("Set-Cookie")) > 0 {
		return 0, false
	}
	cc := ParseCacheControl(hd.Values("Cache-Control"))
	if cc.NoStore || cc.NoCache || cc.Private || cc.Invalid {
		return 0, false
	}
	if authorized && !cc.Public && cc.SMaxAge < 0 && !cc.MustRevalidate {
		return 0, false
	}
	if _, star := varyNames(hd.Values("Vary")); star {
		return 0, false
	}
	switch {
	case cc.SMaxAge >= 0:
		return time.Duration(cc.SMaxAge) * time.Second, cc.SMaxAge > 0
	case cc.MaxAge >= 0:
		return time.Duration(cc.MaxAge) * time.Second, cc.MaxAge > 0
	}
	return h.c.jittered(h.c.tiers.TTL(h.tier)), true
}

// store saves a response under its variant key; it adds an ETag to hd when the handler
// set none, and Accept-Encoding to Vary when the body is encoded.
func (h *HTTPCache) store(ctx context.Context, primary string, reqHeader http.Header, status int, hd, pre http.Header, body []byte, authorized bool) bool {
	ttl, ok := h.storable(status, hd, authorized)
	if !ok {
		return false
	}
	own := ownFields(pre, hd)
	names, _ := varyNames(own.Values("Vary"))
	if own.Get("Content-Encoding") != "" && !slices.Contains(names, "Accept-Encoding") {
		hd.Add("Vary", "Accept-Encoding")
		own.Add("Vary", "Accept-Encoding")
		names = append(names, "Accept-Encoding")
		slices.Sort(names)
	}
	if status == http.StatusOK && hd.Get("ETag") == "" {
		etag := bodyETag(body)
		hd.Set("ETag", etag)
		own.Set("ETag", etag)
	}
	tv, err := h.c.tagVersions(ctx, h.tags, true)
	if err == nil {
		sr := storedResponse{status: status, header: storableHeader(own), body: body}
		err = h.c.writeTTL(ctx, variantKey(primary, names, reqHeader), h.tier, ttl, sr.appendTo(nil), tv)
	}
	if err == nil {
		err = h.c.writeTTL(ctx, primary, h.tier, ttl, []byte(strings.Join(names, ",")), tv)
	}
	if err != nil {
		h.c.m.storeSet.Inc()
		h.log.WarnContext(ctx, "response cache write failed", "err", err)
		return false
	}
	return true
}

// revalidate refreshes a stale entry in the background, once per variant at a time.
func (h *HTTPCache) revalidate(r *http.Request, next http.Handler, primary string) {
	c := h.c
	if c.closed.Load() {
		return
	}
	key := "revalidate:" + primary + r.Method + r.Header.Get("Accept-Encoding")
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
		bw := &bufferWriter{header: http.Header{}, max: h.maxBody}
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
		h.store(ctx, primary, r2.Header, bw.status, bw.header, nil, bw.buf.Bytes(), r2.Header.Get("Authorization") != "")
	}()
}

// ownFields returns the fields of final the handler set: those absent from pre or changed
// since; for a field outer middleware had set and the handler extended (Vary), only the
// added values.
func ownFields(pre, final http.Header) http.Header {
	own := make(http.Header, len(final))
	for k, vals := range final {
		before, ok := pre[k]
		switch {
		case !ok:
			own[k] = vals
		case slices.Equal(before, vals):
		case len(vals) > len(before) && slices.Equal(before, vals[:len(before)]):
			own[k] = vals[len(before):]
		default:
			own[k] = vals
		}
	}
	return own
}
