// Package securitybench compares the security middleware with the stacks a Go user would
// assemble instead: unrolled/secure alone with the same header set, and a
// Flask-Talisman + Flask-CORS equivalent (unrolled/secure with a CSP nonce, rs/cors,
// http.CrossOriginProtection and http.MaxBytesHandler).
//
//	go test -run '^$' -bench . -benchmem -benchtime=200ms ./security/
package securitybench

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/nexus-reussite/harden/security"
	"github.com/rs/cors"
	"github.com/unrolled/secure"
)

// sink is a ResponseWriter whose header map is cleared, not reallocated, between
// requests, so the numbers are the middleware's own.
type sink struct {
	h    http.Header
	code int
}

func (s *sink) Header() http.Header         { return s.h }
func (s *sink) Write(p []byte) (int, error) { return len(p), nil }
func (s *sink) WriteHeader(c int)           { s.code = c }

var body = []byte(`{"formulas":[{"id":1,"name":"Groupe Réussite","price":180}]}`)

func app() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
}

// The header set the harden defaults send, expressed for unrolled/secure.
const cspTemplate = "default-src 'none'; base-uri 'none'; connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; img-src 'self'; manifest-src 'self'; script-src 'self' $NONCE; style-src 'self' $NONCE"

func secureOptions(csp string) secure.Options {
	return secure.Options{
		AllowedHosts:              []string{"api.example.com"},
		SSLRedirect:               true,
		STSSeconds:                31536000,
		STSIncludeSubdomains:      true,
		FrameDeny:                 true,
		ContentTypeNosniff:        true,
		ContentSecurityPolicy:     csp,
		ReferrerPolicy:            "strict-origin-when-cross-origin",
		PermissionsPolicy:         "camera=(), geolocation=(), microphone=()",
		CrossOriginOpenerPolicy:   "same-origin",
		CrossOriginResourcePolicy: "same-origin",
	}
}

func hardenHandler(b *testing.B, cfg security.Config) http.Handler {
	cfg.AllowedHosts = []string{"api.example.com"}
	s, err := security.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return s.Handler(app())
}

// talisman assembles the peer stack for a Flask-Talisman + Flask-CORS +
// MAX_CONTENT_LENGTH deployment.
func talisman(b *testing.B) http.Handler {
	cop := http.NewCrossOriginProtection()
	if err := cop.AddTrustedOrigin("https://app.example.com"); err != nil {
		b.Fatal(err)
	}
	c := cors.New(cors.Options{
		AllowedOrigins:   []string{"https://app.example.com"},
		AllowedMethods:   []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"},
		AllowedHeaders:   []string{"Accept", "Authorization", "Content-Type", "X-Request-ID"},
		AllowCredentials: true,
		MaxAge:           3600,
	})
	return secure.New(secureOptions(cspTemplate)).Handler(c.Handler(cop.Handler(http.MaxBytesHandler(app(), 16<<20))))
}

func corsConfig() security.Config {
	return security.Config{CORS: security.CORS{Origins: []string{"https://app.example.com"}, AllowCredentials: true}}
}

func run(b *testing.B, h http.Handler, r *http.Request, want int) {
	w := &sink{h: http.Header{}}
	h.ServeHTTP(w, r)
	if want == 0 {
		want = http.StatusOK
	}
	if w.code != 0 && w.code != want {
		b.Fatalf("status %d, want %d", w.code, want)
	}
	b.ReportAllocs()
	// One locked OS thread, so its CPU time per request (cpu-ns/op) can be reported: other
	// load on the machine disturbs it far less than wall time.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	c0, ok := threadCPU()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, r)
	}
	if c1, ok1 := threadCPU(); ok && ok1 {
		b.ReportMetric(float64(c1-c0)/float64(b.N), "cpu-ns/op")
	}
}

func httpsGET(origin string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "https://api.example.com/api/formulas", nil)
	r.TLS = &tls.ConnectionState{}
	if origin != "" {
		r.Header.Set("Origin", origin)
	}
	return r
}

// BenchmarkHeaders is the per-request cost of the header middleware on an HTTPS GET.
func BenchmarkHeaders(b *testing.B) {
	r := httpsGET("")
	b.Run("bare", func(b *testing.B) { run(b, app(), r, 0) })
	b.Run("unrolled-secure/nonce", func(b *testing.B) { run(b, secure.New(secureOptions(cspTemplate)).Handler(app()), r, 0) })
	b.Run("harden/default", func(b *testing.B) { run(b, hardenHandler(b, security.Config{}), r, 0) })
	static := security.APICSP().String()
	b.Run("unrolled-secure/static-csp", func(b *testing.B) { run(b, secure.New(secureOptions(static)).Handler(app()), r, 0) })
	b.Run("harden/static-csp", func(b *testing.B) {
		run(b, hardenHandler(b, security.Config{CSP: security.CSPConfig{Policy: security.APICSP()}}), r, 0)
	})
}

// BenchmarkStack compares the whole Talisman-equivalent stack on a credentialed
// cross-origin GET and on a preflight.
func BenchmarkStack(b *testing.B) {
	get := httpsGET("https://app.example.com")
	pre := httpsGET("https://app.example.com")
	pre.Method = http.MethodOptions
	pre.Header.Set("Access-Control-Request-Method", "POST")
	pre.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
	b.Run("talisman-equivalent/cors-get", func(b *testing.B) { run(b, talisman(b), get, 0) })
	b.Run("harden/cors-get", func(b *testing.B) { run(b, hardenHandler(b, corsConfig()), get, 0) })
	b.Run("talisman-equivalent/preflight", func(b *testing.B) { run(b, talisman(b), pre, http.StatusNoContent) })
	b.Run("harden/preflight", func(b *testing.B) { run(b, hardenHandler(b, corsConfig()), pre, http.StatusNoContent) })
}

// BenchmarkRatio alternates batches of requests through harden and unrolled/secure (same
// headers, per-request nonce) in one loop and reports harden's time per request relative
// to the peer's; the target is at most 1.2.
func BenchmarkRatio(b *testing.B) {
	r := httpsGET("")
	peer := secure.New(secureOptions(cspTemplate)).Handler(app())
	ours := hardenHandler(b, security.Config{})
	w := &sink{h: http.Header{}}
	const batch = 64
	var tPeer, tOurs time.Duration
	for b.Loop() {
		t0 := time.Now()
		for range batch {
			clear(w.h)
			peer.ServeHTTP(w, r)
		}
		t1 := time.Now()
		for range batch {
			clear(w.h)
			ours.ServeHTTP(w, r)
		}
		tOurs += time.Since(t1)
		tPeer += t1.Sub(t0)
	}
	b.ReportMetric(float64(tOurs)/float64(tPeer), "ns-ratio")
	b.ReportMetric(0, "ns/op")
}

// The peers really do their job in this configuration (a benchmark of a stack that
// rejects everything would be meaningless).
func TestStacksServe(t *testing.T) {
	b := &testing.B{}
	for name, h := range map[string]http.Handler{
		"talisman": talisman(b), "harden": hardenHandler(b, corsConfig()),
		"secure": secure.New(secureOptions(cspTemplate)).Handler(app()),
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httpsGET("https://app.example.com"))
		got, _ := io.ReadAll(rec.Body)
		if rec.Code != http.StatusOK || string(got) != string(body) || rec.Header().Get("Strict-Transport-Security") == "" ||
			rec.Header().Get("Content-Security-Policy") == "" {
			t.Errorf("%s: %d %q %v", name, rec.Code, got, rec.Header())
		}
		if name != "secure" && rec.Header().Get("Access-Control-Allow-Origin") != "https://app.example.com" {
			t.Errorf("%s: no CORS", name)
		}
	}
}
