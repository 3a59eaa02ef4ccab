package security

// A grader that scores HTTP responses the way the Mozilla HTTP Observatory does (the
// published scoring of github.com/mdn/mdn-http-observatory: src/analyzer/tests/*.js,
// src/grader/charts.js, src/scanner/index.js). It runs the ten header tests against a
// real server: CSP, cookies, CORS, redirection, referrer policy, HSTS, SRI,
// X-Content-Type-Options, X-Frame-Options and CORP. Left out: the HSTS preload list
// (nothing of ours is preloaded) and certificate validation (the test client trusts the
// test server's certificate). Multiple CSP policies are graded on the first one only.

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// obsTest is one test's outcome: the expectation name and its score modifier.
type obsTest struct {
	Result   string
	Modifier int
}

type obsScan struct {
	Score int
	Grade string
	Tests map[string]obsTest
}

// obsInput is what the Observatory retrieves: the final HTTPS response ("auto"), the same
// request with an Origin header ("cors"), and the redirect chain starting at http://.
type obsInput struct {
	auto     *http.Response
	autoBody []byte
	cors     *http.Response
	corsReq  string // Origin sent with the cors request
	route    []*url.URL
	https    bool
}

var obsModifiers = map[string]int{
	"csp-implemented-with-no-unsafe-default-src-none":                  10,
	"csp-implemented-with-no-unsafe":                                   5,
	"csp-implemented-with-unsafe-inline-in-style-src-only":             0,
	"csp-implemented-with-insecure-scheme-in-passive-content-only":     -10,
	"csp-implemented-with-unsafe-eval":                                 -10,
	"csp-implemented-with-unsafe-inline":                               -20,
	"csp-implemented-with-insecure-scheme":                             -20,
	"csp-implemented-but-duplicate-directives":                         0,
	"csp-header-invalid":                                               -25,
	"csp-not-implemented":                                              -25,
	"csp-not-implemented-but-reporting-enabled":                        -25,
	"cookies-secure-with-httponly-sessions-and-samesite":               5,
	"cookies-secure-with-httponly-sessions":                            0,
	"cookies-not-found":                                                0,
	"cookies-without-secure-flag-but-protected-by-hsts":                -5,
	"cookies-session-without-secure-flag-but-protected-by-hsts":        -10,
	"cookies-without-secure-flag":                                      -20,
	"cookies-samesite-flag-invalid":                                    -20,
	"cookies-anticsrf-without-samesite-flag":                           -20,
	"cookies-session-without-httponly-flag":                            -30,
	"cookies-session-without-secure-flag":                              -40,
	"cross-origin-resource-sharing-not-implemented":                    0,
	"cross-origin-resource-sharing-implemented-with-public-access":     0,
	"cross-origin-resource-sharing-implemented-with-restricted-access": 0,
	"cross-origin-resource-sharing-implemented-with-universal-access":  -50,
	"redirection-to-https":                                             0,
	"redirection-not-needed-no-http":                                   0,
	"redirection-off-host-from-http":                                   -5,
	"redirection-not-to-https-on-initial-redirection":                  -10,
	"redirection-not-to-https":                                         -20,
	"redirection-missing":                                              -20,
	"referrer-policy-private":                                          5,
	"referrer-policy-not-implemented":                                  0,
	"referrer-policy-unsafe":                                           -5,
	"referrer-policy-header-invalid":                                   -5,
	"hsts-implemented-max-age-at-least-six-months":                     0,
	"hsts-implemented-max-age-less-than-six-months":                    -10,
	"hsts-not-implemented":                                             -20,
	"hsts-header-invalid":                                              -20,
	"hsts-not-implemented-no-https":                                    -20,
	"sri-implemented-and-all-scripts-loaded-securely":                  5,
	"sri-implemented-and-external-scripts-loaded-securely":             5,
	"sri-not-implemented-response-not-html":                            0,
	"sri-not-implemented-but-no-scripts-loaded":                        0,
	"sri-not-implemented-but-all-scripts-loaded-from-secure-origin":    0,
	"sri-not-implemented-but-external-scripts-loaded-securely":         -5,
	"sri-implemented-but-external-scripts-not-loaded-securely":         -20,
	"sri-not-implemented-and-external-scripts-not-loaded-securely":     -50,
	"x-content-type-options-nosniff":                                   0,
	"x-content-type-options-not-implemented":                           -5,
	"x-content-type-options-header-invalid":                            -5,
	"x-frame-options-implemented-via-csp":                              5,
	"x-frame-options-sameorigin-or-deny":                               0,
	"x-frame-options-allow-from-origin":                                0,
	"x-frame-options-not-implemented":                                  -20,
	"x-frame-options-header-invalid":                                   -20,
	"corp-implemented-with-same-origin":                                10,
	"corp-implemented-with-same-site":                                  10,
	"corp-implemented-with-cross-origin":                               0,
	"corp-header-invalid":                                              -5,
	"corp-not-implemented":                                             0,
}

// grade runs every test and combines the modifiers: bonuses only count when the score
// without them is at least 90.
func grade(in *obsInput) obsScan {
	csp, cspData := obsCSP(in)
	results := map[string]string{
		"content-security-policy":       csp,
		"cookies":                       obsCookies(in),
		"cross-origin-resource-sharing": obsCORS(in),
		"redirection":                   obsRedirection(in),
		"referrer-policy":               obsReferrer(in),
		"strict-transport-security":     obsHSTS(in),
		"subresource-integrity":         obsSRI(in),
		"x-content-type-options":        obsXCTO(in),
		"x-frame-options":               obsXFO(in, cspData),
		"cross-origin-resource-policy":  obsCORP(in),
	}
	scan := obsScan{Tests: map[string]obsTest{}}
	withBonus, uncurved := 100, 100
	for name, res := range results {
		m, ok := obsModifiers[res]
		if !ok {
			panic("no modifier for " + res)
		}
		scan.Tests[name] = obsTest{Result: res, Modifier: m}
		withBonus += m
		if m < 0 {
			uncurved += m
		}
	}
	scan.Score = uncurved
	if uncurved >= 90 {
		scan.Score = withBonus
	}
	scan.Score = max(scan.Score, 0)
	scan.Grade = obsGrade(scan.Score)
	return scan
}

func obsGrade(score int) string {
	chart := map[int]string{100: "A+", 95: "A", 90: "A", 85: "A-", 80: "B+", 75: "B", 70: "B", 65: "B-", 60: "C+",
		55: "C", 50: "C", 45: "C-", 40: "D+", 35: "D", 30: "D", 25: "D-", 20: "F", 15: "F", 10: "F", 5: "F", 0: "F"}
	return chart[min(score-score%5, 100)]
}

// parseObsCSP follows cspParser.js for one policy: directives lower-cased, sources
// lower-cased, a -src directive without sources means 'none', a repeated directive other
// than report-uri/report-to makes the policy invalid (ok == false).
func parseObsCSP(policy string) (map[string][]string, bool, bool) {
	policy = strings.TrimSpace(strings.NewReplacer("\r", "", "\n", "").Replace(policy))
	if len(policy) < len("img-src")-1 {
		return nil, false, false
	}
	out := map[string][]string{}
	dup := false
	for entry := range strings.SplitSeq(policy, ";") {
		f := strings.Fields(entry)
		if len(f) == 0 {
			continue
		}
		d := strings.ToLower(f[0])
		if _, seen := out[d]; seen {
			if d == "report-uri" || d == "report-to" {
				dup = true
				continue
			}
			return nil, false, false
		}
		var srcs []string
		for _, s := range f[1:] {
			srcs = append(srcs, strings.ToLower(s))
		}
		if len(srcs) == 0 && strings.HasSuffix(d, "-src") {
			srcs = []string{"'none'"}
		}
		out[d] = srcs
	}
	return out, dup, true
}

var (
	obsBroad        = []string{"ftp:", "http:", "https:", "*", "http://*", "http://*.*", "https://*", "https://*.*"}
	obsUnsafeInline = []string{"'unsafe-inline'", "data:"}
)

func hasAny(srcs []string, set []string) bool {
	return slices.ContainsFunc(srcs, func(s string) bool { return slices.Contains(set, s) })
}

func hasNonceOrHash(srcs []string) bool {
	return slices.ContainsFunc(srcs, func(s string) bool {
		for _, p := range []string{"'sha256-", "'sha384-", "'sha512-", "'nonce-"} {
			if strings.HasPrefix(s, p) {
				return true
			}
		}
		return false
	})
}

// obsCSP follows csp.js; it also returns the parsed policy (nil when the response sends no policy).
func obsCSP(in *obsInput) (string, map[string][]string) {
	policy, result := obsFirstPolicy(in)
	if result != "" {
		return result, nil
	}
	csp, dup, ok := parseObsCSP(policy)
	if !ok {
		return "csp-header-invalid", nil
	}
	if len(csp) == 0 {
		return "csp-not-implemented", nil
	}
	result = obsCSPResult(in.https, csp)
	if dup && obsCSPPassed(result) {
		result = "csp-implemented-but-duplicate-directives"
	}
	return result, csp
}

// obsFirstPolicy returns the first policy of the response, or the result when there is
// none.
func obsFirstPolicy(in *obsInput) (string, string) {
	for _, v := range in.auto.Header.Values("Content-Security-Policy") {
		p, _, _ := strings.Cut(v, ",")
		return strings.TrimSpace(p), ""
	}
	if in.auto.Header.Get("Content-Security-Policy-Report-Only") != "" {
		return "", "csp-not-implemented-but-reporting-enabled"
	}
	return "", "csp-not-implemented"
}

// obsSources returns the effective sources of a directive: its own, default-src's, or
// "*" when neither is set.
func obsSources(csp map[string][]string, name string) []string {
	for _, n := range []string{name, "default-src"} {
		if v, ok := csp[n]; ok {
			return slices.Clone(v)
		}
	}
	return []string{"*"}
}

// obsScriptSources returns script-src as csp.js weighs it: 'unsafe-inline' ignored next
// to a nonce or hash, and with 'strict-dynamic' host sources ignored too; invalid reports
// 'strict-dynamic' without a nonce or hash.
func obsScriptSources(csp map[string][]string) (srcs []string, invalid bool) {
	srcs = obsWithoutIgnoredInline(obsSources(csp, "script-src"))
	if !slices.Contains(srcs, "'strict-dynamic'") {
		return srcs, false
	}
	if !hasNonceOrHash(srcs) {
		return srcs, true
	}
	return slices.DeleteFunc(srcs, func(s string) bool {
		return s == "'self'" || s == "'unsafe-inline'" || slices.ContainsFunc(obsBroad, func(b string) bool { return strings.HasPrefix(s, b) })
	}), false
}

// obsWithoutIgnoredInline drops 'unsafe-inline', which browsers ignore next to a nonce or
// hash.
func obsWithoutIgnoredInline(srcs []string) []string {
	if !hasNonceOrHash(srcs) {
		return srcs
	}
	return slices.DeleteFunc(srcs, func(s string) bool { return s == "'unsafe-inline'" })
}

// obsContent returns the sources of active content (everything but images and media) and
// passive content (images and media).
func obsContent(csp map[string][]string, scriptSrc []string) (active, passive []string) {
	for d, srcs := range csp {
		if d != "img-src" && d != "media-src" && d != "script-src" {
			active = append(active, srcs...)
		}
	}
	active = append(active, scriptSrc...)
	for _, d := range []string{"img-src", "media-src"} {
		if v, ok := csp[d]; ok {
			passive = append(passive, v...)
		} else {
			passive = append(passive, csp["default-src"]...)
		}
	}
	return active, passive
}

func obsInsecure(l []string) bool {
	return slices.ContainsFunc(l, func(s string) bool { return strings.HasPrefix(s, "http:") || strings.HasPrefix(s, "ftp:") })
}

func obsUnsafe(srcs []string) bool {
	return hasAny(srcs, obsBroad) || hasAny(srcs, obsUnsafeInline)
}

// obsCSPResult returns the first failing check in csp.js's order, or a passing result.
func obsCSPResult(https bool, csp map[string][]string) string {
	scriptSrc, invalid := obsScriptSources(csp)
	styleSrc := obsWithoutIgnoredInline(obsSources(csp, "style-src"))
	objectSrc := obsSources(csp, "object-src")
	active, passive := obsContent(csp, scriptSrc)
	noneDefault := slices.Equal(csp["default-src"], []string{"'none'"})
	for _, c := range []struct {
		fails  bool
		result string
	}{
		{invalid, "csp-header-invalid"},
		{obsUnsafe(scriptSrc) || hasAny(objectSrc, obsBroad), "csp-implemented-with-unsafe-inline"},
		{https && obsInsecure(active), "csp-implemented-with-insecure-scheme"},
		{slices.Contains(scriptSrc, "'unsafe-eval'") || slices.Contains(styleSrc, "'unsafe-eval'"), "csp-implemented-with-unsafe-eval"},
		{https && obsInsecure(passive), "csp-implemented-with-insecure-scheme-in-passive-content-only"},
		{obsUnsafe(styleSrc), "csp-implemented-with-unsafe-inline-in-style-src-only"},
		{noneDefault, "csp-implemented-with-no-unsafe-default-src-none"},
	} {
		if c.fails {
			return c.result
		}
	}
	return "csp-implemented-with-no-unsafe"
}

// obsCSPPassed reports whether result is one csp.js counts as passing.
func obsCSPPassed(result string) bool {
	switch result {
	case "csp-implemented-with-no-unsafe", "csp-implemented-with-no-unsafe-default-src-none",
		"csp-implemented-with-unsafe-inline-in-style-src-only",
		"csp-implemented-with-insecure-scheme-in-passive-content-only":
		return true
	}
	return false
}

type obsCookie struct {
	name                     string
	secure, httpOnly         bool
	sameSite                 string
	sameSiteSet, invalidSame bool
}

func parseObsCookie(line string) (obsCookie, bool) {
	parts := strings.Split(line, ";")
	name, _, ok := strings.Cut(parts[0], "=")
	if !ok || strings.TrimSpace(name) == "" {
		return obsCookie{}, false
	}
	c := obsCookie{name: strings.TrimSpace(name)}
	for _, p := range parts[1:] {
		k, v, hasV := strings.Cut(strings.TrimSpace(p), "=")
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "secure":
			c.secure = true
		case "httponly":
			c.httpOnly = true
		case "samesite":
			v = strings.ToLower(strings.TrimSpace(v))
			if !hasV || (v != "lax" && v != "strict" && v != "none") {
				c.invalidSame = true
				continue
			}
			c.sameSite, c.sameSiteSet = v, true
		}
	}
	return c, true
}

// obsCookieGoodness orders the cookie results from least to most severe.
var obsCookieGoodness = []string{
	"cookies-without-secure-flag-but-protected-by-hsts",
	"cookies-without-secure-flag",
	"cookies-session-without-secure-flag-but-protected-by-hsts",
	"cookies-samesite-flag-invalid",
	"cookies-anticsrf-without-samesite-flag",
	"cookies-session-without-httponly-flag",
	"cookies-session-without-secure-flag",
}

// obsWorst returns the more severe of two results in the order of goodness ("" is none).
func obsWorst(goodness []string, a, b string) string {
	if a == "" || slices.Index(goodness, b) > slices.Index(goodness, a) {
		return b
	}
	return a
}

// obsCookies follows cookies.js.
func obsCookies(in *obsInput) string {
	hsts := obsHSTS(in) == "hsts-implemented-max-age-at-least-six-months"
	result := ""
	found, missingSameSite := false, false
	for _, line := range in.auto.Header.Values("Set-Cookie") {
		c, ok := parseObsCookie(line)
		if c.invalidSame {
			result = obsWorst(obsCookieGoodness, result, "cookies-samesite-flag-invalid")
		}
		if !ok {
			continue
		}
		found = true
		missingSameSite = missingSameSite || !c.sameSiteSet
		for _, flaw := range obsCookieFlaws(c, hsts) {
			result = obsWorst(obsCookieGoodness, result, flaw)
		}
	}
	switch {
	case !found:
		return "cookies-not-found"
	case result != "":
		return result
	case missingSameSite:
		return "cookies-secure-with-httponly-sessions"
	}
	return "cookies-secure-with-httponly-sessions-and-samesite"
}

// obsCookieFlaws lists what cookies.js holds against one cookie.
func obsCookieFlaws(c obsCookie, hsts bool) []string {
	lower := strings.ToLower(c.name)
	session := strings.Contains(lower, "login") || strings.Contains(lower, "sess")
	var flaws []string
	add := func(cond bool, flaw string) {
		if cond {
			flaws = append(flaws, flaw)
		}
	}
	add(!c.secure && c.sameSite == "none", "cookies-samesite-flag-invalid")
	add(!c.secure && hsts, "cookies-without-secure-flag-but-protected-by-hsts")
	add(!c.secure && !hsts, "cookies-without-secure-flag")
	add(strings.Contains(lower, "csrf") && !c.sameSiteSet, "cookies-anticsrf-without-samesite-flag")
	add(session && !c.secure && hsts, "cookies-session-without-secure-flag-but-protected-by-hsts")
	add(session && !c.secure && !hsts, "cookies-session-without-secure-flag")
	add(session && !c.httpOnly, "cookies-session-without-httponly-flag")
	return flaws
}

// obsCORS follows cors.js.
func obsCORS(in *obsInput) string {
	acao := strings.ToLower(strings.TrimSpace(in.cors.Header.Get("Access-Control-Allow-Origin")))
	switch {
	case acao == "":
		return "cross-origin-resource-sharing-not-implemented"
	case acao == "*":
		return "cross-origin-resource-sharing-implemented-with-public-access"
	case in.cors.Header.Get("Access-Control-Allow-Origin") == in.corsReq &&
		strings.ToLower(strings.TrimSpace(in.cors.Header.Get("Access-Control-Allow-Credentials"))) == "true":
		return "cross-origin-resource-sharing-implemented-with-universal-access"
	}
	return "cross-origin-resource-sharing-implemented-with-restricted-access"
}

// obsRedirection follows redirection.js (no preload list).
func obsRedirection(in *obsInput) string {
	r := in.route
	switch {
	case len(r) == 0:
		return "redirection-not-needed-no-http"
	case len(r) == 1:
		return "redirection-missing"
	case r[len(r)-1].Scheme != "https":
		return "redirection-not-to-https"
	case r[1].Scheme == "http":
		return "redirection-not-to-https-on-initial-redirection"
	case r[0].Scheme == "http" && r[1].Scheme == "https" && r[0].Hostname() != r[1].Hostname():
		return "redirection-off-host-from-http"
	}
	return "redirection-to-https"
}

// obsReferrer follows referrer-policy.js.
func obsReferrer(in *obsInput) string {
	vals := in.auto.Header.Values("Referrer-Policy")
	if len(vals) == 0 {
		return "referrer-policy-not-implemented"
	}
	good := []string{"no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"}
	bad := []string{"origin", "origin-when-cross-origin", "unsafe-url", "no-referrer-when-downgrade"}
	policy := ""
	for p := range strings.SplitSeq(strings.Join(vals, ", "), ",") {
		p = strings.ToLower(strings.TrimSpace(p))
		if slices.Contains(good, p) || slices.Contains(bad, p) {
			policy = p
		}
	}
	switch {
	case slices.Contains(good, policy):
		return "referrer-policy-private"
	case slices.Contains(bad, policy):
		return "referrer-policy-unsafe"
	}
	return "referrer-policy-header-invalid"
}

// obsHSTS follows strict-transport-security.js.
func obsHSTS(in *obsInput) string {
	if !in.https {
		return "hsts-not-implemented-no-https"
	}
	vals := in.auto.Header.Values("Strict-Transport-Security")
	if len(vals) == 0 {
		return "hsts-not-implemented"
	}
	v := vals[0]
	if len(v) > 1024 {
		v = v[:1024]
	}
	if strings.Contains(v, ",") {
		return "hsts-header-invalid"
	}
	maxAge := -1
	for p := range strings.SplitSeq(v, ";") {
		p = strings.ToLower(strings.TrimSpace(p))
		if rest, ok := strings.CutPrefix(p, "max-age="); ok {
			digits := rest
			for i, c := range rest {
				if c < '0' || c > '9' {
					digits = rest[:i]
					break
				}
			}
			n, err := strconv.Atoi(digits)
			if err != nil {
				return "hsts-header-invalid"
			}
			maxAge = n
		}
	}
	switch {
	case maxAge < 0:
		return "hsts-header-invalid"
	case maxAge < 15552000:
		return "hsts-implemented-max-age-less-than-six-months"
	}
	return "hsts-implemented-max-age-at-least-six-months"
}

var (
	obsScriptTag = regexp.MustCompile(`(?is)<script\b([^>]*)>`)
	obsAttr      = regexp.MustCompile(`(?is)\b(src|integrity)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))`)
)

// obsSRIGoodness orders the SRI results from best to worst.
var obsSRIGoodness = []string{
	"sri-implemented-and-all-scripts-loaded-securely",
	"sri-implemented-and-external-scripts-loaded-securely",
	"sri-implemented-but-external-scripts-not-loaded-securely",
	"sri-not-implemented-but-external-scripts-loaded-securely",
	"sri-not-implemented-and-external-scripts-not-loaded-securely",
	"sri-not-implemented-response-not-html",
}

// obsSRI follows subresource-integrity.js, with the registrable domain simplified to the
// host name.
func obsSRI(in *obsInput) string {
	mime, _, _ := strings.Cut(in.auto.Header.Get("Content-Type"), ";")
	mime = strings.TrimSpace(mime)
	if mime != "" && mime != "text/html" && mime != "application/xhtml+xml" {
		return "sri-not-implemented-response-not-html"
	}
	scripts := obsScriptTag.FindAllStringSubmatch(string(in.autoBody), -1)
	if len(scripts) == 0 {
		return "sri-not-implemented-but-no-scripts-loaded"
	}
	result, foreign := "", false
	for _, s := range scripts {
		attrs := map[string]string{}
		for _, a := range obsAttr.FindAllStringSubmatch(s[1], -1) {
			attrs[strings.ToLower(a[1])] = a[2] + a[3] + a[4]
		}
		if attrs["src"] == "" {
			continue
		}
		external, verdict := obsScriptVerdict(in, attrs["src"], attrs["integrity"] != "")
		foreign = foreign || external
		if external {
			result = obsWorst(obsSRIGoodness, result, verdict)
		} else if verdict != "" && result == "" {
			result = verdict
		}
	}
	switch {
	case result != "":
		return result
	case foreign:
		return "sri-implemented-and-external-scripts-loaded-securely"
	}
	return "sri-not-implemented-but-all-scripts-loaded-from-secure-origin"
}

// obsScriptVerdict judges one script src: whether it is loaded from another origin, and
// the result it earns ("" when it earns none).
func obsScriptVerdict(in *obsInput, src string, integrity bool) (external bool, verdict string) {
	relOrigin, sameOrigin := obsScriptOrigin(in, src)
	secureScheme := strings.HasPrefix(src, "https://") || (relOrigin && in.https)
	if sameOrigin {
		if integrity && secureScheme {
			return false, "sri-implemented-and-all-scripts-loaded-securely"
		}
		return false, ""
	}
	switch {
	case integrity && !secureScheme:
		return true, "sri-implemented-but-external-scripts-not-loaded-securely"
	case !integrity && secureScheme:
		return true, "sri-not-implemented-but-external-scripts-loaded-securely"
	case !integrity:
		return true, "sri-not-implemented-and-external-scripts-not-loaded-securely"
	}
	return true, ""
}

// obsScriptOrigin reports whether src is relative to the origin ("/app.js") and whether
// it loads from the page's origin (relative, or an absolute URL on the same host; a
// protocol-relative "//host/x.js" never counts).
func obsScriptOrigin(in *obsInput, src string) (relOrigin, sameOrigin bool) {
	relProto := strings.HasPrefix(src, "//")
	full := strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://")
	if !relProto && !full {
		return true, true
	}
	if relProto {
		return false, false
	}
	u, err := url.Parse(src)
	return false, err == nil && u.Hostname() == in.auto.Request.URL.Hostname()
}

// obsXCTO follows x-content-type-options.js.
func obsXCTO(in *obsInput) string {
	v := in.auto.Header.Get("X-Content-Type-Options")
	switch {
	case v == "":
		return "x-content-type-options-not-implemented"
	case strings.ToLower(strings.TrimSpace(v)) == "nosniff":
		return "x-content-type-options-nosniff"
	}
	return "x-content-type-options-header-invalid"
}

// obsXFO follows x-frame-options.js.
func obsXFO(in *obsInput, csp map[string][]string) string {
	if _, ok := csp["frame-ancestors"]; ok {
		return "x-frame-options-implemented-via-csp"
	}
	v := strings.ToLower(strings.TrimSpace(in.auto.Header.Get("X-Frame-Options")))
	switch {
	case v == "":
		return "x-frame-options-not-implemented"
	case v == "deny" || v == "sameorigin":
		return "x-frame-options-sameorigin-or-deny"
	case strings.HasPrefix(v, "allow-from"):
		return "x-frame-options-allow-from-origin"
	}
	return "x-frame-options-header-invalid"
}

// obsCORP follows cross-origin-resource-policy.js.
func obsCORP(in *obsInput) string {
	switch v := strings.ToLower(strings.TrimSpace(in.auto.Header.Get("Cross-Origin-Resource-Policy"))); v {
	case "":
		return "corp-not-implemented"
	case "same-site":
		return "corp-implemented-with-same-site"
	case "same-origin":
		return "corp-implemented-with-same-origin"
	case "cross-origin":
		return "corp-implemented-with-cross-origin"
	}
	return "corp-header-invalid"
}

// observatoryOrigin is the Origin the Observatory sends with its CORS probe.
const observatoryOrigin = "https://http-observatory.security.mozilla.org"

// retrieve fetches what the Observatory fetches: the http:// URL with redirects recorded
// one hop at a time (at most 10), the https:// URL, and the https:// URL with an Origin.
// httpURL may be empty when the site has no plain listener.
func retrieve(client *http.Client, httpURL, httpsURL string) (*obsInput, error) {
	in := &obsInput{corsReq: observatoryOrigin}
	if httpURL != "" {
		var err error
		if in.route, err = redirectRoute(client, httpURL); err != nil {
			return nil, err
		}
	}
	var err error
	if in.auto, in.autoBody, err = fetch(client, httpsURL, ""); err != nil {
		return nil, err
	}
	if in.cors, _, err = fetch(client, httpsURL, in.corsReq); err != nil {
		return nil, err
	}
	in.https = in.auto.Request.URL.Scheme == "https"
	return in, nil
}

// redirectRoute follows the redirects from start one hop at a time (at most 10) and
// returns every URL visited, start first.
func redirectRoute(client *http.Client, start string) ([]*url.URL, error) {
	noFollow := *client
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if tr, ok := client.Transport.(*http.Transport); ok {
		tr = tr.Clone()
		tr.TLSClientConfig = tr.TLSClientConfig.Clone()
		if tr.TLSClientConfig == nil {
			tr.TLSClientConfig = &tls.Config{}
		}
		noFollow.Transport = tr
	}
	u, err := url.Parse(start)
	if err != nil {
		return nil, err
	}
	route := []*url.URL{u}
	for range 10 {
		resp, err := noFollow.Get(u.String())
		if err != nil {
			return nil, err
		}
		_ = resp.Body.Close()
		loc := resp.Header.Get("Location")
		if resp.StatusCode < 300 || resp.StatusCode > 399 || loc == "" {
			break
		}
		if u, err = u.Parse(loc); err != nil {
			return nil, err
		}
		route = append(route, u)
	}
	return route, nil
}

// fetch GETs target, with an Origin header when origin is set, and reads the body.
func fetch(client *http.Client, target, origin string) (*http.Response, []byte, error) {
	req, err := http.NewRequest(http.MethodGet, target, nil)
	if err != nil {
		return nil, nil, err
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, body, err
}
