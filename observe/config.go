package observe

import (
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults applied by New to zero Config fields.
const (
	DefaultRequestIDHeader    = "X-Request-ID"
	DefaultMaxRequestIDLength = 128
	DefaultUnmatchedRoute     = "unmatched"
	DefaultFlushTimeout       = 2 * time.Second
)

// Config configures an Observer. The zero value is usable: request IDs and recovery are
// on, access logs are JSON lines on standard output, no metrics are registered and Sentry
// is off.
type Config struct {
	// Logger receives one access log line per request and is the parent of the
	// per-request logger returned by Logger(ctx). Default: NewJSONLogger(os.Stdout,
	// slog.LevelInfo), whose access lines the Observer encodes itself. Any other logger
	// gets each access line as a slog.Record, which costs more. slog.New(slog.DiscardHandler)
	// turns logging off.
	Logger *slog.Logger

	// Router is the application's router, usually the *http.ServeMux the chain ends in.
	// When set, the Observer looks each request up in it before calling the next
	// handler, so that responses written before the router runs (a 429 from a rate
	// limiter, a 503 from load shedding) are logged and counted under their route. The
	// request passed on is left as it was: r.Pattern stays empty until the router sets
	// it, so middleware in between (a response cache deciding whether it sits on a
	// route) is not misled.
	// Default nil: the route is the Pattern a ServeMux sets when the Observer wraps it
	// directly, or what SetRoute records.
	Router interface {
		Handler(r *http.Request) (h http.Handler, pattern string)
	}

	// SkipPaths lists exact URL paths (probes such as "/live", "/ready", "/metrics") whose
	// successful requests are not logged. Responses with status 500 or above are logged
	// whatever the path. Default: none, every request is logged.
	SkipPaths []string

	// TrustedProxies lists CIDR prefixes or addresses of proxies whose ClientIPHeader is
	// believed when resolving the client IP. Default: none, the TCP peer is the client.
	TrustedProxies []string
	// ClientIPHeader names the header family the trusted proxies set, the only one
	// believed: "X-Forwarded-For" (the default, with X-Forwarded-Proto), "Forwarded"
	// (RFC 7239), or a header holding one address that the proxy overwrites, such as
	// "X-Real-IP" or "CF-Connecting-IP". Every other forwarding header is ignored.
	ClientIPHeader string

	// RequestIDHeader is the request and response header carrying the request ID.
	// Default "X-Request-ID".
	RequestIDHeader string

	// MaxRequestIDLength bounds an incoming request ID; longer ones are replaced by a
	// generated ID. Incoming IDs must also use only letters, digits and "-_.:/+=@".
	// Default 128.
	MaxRequestIDLength int

	// GenerateRequestID returns a new request ID. It must be safe for concurrent use.
	// Default: 32 lowercase hex characters from a 128-bit random value.
	GenerateRequestID func() string

	// PanicHandler writes the response after a recovered panic when the handler had not
	// yet written headers. Observe clears the headers the handler had set (keeping the
	// request ID) before calling it. Default: a 500 application/problem+json body
	// carrying the request ID.
	PanicHandler http.Handler

	// Registerer receives the HTTP metrics. Nil registers no metrics.
	Registerer prometheus.Registerer

	// Gatherer is what MetricsHandler exposes. Default: Registerer when it also
	// implements prometheus.Gatherer (as *prometheus.Registry does), otherwise nothing
	// is exposed.
	Gatherer prometheus.Gatherer

	// DurationBuckets are the classic histogram buckets of
	// harden_http_request_duration_seconds, in seconds. Default prometheus.DefBuckets
	// (5 ms to 10 s).
	DurationBuckets []float64

	// NativeHistograms also exposes the duration and size histograms as Prometheus native
	// histograms (bucket factor 1.1) next to the classic buckets. Default false.
	NativeHistograms bool

	// UnmatchedRoute is the route label (and Sentry transaction name) of requests that
	// no route pattern matched. Default "unmatched".
	UnmatchedRoute string

	// MetricsToken, when set, makes MetricsHandler require "Authorization: Bearer
	// <token>"; other requests get a 401 problem. Default empty: no token.
	MetricsToken string

	// SentryDSN enables Sentry error and performance reporting. Default empty: Sentry
	// is off and nothing is sent.
	SentryDSN string
	// Environment is the Sentry environment (the reference backend passes APP_ENV).
	Environment string
	// Release is the Sentry release, for example a version or commit.
	Release string
	// TracesSampleRate is the fraction of requests, in [0, 1], sent to Sentry as
	// performance transactions. Default 0: errors only.
	TracesSampleRate float64
	// ScrubHeaders names request headers whose values are replaced by "[Filtered]" in
	// Sentry events, in addition to Authorization, Proxy-Authorization, Cookie,
	// Set-Cookie and X-Api-Key, which are always scrubbed.
	ScrubHeaders []string
	// ScrubQueryParams names query parameters whose values are replaced by
	// "[Filtered]" in Sentry events, in addition to password, token, access_token,
	// refresh_token, api_key, secret and code, which are always scrubbed.
	ScrubQueryParams []string
	// ScrubValues are secret strings (keys, passwords) replaced by "[Filtered]" wherever
	// they appear in a Sentry event's request (URL, query, headers), message, exception
	// values or breadcrumb messages. Empty strings are ignored.
	ScrubValues []string
	// FlushTimeout bounds how long Shutdown waits for Sentry events to be sent.
	// Default 2 s.
	FlushTimeout time.Duration

	// Now is the clock used to time requests. Default time.Now.
	Now func() time.Time
}

// setDefaults fills the zero fields of a validated Config with their defaults.
func (c *Config) setDefaults() {
	if c.Logger == nil {
		c.Logger = NewJSONLogger(os.Stdout, slog.LevelInfo)
	}
	if c.RequestIDHeader == "" {
		c.RequestIDHeader = DefaultRequestIDHeader
	}
	if c.MaxRequestIDLength == 0 {
		c.MaxRequestIDLength = DefaultMaxRequestIDLength
	}
	if c.GenerateRequestID == nil {
		c.GenerateRequestID = newRequestID
	}
	if c.PanicHandler == nil {
		c.PanicHandler = http.HandlerFunc(defaultPanicHandler)
	}
	if c.UnmatchedRoute == "" {
		c.UnmatchedRoute = DefaultUnmatchedRoute
	}
	if c.FlushTimeout == 0 {
		c.FlushTimeout = DefaultFlushTimeout
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

func (c *Config) validate() error {
	if c.MaxRequestIDLength < 0 {
		return fmt.Errorf("%w: MaxRequestIDLength %d is negative", ErrInvalidConfig, c.MaxRequestIDLength)
	}
	if c.RequestIDHeader != "" && !validHeaderName(c.RequestIDHeader) {
		return fmt.Errorf("%w: RequestIDHeader %q is not a valid header name", ErrInvalidConfig, c.RequestIDHeader)
	}
	if err := checkRate(c.TracesSampleRate); err != nil {
		return fmt.Errorf("%w: TracesSampleRate: %v", ErrInvalidConfig, err)
	}
	if c.FlushTimeout < 0 {
		return fmt.Errorf("%w: FlushTimeout %v is negative", ErrInvalidConfig, c.FlushTimeout)
	}
	for i, b := range c.DurationBuckets {
		if math.IsNaN(b) || (i > 0 && b <= c.DurationBuckets[i-1]) {
			return fmt.Errorf("%w: DurationBuckets must be strictly increasing", ErrInvalidConfig)
		}
	}
	return nil
}

func validHeaderName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return s != ""
}

func checkRate(f float64) error {
	if math.IsNaN(f) || f < 0 || f > 1 {
		return fmt.Errorf("%v is not in [0, 1]", f)
	}
	return nil
}
