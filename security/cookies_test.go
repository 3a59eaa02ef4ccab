package security

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCookieHardening(t *testing.T) {
	s := mustNew(t, Config{Cookies: Cookies{ScriptReadable: []string{"csrf_token"}}})
	h := s.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hdr := w.Header()
		hdr.Add("Set-Cookie", "session=abc; Path=/")
		hdr.Add("Set-Cookie", "csrf_token=t; Path=/")
		hdr.Add("Set-Cookie", "pref=dark; secure; HTTPONLY; samesite=strict")
		hdr.Add("Set-Cookie", "cross=1; SameSite=None")
		hdr.Add("Set-Cookie", "trail=1; Path=/; ")
		hdr.Add("Set-Cookie", "novalue")
		hdr.Add("Set-Cookie", "=anon")
		hdr.Add("Set-Cookie", "  ")
		hdr.Add("Set-Cookie", "weird=a=b;;Max-Age=10")
		http.SetCookie(w, &http.Cookie{Name: "std", Value: "v", HttpOnly: true})
		w.WriteHeader(http.StatusCreated)
	}))

	rec := serve(h, newReq(http.MethodGet, "https://a.example/", nil, withTLS()))
	require.Equal(t, http.StatusCreated, rec.Code)
	assert.Equal(t, []string{
		"session=abc; Path=/; Secure; HttpOnly; SameSite=Lax",
		"csrf_token=t; Path=/; Secure; SameSite=Lax",
		"pref=dark; secure; HTTPONLY; samesite=strict",
		"cross=1; SameSite=None; Secure; HttpOnly",
		"trail=1; Path=/; Secure; HttpOnly; SameSite=Lax",
		"novalue; Secure; HttpOnly; SameSite=Lax",
		"=anon; Secure; HttpOnly; SameSite=Lax",
		"  ",
		"weird=a=b;;Max-Age=10; Secure; HttpOnly; SameSite=Lax",
		"std=v; HttpOnly; Secure; SameSite=Lax",
	}, rec.Header().Values("Set-Cookie"))

	// Over plain HTTP (development), Secure is not added except where SameSite=None needs it.
	s = mustNew(t, Config{Profile: Development})
	rec = serve(s.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Set-Cookie", "session=abc")
		w.Header().Add("Set-Cookie", "cross=1; SameSite=None")
		_, _ = w.Write([]byte("x"))
	})), newReq(http.MethodGet, "http://localhost/", nil))
	assert.Equal(t, []string{"session=abc; HttpOnly; SameSite=Lax", "cross=1; SameSite=None; Secure; HttpOnly"},
		rec.Header().Values("Set-Cookie"))
}

func TestCookiesHardenedWithoutExplicitWrite(t *testing.T) {
	s := mustNew(t, Config{})
	for name, h := range map[string]http.HandlerFunc{
		"no write": func(w http.ResponseWriter, r *http.Request) { w.Header().Add("Set-Cookie", "a=1") },
		"write": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Add("Set-Cookie", "a=1")
			_, _ = w.Write([]byte("x"))
		},
		"flush": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Add("Set-Cookie", "a=1")
			require.NoError(t, http.NewResponseController(w).Flush())
		},
	} {
		rec := serve(s.Handler(h), newReq(http.MethodGet, "https://a.example/", nil, withTLS()))
		assert.Equal(t, []string{"a=1; Secure; HttpOnly; SameSite=Lax"}, rec.Header().Values("Set-Cookie"), name)
	}
}

func TestCookieSameSiteModesAndDisable(t *testing.T) {
	for mode, want := range map[http.SameSite]string{
		http.SameSiteStrictMode: "a=1; Secure; HttpOnly; SameSite=Strict",
		http.SameSiteNoneMode:   "a=1; Secure; HttpOnly; SameSite=None",
		http.SameSiteLaxMode:    "a=1; Secure; HttpOnly; SameSite=Lax",
	} {
		s := mustNew(t, Config{Cookies: Cookies{SameSite: mode}})
		rec := serve(s.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Add("Set-Cookie", "a=1")
		})), newReq(http.MethodGet, "https://a.example/", nil, withTLS()))
		assert.Equal(t, want, rec.Header().Get("Set-Cookie"))
	}
	s := mustNew(t, Config{Cookies: Cookies{Disable: true}})
	rec := serve(s.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Set-Cookie", "a=1")
	})), newReq(http.MethodGet, "https://a.example/", nil, withTLS()))
	assert.Equal(t, "a=1", rec.Header().Get("Set-Cookie"))
	_, err := New(Config{Cookies: Cookies{SameSite: 42}})
	assert.ErrorIs(t, err, ErrInvalidConfig)
}

func TestCookieLineUnchangedKeepsString(t *testing.T) {
	c, err := newCookieHardener(Cookies{})
	require.NoError(t, err)
	line := "a=1; Secure; HttpOnly; SameSite=Lax"
	out, changed := c.hardenLine(line, true)
	assert.False(t, changed)
	assert.Equal(t, line, out)
	assert.Equal(t, 0.0, testing.AllocsPerRun(100, func() { c.hardenLine(line, true) }))
}
