// Package security is an HTTP hardening middleware: allowed hosts, HTTPS redirect, HSTS,
// Content-Security-Policy with per-request nonces, the other security headers, cookie
// hardening, CORS, CSRF protection and a request body limit. The fixed headers are
// computed with github.com/unrolled/secure; CSRF uses net/http.CrossOriginProtection.
// Unlike unrolled/secure, the zero Config is already safe, and its responses score A+ on
// the Mozilla HTTP Observatory. CSP violation reports are received by the subpackage
// cspreport.
//
// # Usage
//
// New checks a Config and builds the middleware; Handler wraps the application. This is
// the package Example:
//
//	sec, err := security.New(security.Config{
//		AllowedHosts:   []string{"api.example.com"},
//		TrustedProxies: []string{"10.0.0.0/8"},
//		ExemptPaths:    []string{"/live", "/ready"},
//		CORS:           security.CORS{Origins: []string{"https://app.example.com"}, AllowCredentials: true},
//	})
//	if err != nil {
//		log.Fatal(err)
//	}
//	handler := sec.Handler(mux)
//
// # Hosts, HTTPS and proxies
//
// Every decision about where a request was sent uses one host and one scheme. The scheme
// is https when the request arrived over TLS or, from a peer listed in TrustedProxies
// (none by default), when the proxy's header family says so. ClientIPHeader names that
// family, the only one believed:
//
//   - "X-Forwarded-For" (the default): the scheme from X-Forwarded-Proto.
//   - "Forwarded" (RFC 7239): proto= of the element the proxy nearest the client
//     appended. Elements a client sent itself stand to its left and are ignored.
//   - a header holding one address that the proxy overwrites, such as "X-Real-IP" or
//     "CF-Connecting-IP": the scheme from X-Forwarded-Proto.
//
// Forwarding headers outside the chosen family are ignored, because proxies pass through
// untouched the headers they do not set. A client's own "Forwarded: proto=http" therefore
// cannot send it into a redirect loop, and its "X-Forwarded-Proto: https" cannot skip the
// redirect behind a proxy that speaks Forwarded.
//
// The host is the Host header. The host a trusted proxy forwards (X-Forwarded-Host, or
// host= of the proxy's Forwarded element) replaces it only with TrustForwardedHost, off by
// default since many proxies (nginx among them) pass a client's X-Forwarded-Host through
// unless configured to overwrite it. That one host is checked against AllowedHosts, named
// in the redirect's Location and compared with Origin by the CSRF check.
//
// AllowedHosts decides both which hosts are served and whether plain HTTP is redirected:
//
//   - A list ("api.example.com", "*.example.com", "api.example.com:8443"): other hosts
//     get 400, and plain HTTP is redirected (308) to https:// on the matched host.
//   - Empty (the default): any syntactically valid host is served, but nothing is
//     redirected, since no listed host exists to redirect to. In Production a plain HTTP
//     request to a path outside ExemptPaths gets 400 application/problem+json titled
//     "HTTPS Required" (ErrHTTPSRequired), without a Location. New logs a warning.
//   - ["*"]: any syntactically valid host is served, and plain HTTP is redirected to the
//     host the request names. Use it only when the hosts cannot be listed: a redirect then
//     names whatever host the client sent (or, with TrustForwardedHost, the proxy
//     forwarded), so anyone who can make a browser send a Host of their choosing — a
//     DNS-rebinding page, a shared address answering for other names, a proxy that
//     forwards any Host — gets a redirect to a host you do not serve.
//
// # Defaults (zero Config, Production profile)
//
//   - Hosts and HTTPS: as above; HTTPSPort 443 (left out of the URL), RedirectStatus 308.
//     ExemptPaths (none by default; health probes) are neither redirected nor
//     host-checked.
//   - Strict-Transport-Security: max-age=31536000; includeSubDomains (HTTPS only);
//     preload only with HSTS.Preload.
//   - Content-Security-Policy: DefaultCSP on documents and scripts (HTML, XML, SVG, PDF,
//     JavaScript, or no Content-Type yet), enforced (not ReportOnly); no report endpoint
//     unless CSP.ReportURI is set. A response whose handler calls Nonce carries a fresh nonce in
//     script-src and style-src; other documents carry the policy without nonce, which
//     allows no inline code at all and costs no random draw. Responses no browser renders
//     as a document nor runs as a worker (JSON, problems, images, stylesheets) carry
//     APICSP instead, 79 bytes instead of 197, which forbids everything, framing included.
//     A Policy you set is sent as it is on every response.
//   - Referrer-Policy: strict-origin-when-cross-origin; Permissions-Policy: camera=(),
//     geolocation=(), microphone=(); X-Content-Type-Options: nosniff; X-Frame-Options:
//     DENY; Cross-Origin-Opener-Policy and Cross-Origin-Resource-Policy: same-origin;
//     Cross-Origin-Embedder-Policy: not sent.
//   - Responses no browser renders as a document or runs as a worker (JSON, problems,
//     images, stylesheets, fonts: any Content-Type but HTML, XML, SVG, PDF and
//     JavaScript) go without the headers that govern only documents, about 170 bytes
//     and four header fields of the defaults: Permissions-Policy,
//     Cross-Origin-Opener-Policy and Cross-Origin-Embedder-Policy; X-Frame-Options when
//     an enforced policy of the response has frame-ancestors (APICSP does); and
//     Referrer-Policy except on stylesheets and redirects, whose follow-up requests it
//     governs. Strict-Transport-Security, X-Content-Type-Options and
//     Cross-Origin-Resource-Policy, which protect the response itself, are set before
//     the handler runs; the document headers are added when the response's header is
//     written, once its Content-Type is known, and only where the handler did not set its
//     own value (deleting one beforehand does not remove it: set another value, or Omit
//     in Config.Headers). Every header field costs twice on the wire: net/http copies
//     and sorts the header map of each response, and the client parses it.
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
//   - Request bodies: 16 MiB (DefaultMaxBodyBytes); larger ones get 413.
//   - Logger: discard. Registerer: none; with one, harden_security_rejected_total{reason}
//     and harden_security_https_redirects_total.
//
// The Development profile serves plain HTTP without redirect or HSTS and, when
// AllowedHosts is a list, also accepts localhost, 127.0.0.1 and [::1].
//
// Responses the middleware writes itself (400, 403, 413) are application/problem+json
// (RFC 9457) unless Config.OnReject writes them. Routes needing another CSP use
// (*Security).WithCSP. Violation reports sent to CSPConfig.ReportURI are received by a
// cspreport.Handler mounted there.
package security
