package ratelimit

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nexus-reussite/harden/internal/clientip"
	"github.com/nexus-reussite/harden/internal/problem"
	"github.com/nexus-reussite/harden/ratelimit/store"
)

// Config configures a Limiter. The zero value limits each client IP to DefaultRule in
// process memory.
type Config struct {
	// Name identifies the limiter in metrics, logs, policy names and store keys:
	// 1 to 64 characters among letters, digits, '_', '.' and '-'. Default "default".
	Name string
	// Rule is enforced for every request; see ParseRule. Default DefaultRule
	// ("1000 per day;100 per hour;2 per second").
	Rule Rule
	// SlidingWindow counts with the sliding-window counter: the previous window weighs
	// by the share of it still inside the sliding period, so a client cannot spend two
	// quotas around a window edge. Default false: fixed windows, opened at a client's
	// first request, as go-limiter and Flask-Limiter's fixed-window strategy count.
	SlidingWindow bool
	// Store keeps the counters. Default: a memory store private to this limiter and
	// those derived from it with With, holding up to 262144 keys (idle keys are swept
	// every minute, and the store evicts keys when full), on the clock Now. A
	// redisstore.Store enforces limits across instances.
	Store store.Store
	// PerRoute counts each route apart, by r.Pattern (the pattern the ServeMux matched,
	// never the raw path); the limiter must then wrap handlers inside the mux, where
	// r.Pattern is set. Default false: every request the limiter guards counts
	// together, whatever the route, to cap a client across the application (around
	// the mux) or to give several routes one shared limit.
	PerRoute bool
	// Key names the client. Default (and fallback when Key returns ""): the client IP,
	// resolved with TrustedProxies, ClientIPHeader and IPv6PrefixLen as IPKey does.
	Key KeyFunc
	// TrustedProxies lists the CIDRs or addresses of reverse proxies whose ClientIPHeader
	// is believed. Default none: the TCP peer is the client.
	TrustedProxies []string
	// ClientIPHeader names the header family the trusted proxies set, the only one
	// believed: "X-Forwarded-For" (the default), "Forwarded" (RFC 7239), or a header
	// holding one address that the proxy overwrites, such as "X-Real-IP" or
	// "CF-Connecting-IP". Every other forwarding header is ignored, since a proxy
	// passes through untouched the headers it does not set itself.
	ClientIPHeader string
	// IPv6PrefixLen groups IPv6 clients by this many leading bits. Default 64.
	IPv6PrefixLen int
	// Cost returns how many units a request spends. Default 1 for every request; a
	// cost of 0 lets the request through uncounted.
	Cost func(r *http.Request) uint64
	// ExemptPaths are URL paths never limited, matched exactly (for example "/live",
	// "/ready", "/health", "/metrics"). Default none.
	ExemptPaths []string
	// ExemptCIDRs are client networks never limited, checked against the resolved
	// client IP. Default none.
	ExemptCIDRs []string
	// Exempt, when set, lets through every request it returns true for.
	Exempt func(r *http.Request) bool
	// Shadow counts and logs the requests that would be rejected but lets them through
	// without rate limit headers: a dry run. Default false.
	Shadow bool
	// FailClosed rejects requests with 503 while the store fails. Default false:
	// requests are let through (fail-open), and the failure is logged and counted.
	FailClosed bool
	// Headers selects the rate limit headers. Default HeadersDraft.
	Headers HeaderMode
	// DenyHandler writes the 429 response; the headers, Retry-After included, are
	// already set and DecisionFrom(r.Context()) gives the decision. Default: an
	// application/problem+json body.
	DenyHandler http.Handler
	// UnavailableHandler writes the response when FailClosed and the store fails.
	// Default: a 503 application/problem+json body with Retry-After: 1.
	UnavailableHandler http.Handler
	// Logger receives shadow rejections and store outages. Default: discard.
	Logger *slog.Logger
	// Registerer receives the limiter's metrics (harden_ratelimit_requests_total and
	// harden_ratelimit_store_errors_total). Limiters may share one registry. Default:
	// no metrics.
	Registerer prometheus.Registerer
	// Now is the clock of X-RateLimit-Reset and of the default memory store. Default
	// time.Now.
	Now func() time.Time
}

// Limiter is rate limiting middleware. It is safe for concurrent use.
type Limiter struct {
	*shared
	name     string
	rule     Rule
	perRoute bool
	windows  []draftWindow
	m        limiterMetrics
}

// shared is what a limiter and those derived from it with With have in common.
type shared struct {
	store        store.Store
	mem          *memoryStore // store, when it is one: taken without building a key string
	ownStore     bool         // mem was made by New on the limiter's clock
	strategy     store.Strategy
	ip           clientKey
	key          KeyFunc
	exemptPaths  map[string]struct{}
	exemptCIDRs  []netip.Prefix
	exempt       func(*http.Request) bool
	cost         func(*http.Request) uint64
	shadow       bool
	failClosed   bool
	headers      HeaderMode
	deny         http.Handler
	unavailable  http.Handler
	log          *slog.Logger
	now          func() time.Time
	vecs         *metricVecs
	storeFailing atomic.Bool
}

// New returns a Limiter, or an error wrapping ErrInvalidConfig or ErrInvalidRule.
func New(cfg Config) (*Limiter, error) {
	sh, err := newShared(cfg)
	if err != nil {
		return nil, err
	}
	name, rule := cfg.Name, cfg.Rule
	if name == "" {
		name = "default"
	}
	if rule == nil {
		rule = MustParseRule(DefaultRule)
	}
	return sh.limiter(name, rule, cfg.PerRoute)
}

// newShared checks cfg and applies its defaults, except for the name and rule.
func newShared(cfg Config) (*shared, error) {
	if cfg.Headers > HeadersNone {
		return nil, fmt.Errorf("%w: unknown header mode %d", ErrInvalidConfig, cfg.Headers)
	}
	ip, err := newClientKey(cfg)
	if err != nil {
		return nil, err
	}
	sh := &shared{
		store:       cfg.Store,
		ip:          ip,
		key:         cfg.Key,
		exempt:      cfg.Exempt,
		cost:        cfg.Cost,
		shadow:      cfg.Shadow,
		failClosed:  cfg.FailClosed,
		headers:     cfg.Headers,
		deny:        cfg.DenyHandler,
		unavailable: cfg.UnavailableHandler,
		log:         cfg.Logger,
		now:         cfg.Now,
	}
	sh.setDefaults(cfg.SlidingWindow)
	if err := sh.setExemptions(cfg.ExemptPaths, cfg.ExemptCIDRs); err != nil {
		return nil, err
	}
	if err := sh.setStore(); err != nil {
		return nil, err
	}
	if sh.vecs, err = newMetricVecs(cfg.Registerer); err != nil {
		return nil, fmt.Errorf("%w: Registerer: %w", ErrInvalidConfig, err)
	}
	return sh, nil
}

func (sh *shared) setDefaults(sliding bool) {
	if sliding {
		sh.strategy = store.SlidingWindow
	}
	if sh.deny == nil {
		sh.deny = http.HandlerFunc(defaultDeny)
	}
	if sh.unavailable == nil {
		sh.unavailable = http.HandlerFunc(defaultUnavailable)
	}
	if sh.log == nil {
		sh.log = slog.New(slog.DiscardHandler)
	}
	if sh.now == nil {
		sh.now = time.Now
	}
}

func (sh *shared) setExemptions(paths, cidrs []string) error {
	sh.exemptPaths = make(map[string]struct{}, len(paths))
	for _, p := range paths {
		sh.exemptPaths[p] = struct{}{}
	}
	for _, c := range cidrs {
		p, err := clientip.ParsePrefix(c)
		if err != nil {
			return fmt.Errorf("%w: ExemptCIDRs: %w", ErrInvalidConfig, err)
		}
		sh.exemptCIDRs = append(sh.exemptCIDRs, p)
	}
	return nil
}

// setStore makes the default memory store on the limiter's clock when no store is set,
// and notes a memory store, whose keys need no string.
func (sh *shared) setStore() error {
	if sh.store == nil {
		mem, err := newMemoryStore(memoryConfig{Now: sh.now})
		if err != nil {
			return err
		}
		sh.store, sh.ownStore = mem, true
	}
	sh.mem, _ = sh.store.(*memoryStore)
	return nil
}

func (sh *shared) limiter(name string, rule Rule, perRoute bool) (*Limiter, error) {
	if err := validName(name); err != nil {
		return nil, err
	}
	if err := rule.Validate(); err != nil {
		return nil, err
	}
	return &Limiter{
		shared:   sh,
		name:     name,
		rule:     append(Rule(nil), rule...),
		perRoute: perRoute,
		windows:  draftWindows(name, rule),
		m:        sh.vecs.forLimiter(name),
	}, nil
}

func validName(name string) error {
	if len(name) == 0 || len(name) > 64 {
		return fmt.Errorf("%w: name %q must have 1 to 64 characters", ErrInvalidConfig, name)
	}
	valid := func(c rune) bool {
		return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-'
	}
	if strings.IndexFunc(name, func(c rune) bool { return !valid(c) }) >= 0 {
		return fmt.Errorf("%w: name %q may only hold letters, digits, '_', '.' and '-'", ErrInvalidConfig, name)
	}
	return nil
}

// With returns a limiter enforcing rule per route (as Config.PerRoute) under name,
// sharing l's store, strategy, keys, exemptions, failure policy, headers, handlers,
// logger and metrics. Wrap a route with it inside the mux, on top of l around the mux,
// to give the route a tighter limit in addition to the default one (see the example).
func (l *Limiter) With(name string, rule Rule) (*Limiter, error) {
	return l.limiter(name, rule, true)
}

// Name returns the limiter's name.
func (l *Limiter) Name() string { return l.name }

// Rule returns a copy of the rule the limiter enforces.
func (l *Limiter) Rule() Rule { return append(Rule(nil), l.rule...) }

// Handler returns middleware enforcing the limiter on next.
func (l *Limiter) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.serve(w, r, next)
	})
}

func (l *Limiter) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	var ip netip.Addr
	cost := l.units(r, &ip)
	if cost == 0 {
		l.m.exempt.Inc()
		next.ServeHTTP(w, r)
		return
	}
	var buf [keyBufSize]byte
	key := l.appendKey(buf[:0], r, ip)
	var d store.Decision
	decidedAt, err := l.take(r.Context(), &d, key, cost)
	if err != nil {
		if r.Context().Err() != nil {
			return // the client left; the store is not to blame
		}
		l.storeFailed(w, r, next, err)
		return
	}
	if l.storeFailing.Load() && l.storeFailing.CompareAndSwap(true, false) {
		l.log.Info("rate limit store recovered", "limiter", l.name)
	}
	if !d.Allowed {
		l.rejected(w, r, next, key, d, decidedAt)
		return
	}
	l.m.admitted.Inc()
	if !l.shadow {
		l.writeHeaders(w.Header(), &d, decidedAt)
	}
	next.ServeHTTP(w, r)
}

// take asks the store about key, into *d; a memory store takes it without a string and
// says when it decided (Unix nanoseconds), other stores leave that 0.
func (l *Limiter) take(ctx context.Context, d *store.Decision, key []byte, cost uint64) (int64, error) {
	if l.mem != nil {
		return l.mem.takeBytes(d, key, l.rule, l.strategy, cost)
	}
	var err error
	*d, err = l.store.Take(ctx, string(key), l.rule, l.strategy, cost)
	return 0, err
}

// rejected handles a request the store did not admit. It takes the decision by value so
// that only rejected requests put one on the heap.
func (l *Limiter) rejected(w http.ResponseWriter, r *http.Request, next http.Handler, key []byte, d store.Decision, decidedAt int64) {
	if l.shadow {
		l.m.shadow.Inc()
		l.log.Info("rate limit exceeded (shadow mode, request let through)",
			"limiter", l.name, "key", string(key), "route", r.Pattern, "retry_after", d.RetryAfter())
		next.ServeHTTP(w, r)
		return
	}
	l.m.limited.Inc()
	h := w.Header()
	l.writeHeaders(h, &d, decidedAt)
	h.Set(headerRetryAfter, strconv.FormatInt(max(1, ceilSeconds(d.RetryAfter())), 10))
	l.deny.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), decisionKey{}, &d)))
}

func (l *Limiter) storeFailed(w http.ResponseWriter, r *http.Request, next http.Handler, err error) {
	l.m.storeErrors.Inc()
	if l.storeFailing.CompareAndSwap(false, true) {
		policy := "failing open: requests are let through"
		if l.failClosed {
			policy = "failing closed: requests get 503"
		}
		l.log.Error("rate limit store failed, "+policy, "limiter", l.name, "error", err)
	}
	if l.failClosed {
		l.m.failedClosed.Inc()
		l.unavailable.ServeHTTP(w, r)
		return
	}
	l.m.failedOpen.Inc()
	next.ServeHTTP(w, r)
}

// units returns the units r spends: 0 for an exempt request, else its Cost. It
// resolves the client IP into *ip when an exemption needs it.
func (l *Limiter) units(r *http.Request, ip *netip.Addr) uint64 {
	if l.isExempt(r, ip) {
		return 0
	}
	if l.cost == nil {
		return 1
	}
	return l.cost(r)
}

// isExempt checks the exemptions; it resolves the client IP into *ip when it needs it.
func (l *Limiter) isExempt(r *http.Request, ip *netip.Addr) bool {
	if _, ok := l.exemptPaths[r.URL.Path]; ok {
		return true
	}
	if l.exempt != nil && l.exempt(r) {
		return true
	}
	if len(l.exemptCIDRs) > 0 {
		*ip = l.ip.resolver.ClientIP(r)
		for _, p := range l.exemptCIDRs {
			if p.Contains(*ip) {
				return true
			}
		}
	}
	return false
}

// keyBufSize is the stack buffer a store key is built in; longer keys spill to the heap.
const keyBufSize = 192

// appendKey appends the store key of r to b: the limiter name, the route when counted
// per route, and the client. ip is the client IP when isExempt resolved it.
func (l *Limiter) appendKey(b []byte, r *http.Request, ip netip.Addr) []byte {
	var client string
	if l.key != nil {
		client = l.key(r)
	}
	b = append(b, l.name...)
	b = append(b, ':')
	if l.perRoute {
		b = append(b, r.Pattern...)
		b = append(b, ':')
	}
	if client != "" {
		return append(b, client...)
	}
	if !ip.IsValid() {
		ip = l.ip.resolver.ClientIP(r)
	}
	return l.ip.append(b, ip)
}

func defaultDeny(w http.ResponseWriter, r *http.Request) {
	p := problem.Problem{Status: http.StatusTooManyRequests, Detail: "Rate limit exceeded; retry later."}
	if d, ok := DecisionFrom(r.Context()); ok {
		p.Detail = "Rate limit of " + d.Tightest().Limit.String() + " exceeded; retry later."
		p.Extensions = map[string]any{"retry_after": max(1, ceilSeconds(d.RetryAfter()))}
	}
	problem.Write(w, p)
}

func defaultUnavailable(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set(headerRetryAfter, "1")
	problem.Error(w, http.StatusServiceUnavailable, "Rate limiting is temporarily unavailable; retry later.")
}
