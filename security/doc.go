// Package security is an HTTP hardening middleware: allowed hosts, HTTPS redirect, HSTS,
// Content-Security-Policy with per-request nonces and violation reports, the other
// security headers, cookie hardening, CORS, CSRF protection and a request body limit.
// The fixed headers are computed with github.com/unrolled/secure; CSRF uses
// net/http.CrossOriginProtection. Unlike unrolled/secure, the zero Config is already
// safe, and its responses score A+ on the Mozilla HTTP Observatory.
//
// # Usage
//
//	sec, err := security.New(security.Config{
//		AllowedHosts:   []string{"api.example.com"},
//		TrustedProxies: []string{"10.0.0.0/8"},
//		ExemptPaths:    []string{"/live", "/ready"},
//		CORS:           security.CORS{Origins: []string{"https://app.example.com"}, AllowCredentials: true},
//	})
//	if err != nil { … }
//	http.ListenAndServe(":5000", sec.Handler(mux))
//
// Environment strings map through ParseProfile (APP_ENV), SplitList (CORS_ORIGINS,
// ALLOWED_HOSTS, TRUSTED_PROXIES) and ParseSize (MAX_CONTENT_LENGTH).
//
// # Defaults (zero Config, Production profile)
//
//   - Host: any syntactically valid Host; with AllowedHosts set, others get 400.
//   - Plain HTTP is redirected with 308 (RedirectStatus) to https:// on the same allowed
//     host and port 443 (HTTPSPort); the scheme comes from TLS or, only from
//     TrustedProxies (none by default), Forwarded / X-Forwarded-Proto. ExemptPaths
//     (none by default; probes) are neither redirected nor host-checked.
//   - Strict-Transport-Security: max-age=31536000; includeSubDomains (HTTPS only);
//     preload only with HSTS.Preload.
//   - Content-Security-Policy: DefaultCSP, enforced (not ReportOnly), with a fresh nonce
//     per response (Nonce); no report endpoint unless CSP.ReportURI is set.
//   - Referrer-Policy: strict-origin-when-cross-origin; Permissions-Policy: camera=(),
//     geolocation=(), microphone=(); X-Content-Type-Options: nosniff; X-Frame-Options:
//     DENY; Cross-Origin-Opener-Policy and Cross-Origin-Resource-Policy: same-origin;
//     Cross-Origin-Embedder-Policy: not sent.
//   - Set-Cookie: Secure (over HTTPS), HttpOnly (unless Cookies.ScriptReadable) and
//     SameSite=Lax are added when missing.
//   - CSRF: cross-origin POST/PUT/PATCH/DELETE from browsers get 403, except from CORS
//     origins and CSRF.TrustedOrigins. Non-browser clients (no Origin nor Sec-Fetch-Site
//     header, such as API clients with bearer tokens) are unaffected.
//   - CORS: off. With CORS.Origins: exact or wildcard-subdomain origins, preflight cached
//     one hour, methods GET, HEAD, POST, PUT, PATCH, DELETE, request headers Accept,
//     Accept-Language, Authorization, Content-Language, Content-Type, X-Request-ID,
//     X-Requested-With, no credentials unless AllowCredentials, no exposed headers;
//     "*" refused together with credentials.
//   - Request bodies: 16 MiB; larger ones get 413.
//   - Logger: discard. Registerer: none; with one, harden_security_rejected_total{reason}
//     and harden_security_https_redirects_total.
//
// The Development profile drops the redirect and HSTS and also accepts localhost,
// 127.0.0.1 and [::1] when AllowedHosts is set.
//
// Responses the middleware writes itself (400, 403, 413) are application/problem+json
// (RFC 9457) unless Config.OnReject writes them. Routes needing another CSP use
// (*Security).WithCSP; violation reports are received by a Reports handler, which by
// default accepts bodies up to 64 KiB and 20 reports per request, keeps the 100 most
// recent, logs at most 30 per minute and counts all of them in
// harden_security_csp_reports_total{directive,disposition} when given a Registerer.
package security
