package health

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/singleflight"
)

// Values of Config fields left zero.
const (
	defaultInterval   = 5 * time.Second
	defaultTimeout    = 2 * time.Second
	defaultLivePath   = "/live"
	defaultReadyPath  = "/ready"
	defaultHealthPath = "/health"
	// minTokenLength is the shortest Config.Token accepted.
	minTokenLength = 16
)

// Config configures a Health. The zero value is valid: no checks, results cached 5 s,
// 2 s per check, details shown to nobody.
type Config struct {
	// Checks are run in parallel on every refresh. Names must be unique.
	Checks []Check
	// Interval is how long results are cached: a flood of probes causes at most one
	// run of the checks per Interval. Default 5 s.
	Interval time.Duration
	// Timeout bounds each check that sets no Timeout of its own. Default 2 s.
	Timeout time.Duration
	// BackgroundRefresh makes Start run the checks every Interval in the background, so
	// probes always read cached results. Default false: a probe that finds the cached
	// results expired runs the checks (once, shared with concurrent probes) and waits.
	BackgroundRefresh bool

	// Version, ReleaseID, ServiceID and Description are the draft's top-level members,
	// shown to authorised callers of /health. Default empty (omitted).
	Version     string
	ReleaseID   string
	ServiceID   string
	Description string

	// Token unlocks details when sent as "Authorization: Bearer <Token>". It must be at
	// least 16 bytes. Default empty: no token is accepted.
	Token string
	// DetailCIDRs lists client networks that see details, as CIDR prefixes
	// ("10.0.0.0/8") or single addresses ("192.0.2.7"). Default none: no network sees
	// details, loopback included. The client is the TCP peer or, when the peer is one
	// of TrustedProxies, the address it forwards in ClientIPHeader. A request from any
	// other peer that carries a forwarding header (X-Forwarded-For, Forwarded,
	// X-Real-IP, Via or ClientIPHeader) came through a proxy nobody listed: its client
	// is unknown and no network matches it. Behind a proxy on the same host every
	// visitor arrives from loopback: list the proxy in TrustedProxies, and reach
	// details from the host itself with the Token rather than by listing loopback here.
	DetailCIDRs []string
	// TrustedProxies are the proxies whose ClientIPHeader is believed when resolving the
	// client address for DetailCIDRs, in the same forms. Default none: no forwarding
	// header is believed.
	TrustedProxies []string
	// ClientIPHeader names the header family the trusted proxies set, the only one
	// believed: "X-Forwarded-For" (the default), "Forwarded" (RFC 7239), or a header
	// holding one address that the proxy overwrites, such as "X-Real-IP" or
	// "CF-Connecting-IP". Every other forwarding header is ignored.
	ClientIPHeader string
	// Authorize, when set, decides alone which requests see details (Token and
	// DetailCIDRs are then ignored). Default nil.
	Authorize func(r *http.Request) bool

	// OnStatusChange is called after a run for each check whose status changed,
	// including its first result. It runs on the goroutine that ran the checks and
	// must not block. Default nil.
	OnStatusChange func(Change)
	// Logger receives a record per status change and lifecycle step. Default: discard.
	Logger *slog.Logger
	// Registerer receives the package's metrics (see the package documentation).
	// Default nil: no metrics.
	Registerer prometheus.Registerer
	// Now is the clock for timestamps and cache expiry. Default time.Now.
	Now func() time.Time

	// MethodNotAllowedHandler answers methods other than GET and HEAD on the health
	// endpoints. Default: a 405 application/problem+json response with Allow.
	MethodNotAllowedHandler http.Handler
	// LivePath, ReadyPath and HealthPath are the paths Handler serves. Defaults
	// "/live", "/ready" and "/health".
	LivePath   string
	ReadyPath  string
	HealthPath string
}

// Change describes a check whose status changed.
type Change struct {
	// Check is the check's name.
	Check string
	// From is the previous status, empty on the first run.
	From Status
	// To is the new status.
	To Status
	// Err is the check's error, nil when To is pass.
	Err error
	// Time is when the run that observed the change ended.
	Time time.Time
}

// Health runs checks and serves /live, /ready and /health. It is safe for concurrent
// use. Its lifecycle is: New, Start once startup is complete, Drain (or Shutdown) when
// the process is asked to stop.
type Health struct {
	checks     []Check
	interval   time.Duration
	timeout    time.Duration
	background bool
	info       info
	auth       authorizer
	onChange   func(Change)
	log        *slog.Logger
	now        func() time.Time
	methodNA   http.Handler
	livePath   string
	readyPath  string
	healthPath string
	created    time.Time
	metrics    *collectors
	running    []atomic.Bool
	group      singleflight.Group
	snap       atomic.Pointer[snapshot]
	started    atomic.Bool
	draining   atomic.Bool
	startOnce  sync.Once
	drainOnce  sync.Once
	mu         sync.Mutex // guards history
	history    []history
}

type info struct {
	Version, ReleaseID, ServiceID, Description string
}

// history is what a check remembers between runs.
type history struct {
	status      Status
	lastErr     error
	lastErrTime time.Time
}

// New validates cfg and returns a Health. Nothing runs until a probe, Diagnose or Start.
func New(cfg Config) (*Health, error) {
	h := &Health{
		interval:   orDuration(cfg.Interval, defaultInterval),
		timeout:    orDuration(cfg.Timeout, defaultTimeout),
		background: cfg.BackgroundRefresh,
		info:       info{cfg.Version, cfg.ReleaseID, cfg.ServiceID, cfg.Description},
		onChange:   cfg.OnStatusChange,
		log:        cfg.Logger,
		now:        cfg.Now,
		methodNA:   cfg.MethodNotAllowedHandler,
		livePath:   orString(cfg.LivePath, defaultLivePath),
		readyPath:  orString(cfg.ReadyPath, defaultReadyPath),
		healthPath: orString(cfg.HealthPath, defaultHealthPath),
	}
	if cfg.Interval < 0 || cfg.Timeout < 0 {
		return nil, fmt.Errorf("%w: negative Interval or Timeout", ErrInvalidConfig)
	}
	if err := validatePaths(h.livePath, h.readyPath, h.healthPath); err != nil {
		return nil, err
	}
	if err := validateChecks(cfg.Checks); err != nil {
		return nil, err
	}
	h.checks = append([]Check(nil), cfg.Checks...)
	h.running = make([]atomic.Bool, len(h.checks))
	h.history = make([]history, len(h.checks))
	auth, err := newAuthorizer(cfg)
	if err != nil {
		return nil, err
	}
	h.auth = auth
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.methodNA == nil {
		h.methodNA = http.HandlerFunc(methodNotAllowed)
	}
	h.created = h.now()
	if cfg.Registerer != nil {
		m, err := newMetrics(cfg.Registerer, h)
		if err != nil {
			return nil, err
		}
		h.metrics = m
	}
	return h, nil
}

// validatePaths checks that the three endpoint paths are absolute and distinct.
func validatePaths(live, ready, health string) error {
	for _, p := range []string{live, ready, health} {
		if !strings.HasPrefix(p, "/") {
			return fmt.Errorf("%w: path %q does not start with /", ErrInvalidConfig, p)
		}
	}
	if live == ready || live == health || ready == health {
		return fmt.Errorf("%w: LivePath, ReadyPath and HealthPath must differ", ErrInvalidConfig)
	}
	return nil
}

// validateChecks checks each check and that no two share a name.
func validateChecks(checks []Check) error {
	seen := make(map[string]bool, len(checks))
	for i := range checks {
		c := &checks[i]
		if err := c.validate(); err != nil {
			return err
		}
		if seen[c.Name] {
			return fmt.Errorf("%w: duplicate check name %q", ErrInvalidConfig, c.Name)
		}
		seen[c.Name] = true
	}
	return nil
}

func orDuration(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

func orString(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
