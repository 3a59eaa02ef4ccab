package security

import (
	"fmt"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"sync/atomic"

	"github.com/nexus-reussite/harden/internal/clientip"
	"github.com/nexus-reussite/harden/internal/problem"
)

// Security is the middleware built from a Config. It is safe for concurrent use; apart
// from noting that a WithCSP handler exists, it is immutable after New.
type Security struct {
	dev            bool
	hosts          *hostList
	proxies        *clientip.Resolver
	exactExempt    map[string]bool
	prefixExempt   []string
	redirectStatus int
	httpsPort      int
	headers        *staticHeaders
	policy         *policy
	apiPolicy      *policy // APICSP for responses that are not documents, with the default policy
	cspHeader      string
	reportURI      string
	reportingHdr   string
	cookies        *cookieHardener
	cors           *corsPolicy
	csrf           *http.CrossOriginProtection
	maxBody        int64
	onReject       func(http.ResponseWriter, *http.Request, *RejectError)
	log            *slog.Logger
	metrics        *metrics
	// withCSP is set once a WithCSP handler exists: from then on every request carries
	// its state in its context, where that handler finds it.
	withCSP atomic.Bool
}

// New validates cfg and builds the middleware. Every configuration error wraps
// ErrInvalidConfig.
func New(cfg Config) (*Security, error) {
	if cfg.Profile == "" {
		cfg.Profile = Production
	}
	if cfg.Profile != Production && cfg.Profile != Development {
		return nil, fmt.Errorf("%w: unknown profile %q (want %q or %q)", ErrInvalidConfig, cfg.Profile, Production, Development)
	}
	s := &Security{dev: cfg.Profile == Development, onReject: cfg.OnReject, log: cfg.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	for _, step := range []func(*Config) error{
		s.setupHosts,
		s.setupExemptPaths,
		s.setupRedirect,
		s.setupHeaders,
		s.setupRequestChecks,
		s.setupMetrics,
	} {
		if err := step(&cfg); err != nil {
			return nil, err
		}
	}
	if !s.dev && !s.hosts.redirects() {
		s.log.Warn("security: AllowedHosts is empty, so plain HTTP requests get 400 instead of a redirect to HTTPS; " +
			`list the served hosts, or set ["*"] to redirect to whatever host a request names`)
	}
	return s, nil
}

// setupHosts reads AllowedHosts and the proxy settings that decide a request's host and
// scheme.
func (s *Security) setupHosts(cfg *Config) error {
	var err error
	if s.hosts, err = newHostList(cfg.AllowedHosts, s.dev); err != nil {
		return err
	}
	s.proxies, err = clientip.New(clientip.Config{TrustedProxies: cfg.TrustedProxies,
		Header: cfg.ClientIPHeader, TrustHost: cfg.TrustForwardedHost})
	if err != nil {
		return fmt.Errorf("%w: trusted proxies: %v", ErrInvalidConfig, err)
	}
	return nil
}

// setupExemptPaths splits ExemptPaths into exact paths and subtrees.
func (s *Security) setupExemptPaths(cfg *Config) error {
	s.exactExempt = map[string]bool{}
	for _, p := range cfg.ExemptPaths {
		switch {
		case !strings.HasPrefix(p, "/"):
			return fmt.Errorf("%w: exempt path %q must start with /", ErrInvalidConfig, p)
		case strings.HasSuffix(p, "/"):
			s.prefixExempt = append(s.prefixExempt, p)
		default:
			s.exactExempt[path.Clean(p)] = true
		}
	}
	return nil
}

// setupRedirect checks the redirect status and port.
func (s *Security) setupRedirect(cfg *Config) error {
	switch cfg.RedirectStatus {
	case 0:
		s.redirectStatus = http.StatusPermanentRedirect
	case http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		s.redirectStatus = cfg.RedirectStatus
	default:
		return fmt.Errorf("%w: RedirectStatus %d (want 301, 302, 307 or 308)", ErrInvalidConfig, cfg.RedirectStatus)
	}
	if cfg.HTTPSPort < 0 || cfg.HTTPSPort > 65535 {
		return fmt.Errorf("%w: HTTPSPort %d", ErrInvalidConfig, cfg.HTTPSPort)
	}
	s.httpsPort = cfg.HTTPSPort
	return nil
}

// setupHeaders computes the fixed headers and compiles the CSP.
func (s *Security) setupHeaders(cfg *Config) error {
	var err error
	if s.headers, err = buildStaticHeaders(cfg); err != nil {
		return err
	}
	return s.setupCSP(cfg.CSP)
}

func (s *Security) setupCSP(c CSPConfig) error {
	if c.Disable {
		return nil
	}
	s.cspHeader = "Content-Security-Policy"
	if c.ReportOnly {
		s.cspHeader = "Content-Security-Policy-Report-Only"
	}
	if c.ReportURI != "" {
		if strings.ContainsAny(c.ReportURI, " \t\r\n;,\"\x00") {
			return fmt.Errorf("%w: CSP ReportURI %q contains a forbidden character", ErrInvalidConfig, c.ReportURI)
		}
		s.reportURI = c.ReportURI
		s.reportingHdr = `csp="` + c.ReportURI + `"`
	}
	pol := c.Policy
	if pol == nil {
		pol = DefaultCSP()
		var err error
		if s.apiPolicy, err = s.compile(APICSP()); err != nil {
			return err
		}
	}
	var err error
	s.policy, err = s.compile(pol)
	return err
}

// compile validates a policy and adds the configured reporting directives.
func (s *Security) compile(c CSP) (*policy, error) {
	if s.reportURI != "" {
		c = c.withReporting(s.reportURI, "csp")
	}
	return c.compile()
}

// setupRequestChecks builds cookie hardening, CORS, CSRF and the body limit.
func (s *Security) setupRequestChecks(cfg *Config) error {
	var err error
	if s.cookies, err = newCookieHardener(cfg.Cookies); err != nil {
		return err
	}
	if s.cors, err = newCORS(cfg.CORS); err != nil {
		return err
	}
	if s.csrf, err = newCSRF(cfg.CSRF); err != nil {
		return err
	}
	switch {
	case cfg.MaxBodyBytes == 0:
		s.maxBody = DefaultMaxBodyBytes
	case cfg.MaxBodyBytes > 0:
		s.maxBody = cfg.MaxBodyBytes
	}
	return nil
}

func (s *Security) setupMetrics(cfg *Config) error {
	var err error
	s.metrics, err = newMetrics(cfg.Registerer)
	return err
}

// Handler wraps next with every protection of the configuration, in this order: allowed
// host (400), security headers, HTTPS (Production: a redirect, or 400 without
// AllowedHosts), CORS (a preflight is answered here), body limit by Content-Length (413),
// CSRF check (403), CSP, then next with a ResponseWriter that hardens cookies and
// enforces the body limit while the body is read.
func (s *Security) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.serve(w, r, next)
	})
}

// serve runs the steps Handler lists. Each step that answers the request itself
// (a rejection, a redirect, a preflight) ends it.
func (s *Security) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	host, scheme := s.proxies.HostScheme(r)
	exempt := s.exempt(r.URL.Path)
	if !exempt && !s.hosts.match(host) {
		s.reject(w, r, rejectBadHost())
		return
	}
	st := &reqState{s: s, w: w, https: scheme == "https", policy: s.policy}
	s.headers.apply(w.Header(), st.https, &st.vals)
	if !st.https && !s.dev && !exempt {
		s.toHTTPS(w, r, host, &st.vals)
		return
	}
	if !s.applyCORS(w, r, &st.vals) {
		return
	}
	if s.maxBody > 0 && r.ContentLength > s.maxBody {
		s.reject(w, r, rejectTooLarge())
		return
	}
	r2 := s.innerRequest(st, r, host)
	if !s.crossOriginAllowed(r, r2, host) {
		s.reject(w, r, rejectCSRF())
		return
	}
	s.setCSP(w.Header(), st)
	s.limitBody(st, w, r)
	next.ServeHTTP(st, r2)
	st.finish()
}

// applyCORS answers a preflight, reporting false since the request ends there, or adds
// the CORS headers to the response of any other request.
func (s *Security) applyCORS(w http.ResponseWriter, r *http.Request, b *valueBuf) bool {
	if s.cors == nil {
		return true
	}
	if !isPreflight(r) {
		s.cors.actual(w.Header(), r, b)
		return true
	}
	if rej := s.cors.preflight(w, r, b); rej != nil {
		s.reject(w, r, rej)
	}
	return false
}

// innerRequest returns the request handed to next. It is r itself unless something
// inside needs a copy: a context carrying the state (for Nonce and WithCSP), a limited
// body, or, for the CSRF check, a host other than r.Host. A static policy without WithCSP
// on a request without a body leaves the request as it is.
func (s *Security) innerRequest(st *reqState, r *http.Request, host string) *http.Request {
	st.r = r
	if (s.policy != nil && s.policy.usesNonce()) || s.withCSP.Load() || s.bodyLimited(r) || host != r.Host {
		st.ctx = reqContext{Context: r.Context(), st: st}
		st.r = r.WithContext(&st.ctx)
	}
	return st.r
}

// bodyLimited reports whether r has a body the limit applies to.
func (s *Security) bodyLimited(r *http.Request) bool {
	return s.maxBody > 0 && r.Body != nil && r.Body != http.NoBody
}

// crossOriginAllowed runs the CSRF check against the host the client asked for, the same
// host the allowed-hosts check and the redirect use. Origins CORS lists are trusted. r2 is
// a copy of r whenever host differs from r.Host; its Host is set for the check and
// restored, and r itself is never written.
func (s *Security) crossOriginAllowed(r, r2 *http.Request, host string) bool {
	if s.csrf == nil || s.cors.listed(firstValue(r.Header, "Origin")) {
		return true
	}
	if r2 == r {
		return s.csrf.Check(r) == nil
	}
	r2.Host = host
	err := s.csrf.Check(r2)
	r2.Host = r.Host
	return err == nil
}

// setCSP sets the policy header, without nonce until the handler asks for one (Nonce),
// and Reporting-Endpoints when reports are configured.
func (s *Security) setCSP(h http.Header, st *reqState) {
	if s.policy == nil {
		return
	}
	st.vals.set(h, s.cspHeader, s.policy.static)
	if s.reportingHdr != "" {
		st.vals.set(h, "Reporting-Endpoints", s.reportingHdr)
	}
}

// limitBody puts the body limit on the request handed to next, st.r, which is a copy of
// r whenever r has a body (see innerRequest).
func (s *Security) limitBody(st *reqState, w http.ResponseWriter, r *http.Request) {
	if !s.bodyLimited(r) {
		return
	}
	st.body.rc = http.MaxBytesReader(w, r.Body, s.maxBody)
	st.r.Body = &st.body
}

// exempt reports whether the cleaned path is in ExemptPaths.
func (s *Security) exempt(p string) bool {
	if len(s.exactExempt) == 0 && len(s.prefixExempt) == 0 {
		return false
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	p = path.Clean(p)
	if s.exactExempt[p] {
		return true
	}
	for _, pre := range s.prefixExempt {
		if strings.HasPrefix(p+"/", pre) {
			return true
		}
	}
	return false
}

// toHTTPS answers a plain HTTP request in Production. With AllowedHosts set it redirects
// to the same host over HTTPS; host has passed the allowed-hosts check, so the Location
// cannot name a host nobody listed. Without AllowedHosts nothing was listed, so nothing
// is redirected: the request gets 400.
func (s *Security) toHTTPS(w http.ResponseWriter, r *http.Request, host string, b *valueBuf) {
	if !s.hosts.redirects() {
		s.reject(w, r, rejectHTTPSRequired())
		return
	}
	target, ok := redirectHost(host, s.httpsPort)
	if !ok {
		s.reject(w, r, rejectBadHost())
		return
	}
	p := r.URL.EscapedPath()
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	loc := "https://" + target + p
	if r.URL.RawQuery != "" {
		loc += "?" + r.URL.RawQuery
	}
	h := w.Header()
	b.set(h, "Location", loc)
	for _, kv := range s.headers.document {
		b.set(h, kv.key, kv.val) // Referrer-Policy governs the request that follows
	}
	if s.metrics != nil {
		s.metrics.redirects.Inc()
	}
	w.WriteHeader(s.redirectStatus)
}

// reject writes the response for a refused request through OnReject or as problem+json.
func (s *Security) reject(w http.ResponseWriter, r *http.Request, e *RejectError) {
	if s.metrics != nil {
		s.metrics.rejected.WithLabelValues(e.reason()).Inc()
	}
	if s.log.Enabled(r.Context(), slog.LevelDebug) {
		s.log.LogAttrs(r.Context(), slog.LevelDebug, "security: request rejected",
			slog.String("reason", e.reason()), slog.String("method", r.Method),
			slog.String("host", r.Host), slog.String("path", r.URL.Path))
	}
	if s.onReject != nil {
		s.onReject(w, r, e)
		return
	}
	problem.Write(w, problem.Problem{Status: e.Status, Title: e.Title, Detail: e.Detail})
}

// WithCSP returns a handler that sends policy instead of the configured one, for routes
// that need a different CSP (an embeddable widget, a page loading a third-party script).
// The configured ReportOnly mode and ReportURI apply to it as well. It must run inside
// Handler; it returns an error wrapping ErrInvalidConfig when policy is invalid.
func (s *Security) WithCSP(policy CSP, next http.Handler) (http.Handler, error) {
	p, err := s.compile(policy)
	if err != nil {
		return nil, err
	}
	s.withCSP.Store(true)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if st, ok := r.Context().Value(ctxKey{}).(*reqState); ok && st.s == s && s.cspHeader != "" {
			st.policy = p
			w.Header()[s.cspHeader] = []string{p.render(st.nonce)}
		}
		next.ServeHTTP(w, r)
	}), nil
}
