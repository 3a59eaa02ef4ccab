package security_test

import (
	"crypto/tls"
	"fmt"
	"html"
	"html/template"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"regexp"

	"github.com/nexus-reussite/harden/security"
)

// The configuration of the package documentation: headers on HTTPS responses, plain HTTP
// redirected to the listed host, other hosts refused, probes left alone.
func Example() {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "hello") })

	sec, err := security.New(security.Config{
		AllowedHosts:   []string{"api.example.com"},
		TrustedProxies: []string{"10.0.0.0/8"},
		ExemptPaths:    []string{"/live", "/ready"},
		CORS:           security.CORS{Origins: []string{"https://app.example.com"}, AllowCredentials: true},
	})
	if err != nil {
		log.Fatal(err)
	}
	handler := sec.Handler(mux)

	req := httptest.NewRequest(http.MethodGet, "https://api.example.com/", nil)
	req.TLS = &tls.ConnectionState{}
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	for _, k := range []string{"Strict-Transport-Security", "X-Frame-Options", "Referrer-Policy", "Cross-Origin-Resource-Policy"} {
		fmt.Printf("%s: %s\n", k, rec.Header().Get(k))
	}

	rec = httptest.NewRecorder()
	handler.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "http://api.example.com/login?next=/", nil))
	fmt.Println(rec.Code, rec.Header().Get("Location"))

	rec = httptest.NewRecorder()
	handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://evil.example/", nil))
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"))

	rec = httptest.NewRecorder()
	handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://10.1.2.3:5000/live", nil))
	fmt.Println(rec.Code, rec.Body.String())
	// Output:
	// Strict-Transport-Security: max-age=31536000; includeSubDomains
	// X-Frame-Options: DENY
	// Referrer-Policy: strict-origin-when-cross-origin
	// Cross-Origin-Resource-Policy: same-origin
	// 308 https://api.example.com/login?next=/
	// 400 application/problem+json
	// 200 hello
}

// Without AllowedHosts no redirect can name a host nobody listed, so plain HTTP gets a
// 400 problem instead; ["*"] asks for redirects to whatever host the request names.
func Example_allowedHosts() {
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	plain := httptest.NewRequest(http.MethodGet, "http://shop.example/cart", nil)

	zero, err := security.New(security.Config{})
	if err != nil {
		log.Fatal(err)
	}
	rec := httptest.NewRecorder()
	zero.Handler(app).ServeHTTP(rec, plain)
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"), len(rec.Header().Values("Location")))

	anyHost, err := security.New(security.Config{AllowedHosts: []string{"*"}})
	if err != nil {
		log.Fatal(err)
	}
	rec = httptest.NewRecorder()
	anyHost.Handler(app).ServeHTTP(rec, plain)
	fmt.Println(rec.Code, rec.Header().Get("Location"))
	// Output:
	// 400 application/problem+json 0
	// 308 https://shop.example/cart
}

// Behind a proxy that appends RFC 7239 Forwarded elements, only the element the proxy
// appended is believed: the client's own element on its left, claiming https and another
// host, changes nothing.
func Example_forwarded() {
	sec, err := security.New(security.Config{
		AllowedHosts:   []string{"api.example.com"},
		TrustedProxies: []string{"10.0.0.0/8"},
		ClientIPHeader: "Forwarded",
	})
	if err != nil {
		log.Fatal(err)
	}
	h := sec.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))

	req := httptest.NewRequest(http.MethodGet, "http://api.example.com/account", nil)
	req.RemoteAddr = "10.0.0.2:41000"                                          // the proxy
	req.Header.Add("Forwarded", "for=192.0.2.1;proto=https;host=evil.example") // sent by the client
	req.Header.Add("Forwarded", "for=198.51.100.7;proto=http")                 // appended by the proxy
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Header().Get("Location"))
	// Output:
	// 308 https://api.example.com/account
}

// A template puts the per-request nonce on inline scripts; the CSP header carries the
// same value.
func ExampleNonce() {
	page := template.Must(template.New("page").Parse(`<script nonce="{{.Nonce}}">boot()</script>`))
	sec, err := security.New(security.Config{Profile: security.Development})
	if err != nil {
		log.Fatal(err)
	}
	h := sec.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = page.Execute(w, struct{ Nonce string }{security.Nonce(r.Context())})
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://localhost/", nil))
	// The template escapes '+' in attributes; the browser reads the nonce unescaped.
	nonce := html.UnescapeString(regexp.MustCompile(`nonce="([^"]+)"`).FindStringSubmatch(rec.Body.String())[1])
	fmt.Println(len(nonce), regexp.MustCompile(`script-src 'self' 'nonce-`+regexp.QuoteMeta(nonce)+`'`).MatchString(rec.Header().Get("Content-Security-Policy")))
	// Output:
	// 24 true
}

// Policies are built from DefaultCSP or APICSP; With and Without return copies.
func ExampleCSP_With() {
	csp := security.DefaultCSP().With("img-src", "'self'", "https://cdn.example.com")
	fmt.Println(csp["img-src"], security.DefaultCSP()["img-src"], csp.Validate())
	fmt.Println(security.APICSP().Without("form-action"))
	fmt.Println(security.CSP{"script-src": {"'self'; evil"}}.Validate())
	// Output:
	// ['self' https://cdn.example.com] ['self'] <nil>
	// default-src 'none'; base-uri 'none'; frame-ancestors 'none'
	// security: invalid configuration: CSP directive script-src: source "'self'; evil" contains a forbidden character
}

// A route with its own policy.
func ExampleSecurity_WithCSP() {
	sec, err := security.New(security.Config{Profile: security.Development, CSP: security.CSPConfig{Policy: security.APICSP()}})
	if err != nil {
		log.Fatal(err)
	}
	embed, err := sec.WithCSP(security.APICSP().With("frame-ancestors", "https://partner.example"),
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/embed", embed)
	rec := httptest.NewRecorder()
	sec.Handler(mux).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://localhost/embed", nil))
	fmt.Println(rec.Header().Get("Content-Security-Policy"))
	// Output:
	// default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors https://partner.example
}

// Cross-origin preflight from an allowed front end, and a forged cross-site POST.
func ExampleCORS() {
	sec, err := security.New(security.Config{Profile: security.Development,
		CORS: security.CORS{Origins: []string{"https://app.example.com"}, AllowCredentials: true}})
	if err != nil {
		log.Fatal(err)
	}
	h := sec.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))

	req := httptest.NewRequest(http.MethodOptions, "http://localhost/api/items", nil)
	req.Header.Set("Origin", "https://app.example.com")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type, authorization")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Header().Get("Access-Control-Allow-Origin"), rec.Header().Get("Access-Control-Max-Age"))

	req = httptest.NewRequest(http.MethodPost, "http://localhost/api/items", nil)
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println(rec.Code)

	_, err = security.New(security.Config{CORS: security.CORS{Origins: []string{"*"}, AllowCredentials: true}})
	fmt.Println(err)
	// Output:
	// 204 https://app.example.com 3600
	// 403
	// security: invalid configuration: CORS origin "*" cannot be combined with AllowCredentials
}
