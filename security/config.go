package security

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Profile selects the environment-dependent behaviour.
type Profile string

// Profiles. The zero Profile is Production.
const (
	// Production serves HTTPS only (plain HTTP is redirected, see AllowedHosts) and sends
	// HSTS.
	Production Profile = "production"
	// Development serves plain HTTP without redirect or HSTS and also accepts the
	// loopback hosts (localhost, 127.0.0.1, [::1]) when AllowedHosts is set.
	Development Profile = "development"
)

// Omit, as the value of a header field in Headers, means "do not send this header".
const Omit = "-"

// Config configures the middleware. The zero Config is the production profile with every
// protection on: HTTPS only (plain HTTP gets 400 until AllowedHosts enables the 308
// redirect), HSTS for one year with subdomains, the DefaultCSP, hardened cookies, CSRF
// protection, a 16 MiB body limit, no CORS and no trusted proxy.
type Config struct {
	// Profile is Production (default) or Development.
	Profile Profile

	// AllowedHosts lists the hosts the service answers for: "api.example.com",
	// "api.example.com:8443" (that port only) or "*.example.com" (any subdomain, not the
	// apex). A request for another host gets 400, and HTTPS redirects go to the matched
	// host only. Empty (default): any syntactically valid host is served, but plain HTTP
	// is never redirected, since no listed host exists to send it to; in Production it
	// gets 400 (ErrHTTPSRequired). ["*"] alone accepts any valid host and redirects to
	// whatever host the request names, which lets anyone who can make a client send a
	// Host header of their choosing (a DNS rebinding page, a misrouted proxy) get a
	// redirect to it: list the hosts instead wherever they are known.
	AllowedHosts []string

	// TrustedProxies lists the CIDR prefixes or addresses of reverse proxies whose
	// ClientIPHeader family is believed for the scheme (and, with TrustForwardedHost, the
	// host). Empty (default): nobody is trusted, forwarding headers are ignored, and the
	// scheme is https only for requests that arrived over TLS.
	TrustedProxies []string
	// ClientIPHeader names the header family the trusted proxies set, the only one
	// believed: "X-Forwarded-For" (the default, with X-Forwarded-Proto), "Forwarded"
	// (RFC 7239: proto= and host= of the element the proxy nearest the client appended),
	// or a header holding one address that the proxy overwrites, such as "X-Real-IP" or
	// "CF-Connecting-IP" (with X-Forwarded-Proto). Forwarding headers of other families
	// are ignored, even from a trusted proxy.
	ClientIPHeader string
	// TrustForwardedHost believes the host a trusted proxy forwards (X-Forwarded-Host,
	// or host= of Forwarded) for host checks and redirects. Default false: the Host
	// header is used, since many proxies (nginx among them) pass a client's
	// X-Forwarded-Host through untouched.
	TrustForwardedHost bool

	// ExemptPaths are request paths that are neither redirected to HTTPS nor host-checked,
	// such as health probes that reach the process by IP over plain HTTP ("/live",
	// "/ready"). An entry ending in "/" exempts the subtree. Paths are compared after
	// cleaning. Response headers are still added. Default: none.
	ExemptPaths []string

	// RedirectStatus is the status of the HTTPS redirect: 308 (default, keeps the method
	// and body), 301, 302 or 307.
	RedirectStatus int

	// HTTPSPort is the port HTTPS redirects point to. 0 (default) means 443, which is left
	// out of the URL.
	HTTPSPort int

	// HSTS configures Strict-Transport-Security, sent on HTTPS responses in Production.
	HSTS HSTS

	// CSP configures Content-Security-Policy.
	CSP CSPConfig

	// Headers configures the remaining security headers.
	Headers Headers

	// Cookies configures Set-Cookie hardening.
	Cookies Cookies

	// CORS configures cross-origin resource sharing. Disabled unless Origins is set.
	CORS CORS

	// CSRF configures cross-origin request forgery protection.
	CSRF CSRF

	// MaxBodyBytes limits request bodies; larger ones get 413. 0 (default) means 16 MiB
	// (DefaultMaxBodyBytes); negative means unlimited.
	MaxBodyBytes int64

	// OnReject writes the response for a request the middleware refuses. err is a
	// *RejectError wrapping ErrBadHost (400), ErrHTTPSRequired (400), ErrBodyTooLarge
	// (413), ErrCrossOrigin (403) or ErrCORSDenied (403). Nil (default) writes
	// application/problem+json.
	OnReject func(w http.ResponseWriter, r *http.Request, err *RejectError)

	// Logger receives rejections at debug level, and a warning from New when the
	// Production profile runs without AllowedHosts. Nil (default) discards.
	Logger *slog.Logger

	// Registerer receives the metrics harden_security_rejected_total{reason} and
	// harden_security_https_redirects_total. Nil (default) means no metrics.
	Registerer prometheus.Registerer
}

// HSTS configures Strict-Transport-Security.
type HSTS struct {
	// MaxAge is the max-age. 0 (default) means one year; negative disables the header.
	MaxAge time.Duration
	// ExcludeSubdomains drops includeSubDomains, which is sent by default.
	ExcludeSubdomains bool
	// Preload adds the preload token (submit the domain to hstspreload.org as well).
	// Requires a max-age of at least one year and includeSubDomains. Default false.
	Preload bool
}

// CSPConfig configures Content-Security-Policy.
type CSPConfig struct {
	// Policy is sent on every response. Nil (default) means DefaultCSP() on documents
	// and APICSP() on other responses (see the package doc's defaults). Routes can
	// send another with (*Security).WithCSP. A policy with NonceSource is sent with a
	// fresh nonce when the handler asks for one (Nonce), and otherwise without it: each
	// directive drops NonceSource and 'unsafe-inline', and one left empty becomes 'none'.
	Policy CSP
	// ReportOnly sends the policy as Content-Security-Policy-Report-Only, so violations
	// are reported but not blocked. Default false (enforced).
	ReportOnly bool
	// ReportURI, when set, adds "report-uri <ReportURI>" and "report-to csp" to every
	// policy and a Reporting-Endpoints header naming the csp group, so both legacy
	// reports and Reporting API reports reach it. Serve it with a cspreport.Handler.
	// Default empty (no reporting).
	ReportURI string
	// Disable sends no CSP header at all.
	Disable bool
}

// Headers configures the fixed security headers. An empty field means its default; the
// value Omit ("-") suppresses the header. Referrer-Policy, Permissions-Policy,
// X-Frame-Options and the opener and embedder policies are added when the response's
// header is written, unless the handler set its own value, on responses a browser may
// render as a document or run as a worker, and left off the others (see the package
// doc's defaults).
type Headers struct {
	// ReferrerPolicy defaults to "strict-origin-when-cross-origin".
	ReferrerPolicy string
	// PermissionsPolicy defaults to "camera=(), geolocation=(), microphone=()".
	PermissionsPolicy string
	// FrameOptions (X-Frame-Options) defaults to "DENY". The CSP frame-ancestors
	// directive of DefaultCSP says the same to current browsers.
	FrameOptions string
	// CrossOriginOpenerPolicy defaults to "same-origin".
	CrossOriginOpenerPolicy string
	// CrossOriginResourcePolicy defaults to "same-origin".
	CrossOriginResourcePolicy string
	// CrossOriginEmbedderPolicy is not sent by default; set "require-corp" or
	// "credentialless" to opt in.
	CrossOriginEmbedderPolicy string
}

// Cookies configures the hardening of Set-Cookie headers written by the handler.
type Cookies struct {
	// ScriptReadable lists cookie names that stay readable from JavaScript (no HttpOnly
	// added), such as a CSRF double-submit token. Names are case-sensitive.
	ScriptReadable []string
	// SameSite is added to cookies that do not state their own. Default http.SameSiteLaxMode.
	SameSite http.SameSite
	// Disable turns cookie hardening off.
	Disable bool
}

// CORS configures cross-origin resource sharing.
type CORS struct {
	// Origins lists allowed origins: exact ("https://app.example.com",
	// "http://localhost:3000") or one leading wildcard label ("https://*.example.com",
	// which matches subdomains at any depth but not the apex). "*" allows every origin and
	// cannot be combined with AllowCredentials. Empty (default): CORS is off and no
	// Access-Control-* header is sent.
	Origins []string
	// AllowCredentials sends Access-Control-Allow-Credentials: true. Default false.
	AllowCredentials bool
	// Methods allowed in preflight. Default GET, HEAD, POST, PUT, PATCH, DELETE.
	Methods []string
	// Headers allowed in preflight (case-insensitive). Default Accept, Accept-Language,
	// Authorization, Content-Language, Content-Type, X-Request-ID, X-Requested-With.
	Headers []string
	// ExposeHeaders are listed in Access-Control-Expose-Headers. Default none.
	ExposeHeaders []string
	// MaxAge is how long browsers may cache a preflight. 0 (default) means one hour;
	// negative omits Access-Control-Max-Age.
	MaxAge time.Duration
}

// CSRF configures the cross-origin protection of state-changing requests, built on
// net/http.CrossOriginProtection. Requests from origins allowed by CORS are trusted too.
type CSRF struct {
	// Disable turns the protection off.
	Disable bool
	// TrustedOrigins are exact origins ("https://admin.example.com") allowed to send
	// state-changing requests even though they are cross-origin.
	TrustedOrigins []string
	// BypassPatterns are http.ServeMux patterns ("POST /webhooks/stripe") exempt from
	// the check, for endpoints authenticated by other means.
	BypassPatterns []string
}

// DefaultMaxBodyBytes is the request body limit used when Config.MaxBodyBytes is 0.
const DefaultMaxBodyBytes = 16 << 20

const (
	defaultHSTSMaxAge     = 365 * 24 * time.Hour
	defaultReferrer       = "strict-origin-when-cross-origin"
	defaultPermissions    = "camera=(), geolocation=(), microphone=()"
	defaultFrameOptions   = "DENY"
	defaultOpenerPolicy   = "same-origin"
	defaultResourcePolicy = "same-origin"
	defaultCORSMaxAge     = time.Hour
)

// defaultCORSMethods returns the preflight methods allowed when CORS.Methods is empty.
func defaultCORSMethods() []string {
	return []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"}
}

// defaultCORSHeaders returns the preflight headers allowed when CORS.Headers is empty.
func defaultCORSHeaders() []string {
	return []string{"Accept", "Accept-Language", "Authorization", "Content-Language",
		"Content-Type", "X-Request-ID", "X-Requested-With"}
}
