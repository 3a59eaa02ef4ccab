package ratelimit

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nexus-reussite/harden/internal/clientip"
	"github.com/nexus-reussite/harden/internal/problem"
)

// Scope selects which requests share a counter, besides the client key.
type Scope uint8

const (
	// ScopeGlobal counts every request the limiter guards together, whatever the route
	// (the default): wrap the whole mux to cap a client across the application, or
	// wrap several routes to give them one shared limit.
	ScopeGlobal Scope = iota
	// ScopeRoute counts each route apart, by r.Pattern (the pattern the ServeMux
	// matched, never the raw path). The limiter must then wrap handlers inside the mux,
	// where r.Pattern is set.
	ScopeRoute
	// ScopeRouteMethod counts each route and method apart: for patterns without a
	// method, GET and POST have their own counters. Methods outside the standard set
	// share one counter.
	ScopeRouteMethod
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
	// Strategy is FixedWindow (the default) or SlidingWindow.
	Strategy Strategy
	// Store keeps the counters. Default: a MemoryStore with the default MemoryConfig,
	// private to this limiter. Share a redisstore.Store to enforce limits across
	// instances.
	Store Store
	// Scope selects which requests share a counter. Default ScopeGlobal.
	Scope Scope
	// Key names the client. Default (and fallback when Key returns ""): the client IP,
	// see TrustedProxies and IPv6PrefixLen.
	Key KeyFunc
	// TrustedProxies lists the CIDRs or addresses of reverse proxies whose ClientIPHeader
	// is believed. Default none: the TCP peer is the client.
	TrustedProxies []string
	// ClientIPHeader names the header family the trusted proxies set, the only one
	// believed: "X-Forwarded-For" (the default, with X-Forwarded-Proto), "Forwarded"
	// (RFC 7239), or a header holding one address that the proxy overwrites, such as
	// "X-Real-IP" or "CF-Connecting-IP". Every other forwarding header is ignored.
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
	// Headers selects the rate limit headers. Default HeadersAll.
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
	// Now is the clock for X-RateLimit-Reset. Default time.Now.
	Now func() time.Time
}

// Limiter is rate limiting middleware. It is safe for concurrent use.
type Limiter struct {
	*shared
	name        string
	rule        Rule
	strategy    Strategy
	scope       Scope
	policy      string
	policyNames []string
	m           limiterMetrics
}

// shared is what a limiter and those derived from it with With have in common.
type shared struct {
	store        Store
	mem          *MemoryStore // store, when it is one: taken without building a key string
	memClock     bool         // mem reads the limiter's clock, so its decision instant can be reused
	key          KeyFunc
	resolver     *clientip.Resolver
	v6bits       int
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
	if cfg.Name == "" {
		cfg.Name = "default"
	}
	if cfg.Rule == nil {
		cfg.Rule = MustParseRule(DefaultRule)
	}
	if !cfg.Strategy.valid() {
		return nil, fmt.Errorf("%w: unknown strategy %d", ErrInvalidConfig, cfg.Strategy)
	}
	if cfg.Scope > ScopeRouteMethod {
		return nil, fmt.Errorf("%w: unknown scope %d", ErrInvalidConfig, cfg.Scope)
	}
	if cfg.Headers > HeadersNone {
		return nil, fmt.Errorf("%w: unknown header mode %d", ErrInvalidConfig, cfg.Headers)
	}
	if cfg.IPv6PrefixLen == 0 {
		cfg.IPv6PrefixLen = 64
	}
	if cfg.IPv6PrefixLen < 1 || cfg.IPv6PrefixLen > 128 {
		return nil, fmt.Errorf("%w: IPv6PrefixLen %d out of range 1..128", ErrInvalidConfig, cfg.IPv6PrefixLen)
	}
	res, err := clientip.New(clientip.Config{TrustedProxies: cfg.TrustedProxies, Header: cfg.ClientIPHeader})
	if err != nil {
		return nil, fmt.Errorf("%w: TrustedProxies, ClientIPHeader: %w", ErrInvalidConfig, err)
	}
	sh := &shared{
		store:       cfg.Store,
		key:         cfg.Key,
		resolver:    res,
		v6bits:      cfg.IPv6PrefixLen,
		exemptPaths: make(map[string]struct{}, len(cfg.ExemptPaths)),
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
	for _, p := range cfg.ExemptPaths {
		sh.exemptPaths[p] = struct{}{}
	}
	for _, c := range cfg.ExemptCIDRs {
		p, err := clientip.ParsePrefix(c)
		if err != nil {
			return nil, fmt.Errorf("%w: ExemptCIDRs: %w", ErrInvalidConfig, err)
		}
		sh.exemptCIDRs = append(sh.exemptCIDRs, p)
	}
	if sh.store == nil {
		if sh.store, err = NewMemoryStore(MemoryConfig{}); err != nil {
			return nil, err
		}
	}
	sh.mem, _ = sh.store.(*MemoryStore)
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
	sh.memClock = sh.mem != nil && sameFunc(sh.now, sh.mem.now)
	if sh.vecs, err = newMetricVecs(cfg.Registerer); err != nil {
		return nil, fmt.Errorf("%w: Registerer: %w", ErrInvalidConfig, err)
	}
	return sh.limiter(cfg.Name, cfg.Rule, cfg.Strategy, cfg.Scope)
}

func (sh *shared) limiter(name string, rule Rule, strategy Strategy, scope Scope) (*Limiter, error) {
	if err := validName(name); err != nil {
		return nil, err
	}
	if err := rule.Validate(); err != nil {
		return nil, err
	}
	names := policyNames(name, rule)
	return &Limiter{
		shared:      sh,
		name:        name,
		rule:        append(Rule(nil), rule...),
		strategy:    strategy,
		scope:       scope,
		policy:      policyHeader(names, rule),
		policyNames: names,
		m:           sh.vecs.forLimiter(name),
	}, nil
}

func validName(name string) error {
	if len(name) == 0 || len(name) > 64 {
		return fmt.Errorf("%w: name %q must have 1 to 64 characters", ErrInvalidConfig, name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return fmt.Errorf("%w: name %q may only hold letters, digits, '_', '.' and '-'", ErrInvalidConfig, name)
		}
	}
	return nil
}

// With returns a limiter enforcing rule per route (ScopeRoute) under name, sharing l's
// store, strategy, keys, exemptions, failure policy, headers, handlers, logger and
// metrics. Wrap a route with it inside the mux, on top of l around the mux, to give
// the route a tighter limit in addition to the default one:
//
//	login, _ := lim.With("login", ratelimit.MustParseRule("5 per minute"))
//	mux.Handle("POST /api/auth/login", login.Handler(loginHandler))
func (l *Limiter) With(name string, rule Rule) (*Limiter, error) {
	return l.limiter(name, rule, l.strategy, ScopeRoute)
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
	if l.isExempt(r, &ip) {
		l.m.exempt.Inc()
		next.ServeHTTP(w, r)
		return
	}
	cost := uint64(1)
	if l.cost != nil {
		if cost = l.cost(r); cost == 0 {
			l.m.exempt.Inc()
			next.ServeHTTP(w, r)
			return
		}
	}
	var buf [keyBufSize]byte
	key := l.appendKey(buf[:0], r, ip)
	var d Decision
	var err error
	if l.mem != nil {
		d, err = l.mem.takeBytes(key, l.rule, l.strategy, cost)
	} else {
		d, err = l.store.Take(r.Context(), string(key), l.rule, l.strategy, cost)
	}
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
		l.rejected(w, r, next, key, d)
		return
	}
	l.m.admitted.Inc()
	if !l.shadow {
		l.writeHeaders(w.Header(), &d)
	}
	next.ServeHTTP(w, r)
}

// rejected handles a request the store did not admit. It takes the decision by value so
// that only rejected requests put one on the heap.
func (l *Limiter) rejected(w http.ResponseWriter, r *http.Request, next http.Handler, key []byte, d Decision) {
	if l.shadow {
		l.m.shadow.Inc()
		l.log.Info("rate limit exceeded (shadow mode, request let through)",
			"limiter", l.name, "key", string(key), "route", r.Pattern, "retry_after", d.RetryAfter())
		next.ServeHTTP(w, r)
		return
	}
	l.m.limited.Inc()
	h := w.Header()
	l.writeHeaders(h, &d)
	h.Set(HeaderRetryAfter, strconv.FormatInt(max(1, ceilSeconds(d.RetryAfter())), 10))
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

// isExempt checks the exemptions; it resolves the client IP into *ip when it needs it.
func (l *Limiter) isExempt(r *http.Request, ip *netip.Addr) bool {
	if _, ok := l.exemptPaths[r.URL.Path]; ok {
		return true
	}
	if l.exempt != nil && l.exempt(r) {
		return true
	}
	if len(l.exemptCIDRs) > 0 {
		*ip = l.resolver.ClientIP(r)
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

// appendKey appends the store key of r to b: the limiter name, the route (and method)
// for the route scopes, and the client. ip is the client IP when isExempt resolved it.
func (l *Limiter) appendKey(b []byte, r *http.Request, ip netip.Addr) []byte {
	var client string
	if l.key != nil {
		client = l.key(r)
	}
	b = append(b, l.name...)
	b = append(b, ':')
	switch l.scope {
	case ScopeRoute:
		b = append(b, r.Pattern...)
		b = append(b, ':')
	case ScopeRouteMethod:
		b = append(b, method(r.Method)...)
		b = append(b, ' ')
		b = append(b, r.Pattern...)
		b = append(b, ':')
	}
	if client != "" {
		return append(b, client...)
	}
	if !ip.IsValid() {
		ip = l.resolver.ClientIP(r)
	}
	return appendIPKey(b, ip, l.v6bits)
}

// method bounds the method part of keys to the standard methods.
func method(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "OTHER"
}

func defaultDeny(w http.ResponseWriter, r *http.Request) {
	p := problem.Problem{Status: http.StatusTooManyRequests, Detail: "Rate limit exceeded; retry later."}
	if d, ok := DecisionFrom(r.Context()); ok {
		t := d.Tightest()
		var buf [128]byte
		b := append(buf[:0], "Rate limit of "...)
		b = t.Limit.appendText(b)
		p.Detail = string(append(b, " exceeded; retry later."...))
		p.Extensions = map[string]any{"retry_after": max(1, ceilSeconds(d.RetryAfter()))}
	}
	problem.Write(w, p)
}

func defaultUnavailable(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set(HeaderRetryAfter, "1")
	problem.Error(w, http.StatusServiceUnavailable, "Rate limiting is temporarily unavailable; retry later.")
}
