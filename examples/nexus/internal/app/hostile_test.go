package app

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/nexus-reussite/harden/examples/nexus/internal/auth"
)

// TestHostileRequestBodies: malformed, mistyped, oversized and surprising bodies get a
// 4xx problem, never a 500 or a partial effect.
func TestHostileRequestBodies(t *testing.T) {
	eachBackend(t, func(t *testing.T, be backend) {
		s := newTestServer(t, be, nil)
		admin := s.login(demoAdmin, demoPassword).AccessToken
		cases := []struct {
			name string
			body string
			ct   string
			want int
		}{
			{"malformed", `{"email": "a@b.c", `, "application/json", http.StatusBadRequest},
			{"not an object", `["a@b.c"]`, "application/json", http.StatusBadRequest},
			{"wrong type", `{"email": 42, "password": "x"}`, "application/json", http.StatusBadRequest},
			{"unknown field", `{"email": "a@b.c", "password": "12345678", "role": "admin"}`, "application/json", http.StatusBadRequest},
			{"two objects", `{"email":"a@b.c","password":"x"}{"email":"d@e.f"}`, "application/json", http.StatusBadRequest},
			{"empty", ``, "application/json", http.StatusBadRequest},
			{"form encoded", `email=a@b.c&password=x`, "application/x-www-form-urlencoded", http.StatusUnsupportedMediaType},
			{"no content type", `{"email":"a@b.c","password":"x"}`, "", http.StatusUnsupportedMediaType},
			{"nul bytes", "{\"email\":\"a\x00@b.c\",\"password\":\"x\"}", "application/json", http.StatusBadRequest},
			{"huge", `{"email":"` + strings.Repeat("a", 2<<20) + `@b.c","password":"x"}`, "application/json", http.StatusRequestEntityTooLarge},
		}
		for _, c := range cases {
			req, _ := http.NewRequest("POST", s.srv.URL+"/api/auth/login", strings.NewReader(c.body))
			if c.ct != "" {
				req.Header.Set("Content-Type", c.ct)
			}
			resp, err := s.srv.Client().Do(req)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			resp.Body.Close()
			if resp.StatusCode != c.want || resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("%s: %d %s, want %d problem+json", c.name, resp.StatusCode, resp.Header.Get("Content-Type"), c.want)
			}
		}

		// Markup, bad enums and out-of-range values are refused.
		for _, body := range []map[string]any{
			{"email": "x@example.tn", "password": strongPassword, "first_name": "<script>alert(1)</script>", "last_name": "Y", "role": "student"},
			{"email": "not-an-email", "password": strongPassword, "first_name": "X", "last_name": "Y", "role": "student"},
			{"email": "Name <x@example.tn>", "password": strongPassword, "first_name": "X", "last_name": "Y", "role": "student"},
			{"email": "x@example.tn", "password": "short", "first_name": "X", "last_name": "Y", "role": "student"},
			{"email": "x@example.tn", "password": strings.Repeat("p", 73), "first_name": "X", "last_name": "Y", "role": "student"},
			{"email": "x@example.tn", "password": strongPassword, "first_name": "X", "last_name": "Y", "role": "student", "grade_level": "licence"},
		} {
			s.expect(http.StatusBadRequest, "POST", "/api/auth/register", "", body)
		}
		f := s.expect(http.StatusOK, "GET", "/api/formulas/1", "", nil).json(t)
		for k, v := range map[string]any{"price": -5, "type": "free", "max_students": 0, "id": 2, "currency": "EUR"} {
			bad := map[string]any{}
			for kk, vv := range f {
				bad[kk] = vv
			}
			bad[k] = v
			s.expect(http.StatusBadRequest, "PUT", "/api/formulas/1", admin, bad)
		}

		// SQL-looking input is data, not SQL.
		for _, q := range []string{`' OR '1'='1`, `%`, `_`, `"; DROP TABLE users; --`, `\`, strings.Repeat("é", 50)} {
			r := s.expect(http.StatusOK, "GET", "/api/students?search="+urlQuery(q), admin, nil).json(t)
			if num(t, r, "total") != 0 {
				t.Errorf("search %q matched %v students", q, r["total"])
			}
		}
		s.expect(http.StatusUnauthorized, "POST", "/api/auth/login", "", map[string]string{"email": demoAdmin + "' --", "password": "x"})
		s.expect(http.StatusUnauthorized, "POST", "/api/auth/login", "", map[string]string{"email": "' OR 1=1 --", "password": "' OR 1=1 --"})
		s.expect(http.StatusOK, "GET", "/api/students?search="+urlQuery("hadd"), admin, nil)

		// Hostile ids and paging.
		for _, p := range []string{"/api/students/1%20OR%201=1", "/api/students/-1", "/api/students/0", "/api/students/99999999999999999999", "/api/formulas/abc"} {
			r := s.request("GET", p, admin, nil)
			if r.status != http.StatusNotFound {
				t.Errorf("GET %s: %d, want 404", p, r.status)
			}
		}
		for _, q := range []string{"page=0", "page=-1", "per_page=1000", "page=abc", "grade_level=licence"} {
			s.expect(http.StatusBadRequest, "GET", "/api/students?"+q, admin, nil)
		}

		// Wrong method: 405 problem with Allow.
		r := s.expect(http.StatusMethodNotAllowed, "DELETE", "/api/formulas", admin, nil)
		if !strings.Contains(r.header.Get("Allow"), "GET") {
			t.Errorf("405 Allow %q", r.header.Get("Allow"))
		}
		s.expect(http.StatusNotFound, "GET", "/api/nope", "", nil)
	})
}

func urlQuery(s string) string {
	r := strings.NewReplacer("%", "%25", " ", "%20", "'", "%27", `"`, "%22", ";", "%3B", "&", "%26", "#", "%23", `\`, "%5C", "+", "%2B")
	return r.Replace(s)
}

// TestBodyLimitFromEnvironment: MAX_CONTENT_LENGTH is enforced before any handler.
func TestBodyLimitFromEnvironment(t *testing.T) {
	s := newTestServer(t, sqliteBackend(t), map[string]string{"MAX_CONTENT_LENGTH": "1KiB"})
	s.expect(http.StatusRequestEntityTooLarge, "POST", "/api/auth/login", "", `{"email":"`+strings.Repeat("a", 2048)+`","password":"x"}`)
}

// TestHostileTokens: only unexpired, unrevoked HS256 access tokens signed with
// JWT_SECRET_KEY open protected routes.
func TestHostileTokens(t *testing.T) {
	eachBackend(t, func(t *testing.T, be backend) {
		s := newTestServer(t, be, nil)
		pair := s.login(demoStudent, demoPassword)
		s.expect(http.StatusOK, "GET", "/api/auth/me", pair.AccessToken, nil)

		parts := strings.Split(pair.AccessToken, ".")
		var claimsMap map[string]any
		raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
		_ = json.Unmarshal(raw, &claimsMap)

		sign := func(method jwt.SigningMethod, key any, mutate func(jwt.MapClaims)) string {
			c := jwt.MapClaims{}
			for k, v := range claimsMap {
				c[k] = v
			}
			if mutate != nil {
				mutate(c)
			}
			tok, err := jwt.NewWithClaims(method, c).SignedString(key)
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}
		key := []byte(s.app.cfg.JWTSecretKey)
		escalated, _ := json.Marshal(map[string]any{"role": "admin", "sub": claimsMap["sub"], "sid": claimsMap["sid"], "typ": "access", "iss": auth.Issuer, "exp": claimsMap["exp"]})
		bad := map[string]string{
			"alg none":        sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, nil),
			"wrong key":       sign(jwt.SigningMethodHS256, []byte("not-the-key"), nil),
			"HS512 right key": sign(jwt.SigningMethodHS512, key, nil),
			"tampered role":   parts[0] + "." + base64.RawURLEncoding.EncodeToString(escalated) + "." + parts[2],
			"refresh as access": func() string {
				return pair.RefreshToken
			}(),
			"wrong issuer":   sign(jwt.SigningMethodHS256, key, func(c jwt.MapClaims) { c["iss"] = "someone-else" }),
			"no expiry":      sign(jwt.SigningMethodHS256, key, func(c jwt.MapClaims) { delete(c, "exp") }),
			"expired":        sign(jwt.SigningMethodHS256, key, func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Hour).Unix() }),
			"unknown role":   sign(jwt.SigningMethodHS256, key, func(c jwt.MapClaims) { c["role"] = "root" }),
			"unknown sid":    sign(jwt.SigningMethodHS256, key, func(c jwt.MapClaims) { c["sid"] = "feedface" }),
			"garbage":        "not.a.jwt",
			"empty segments": "..",
			"huge":           strings.Repeat("A", 5000),
		}
		for name, tok := range bad {
			r := s.request("GET", "/api/auth/me", tok, nil)
			if r.status != http.StatusUnauthorized {
				t.Errorf("%s: status %d, want 401; %s", name, r.status, r.body)
			}
		}
		for _, h := range []string{"Basic " + pair.AccessToken, "Bearer", "Bearer ", pair.AccessToken} {
			r := s.request("GET", "/api/auth/me", "", nil, "Authorization", h)
			if r.status != http.StatusUnauthorized || r.header.Get("WWW-Authenticate") == "" {
				t.Errorf("Authorization %.20q: %d", h, r.status)
			}
		}

		// Expiry by the server's clock.
		s.clock.advance(auth.AccessTTL + time.Minute)
		s.expect(http.StatusUnauthorized, "GET", "/api/auth/me", pair.AccessToken, nil)
		// The refresh token still works and rotates.
		r := s.expect(http.StatusOK, "POST", "/api/auth/refresh", "", map[string]string{"refresh_token": pair.RefreshToken}).json(t)
		fresh := r["access_token"].(string)
		s.expect(http.StatusOK, "GET", "/api/auth/me", fresh, nil)

		// Reusing a rotated refresh token after the grace window revokes the whole session.
		s.clock.advance(time.Minute)
		s.expect(http.StatusUnauthorized, "POST", "/api/auth/refresh", "", map[string]string{"refresh_token": pair.RefreshToken})
		s.expect(http.StatusUnauthorized, "GET", "/api/auth/me", fresh, nil)
		s.expect(http.StatusUnauthorized, "POST", "/api/auth/refresh", "", map[string]string{"refresh_token": r["refresh_token"].(string)})

		// An access token is not a refresh token; refresh tokens expire too.
		p2 := s.login(demoStudent, demoPassword)
		s.expect(http.StatusUnauthorized, "POST", "/api/auth/refresh", "", map[string]string{"refresh_token": p2.AccessToken})
		s.clock.advance(auth.RefreshTTL + time.Hour)
		s.expect(http.StatusUnauthorized, "POST", "/api/auth/refresh", "", map[string]string{"refresh_token": p2.RefreshToken})
	})
}

// TestWrongPasswordAndUnknownEmailLookAlike: login failures do not reveal whether the
// account exists.
func TestWrongPasswordAndUnknownEmailLookAlike(t *testing.T) {
	s := newTestServer(t, sqliteBackend(t), nil)
	a := s.expect(http.StatusUnauthorized, "POST", "/api/auth/login", "", map[string]string{"email": demoAdmin, "password": "wrong-password"})
	b := s.expect(http.StatusUnauthorized, "POST", "/api/auth/login", "", map[string]string{"email": "nobody@example.tn", "password": "wrong-password"})
	if string(a.body) != string(b.body) {
		t.Fatalf("bodies differ: %s vs %s", a.body, b.body)
	}
	if strings.Contains(s.logs.String(), "wrong-password") || strings.Contains(s.logs.String(), demoPassword) {
		t.Fatal("a password reached the logs")
	}
}
