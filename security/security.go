package security

import (
	"fmt"
	"io"
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
	policy         *Policy
	cspHeader      string
	smallCSP       bool // the rendered policy fits a smallNonceState
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

// New validates cfg and builds the middleware. Every configuration error wraps ErrConfig.
func New(cfg Config) (*Security, error) {
	if cfg.Profile == "" {
		cfg.Profile = Production
	}
	if cfg.Profile != Production && cfg.Profile != Development {
		return nil, fmt.Errorf("%w: unknown profile %q", ErrConfig, cfg.Profile)
	}
	s := &Security{dev: cfg.Profile == Development, onReject: cfg.OnReject, log: cfg.Logger,
		httpsPort: cfg.HTTPSPort, exactExempt: map[string]bool{}}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	var err error
	if s.hosts, err = newHostList(cfg.AllowedHosts, s.dev); err != nil {
		return nil, err
	}
	if s.proxies, err = clientip.New(clientip.Config{TrustedProxies: cfg.TrustedProxies, Header: cfg.ClientIPHeader, TrustHost: cfg.TrustForwardedHost}); err != nil {
		return nil, fmt.Errorf("%w: trusted proxies: %v", ErrConfig, err)
	}
	for _, p := range cfg.ExemptPaths {
		if !strings.HasPrefix(p, "/") {
			return nil, fmt.Errorf("%w: exempt path %q must start with /", ErrConfig, p)
		}
		if strings.HasSuffix(p, "/") {
			s.prefixExempt = append(s.prefixExempt, p)
		} else {
			s.exactExempt[path.Clean(p)] = true
		}
	}
	switch cfg.RedirectStatus {
	case 0:
		s.redirectStatus = http.StatusPermanentRedirect
	case http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		s.redirectStatus = cfg.RedirectStatus
	default:
		return nil, fmt.Errorf("%w: RedirectStatus %d (want 301, 302, 307 or 308)", ErrConfig, cfg.RedirectStatus)
	}
	if cfg.HTTPSPort < 0 || cfg.HTTPSPort > 65535 {
		return nil, fmt.Errorf("%w: HTTPSPort %d", ErrConfig, cfg.HTTPSPort)
	}
	if s.headers, err = buildStaticHeaders(&cfg); err != nil {
		return nil, err
	}
	if err := s.setupCSP(cfg.CSP); err != nil {
		return nil, err
	}
	if s.cookies, err = newCookieHardener(cfg.Cookies); err != nil {
		return nil, err
	}
	if s.cors, err = newCORS(cfg.CORS); err != nil {
		return nil, err
	}
	if s.csrf, err = newCSRF(cfg.CSRF); err != nil {
		return nil, err
	}
	switch {
	case cfg.MaxBodyBytes == 0:
		s.maxBody = DefaultMaxBodyBytes
	case cfg.MaxBodyBytes > 0:
		s.maxBody = cfg.MaxBodyBytes
	}
	if s.metrics, err = newMetrics(cfg.Registerer); err != nil {
		return nil, err
	}
	if !s.dev && len(s.hosts.patterns) == 0 {
		s.log.Warn("security: AllowedHosts is empty; any well-formed Host is accepted and used in HTTPS redirects")
	}
	return s, nil
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
			return fmt.Errorf("%w: CSP ReportURI %q contains a forbidden character", ErrConfig, c.ReportURI)
		}
		s.reportURI = c.ReportURI
		s.reportingHdr = `csp="` + c.ReportURI + `"`
	}
	pol := c.Policy
	if pol == nil {
		pol = DefaultCSP()
	}
	p, err := s.compile(pol)
	if err != nil {
		return err
	}
	s.policy = p
	s.smallCSP = p.renderedLen() <= cspSmall
	return nil
}

// compile validates a policy and adds the configured reporting directives.
func (s *Security) compile(c CSP) (*Policy, error) {
	if s.reportURI != "" {
		c = c.withReporting(s.reportURI, "csp")
	}
	return c.Compile()
}

// Handler wraps next with every protection of the configuration, in this order: allowed
// host (400), HTTPS redirect (Production), security headers, CORS preflight, CSRF check
// (403), body limit (413), then next with a ResponseWriter that hardens cookies.
func (s *Security) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.serve(w, r, next)
	})
}

func (s *Security) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	host, scheme := s.proxies.HostScheme(r)
	exempt := s.exempt(r.URL.Path)
	if !exempt && !s.hosts.match(host) {
		s.reject(w, r, rejectBadHost())
		return
	}
	https := scheme == "https"
	h := w.Header()
	// One allocation carries the per-request state, the context value, the backing array
	// of every header value set below and, with a nonce policy, the rendered CSP.
	var st *reqState
	var cspBuf []byte
	if s.policy != nil && s.policy.UsesNonce() {
		if s.smallCSP {
			ns := &smallNonceState{}
			st, cspBuf = &ns.reqState, ns.csp[:0]
		} else {
			ns := &nonceState{}
			st, cspBuf = &ns.reqState, ns.csp[:0]
		}
	} else {
		st = &reqState{}
	}
	st.s, st.w, st.https, st.policy = s, w, https, s.policy
	b := valueBuf(st.vals[:0])
	s.headers.apply(h, https, &b)
	if !https && !s.dev && !exempt {
		s.redirect(w, r, host, &b)
		return
	}
	if s.cors != nil {
		if isPreflight(r) {
			if rej := s.cors.preflight(w, r, &b); rej != nil {
				s.reject(w, r, rej)
			}
			return
		}
		s.cors.actual(h, r, &b)
	}
	if s.maxBody > 0 && r.ContentLength > s.maxBody {
		s.reject(w, r, rejectTooLarge())
		return
	}

	limitBody := s.maxBody > 0 && r.Body != nil && r.Body != http.NoBody
	r2 := r
	// The request is copied only when something inside needs the copy: a context that
	// carries the state (for Nonce and WithCSP), a limited body, or the forwarded host
	// for the CSRF check. A static policy without WithCSP leaves the request as it is.
	if (s.policy != nil && s.policy.UsesNonce()) || s.withCSP.Load() || limitBody || host != r.Host {
		st.ctx = reqContext{Context: r.Context(), st: st}
		r2 = r.WithContext(&st.ctx)
	}
	st.r = r2
	if s.csrf != nil && !s.cors.listed(firstValue(r.Header, "Origin")) {
		// The check compares Origin with the host the client asked for; r2 is a copy
		// whenever that differs from r.Host, and r itself is never written.
		if r2 != r {
			r2.Host = host
		}
		err := s.csrf.Check(r2)
		if r2 != r {
			r2.Host = r.Host
		}
		if err != nil {
			s.reject(w, r, rejectCSRF())
			return
		}
	}
	if s.policy != nil {
		v := s.policy.static
		if s.policy.UsesNonce() {
			v, st.nonce = s.policy.renderNewNonce(cspBuf)
		}
		b.set(h, s.cspHeader, v)
		if s.reportingHdr != "" {
			b.set(h, "Reporting-Endpoints", s.reportingHdr)
		}
	}
	if limitBody {
		st.body.rc = http.MaxBytesReader(w, r.Body, s.maxBody)
		r2.Body = &st.body
	}
	next.ServeHTTP(st, r2)
	st.finish()
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

// redirect sends a plain HTTP request to the same host over HTTPS. host has passed the
// allowed-hosts check, so the Location cannot point elsewhere.
func (s *Security) redirect(w http.ResponseWriter, r *http.Request, host string, b *valueBuf) {
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
	b.set(w.Header(), "Location", loc)
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
	problem.Write(w, problem.Problem{Status: e.Status, Detail: e.Detail})
}

// WithCSP returns a handler that sends policy instead of the configured one, for routes
// that need a different CSP (an embeddable widget, a page loading a third-party script).
// The configured ReportOnly mode and ReportURI apply to it as well. It must run inside
// Handler; it returns an error wrapping ErrConfig when policy is invalid.
func (s *Security) WithCSP(policy CSP, next http.Handler) (http.Handler, error) {
	p, err := s.compile(policy)
	if err != nil {
		return nil, err
	}
	s.withCSP.Store(true)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if st, ok := r.Context().Value(ctxKey{}).(*reqState); ok && st.s == s && s.cspHeader != "" {
			if p.UsesNonce() && st.nonce == "" {
				st.nonce = newNonce()
			}
			st.policy = p
			w.Header()[s.cspHeader] = []string{p.Render(st.nonce)}
		}
		next.ServeHTTP(w, r)
	}), nil
}
