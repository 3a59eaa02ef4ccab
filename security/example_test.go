package security_test

import (
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/nexus-reussite/harden/security"
)

// The production defaults: headers on HTTPS responses, plain HTTP redirected.
func Example() {
	sec, err := security.New(security.Config{AllowedHosts: []string{"api.example.com"}})
	if err != nil {
		log.Fatal(err)
	}
	h := sec.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "hello")
	}))

	req := httptest.NewRequest(http.MethodGet, "https://api.example.com/", nil)
	req.TLS = &tls.ConnectionState{}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	for _, k := range []string{"Strict-Transport-Security", "X-Frame-Options", "Referrer-Policy", "Cross-Origin-Resource-Policy"} {
		fmt.Printf("%s: %s\n", k, rec.Header().Get(k))
	}

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "http://api.example.com/login?next=/", nil))
	fmt.Println(rec.Code, rec.Header().Get("Location"))

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://evil.example/", nil))
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"))
	// Output:
	// Strict-Transport-Security: max-age=31536000; includeSubDomains
	// X-Frame-Options: DENY
	// Referrer-Policy: strict-origin-when-cross-origin
	// Cross-Origin-Resource-Policy: same-origin
	// 308 https://api.example.com/login?next=/
	// 400 application/problem+json
}

// A template reads the per-request nonce; the CSP header carries the same value.
func ExampleNonce() {
	sec, err := security.New(security.Config{Profile: security.Development})
	if err != nil {
		log.Fatal(err)
	}
	h := sec.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<script nonce="%s">boot()</script>`, security.Nonce(r.Context()))
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://localhost/", nil))
	nonce := strings.TrimSuffix(strings.TrimPrefix(rec.Body.String(), `<script nonce="`), `">boot()</script>`)
	fmt.Println(len(nonce), strings.Contains(rec.Header().Get("Content-Security-Policy"), "script-src 'self' 'nonce-"+nonce+"'"))
	// Output:
	// 24 true
}

// A route with its own policy, and the builder.
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
	// Output:
	// 204 https://app.example.com 3600
	// 403
}
