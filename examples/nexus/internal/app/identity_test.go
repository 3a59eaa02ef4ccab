package app

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// strongPassword passes the password policy.
const strongPassword = "violet-kayak-marmelade"

func registration(email, password, first string) map[string]string {
	return map[string]string{"email": email, "password": password, "first_name": first, "last_name": "Haddad", "role": "parent"}
}

// TestEmailLookAlikesAreOneAccount: an address in full-width letters or another case is
// the account already there (409), and logs it in; a Latin name with a Cyrillic letter
// is refused.
func TestEmailLookAlikesAreOneAccount(t *testing.T) {
	eachBackend(t, func(t *testing.T, be backend) {
		s := newTestServer(t, be, nil)
		r := s.expect(http.StatusCreated, "POST", "/api/auth/register", "", registration("Sami.Haddad@Example.TN", strongPassword, "Sami")).json(t)
		if r["email"] != "sami.haddad@example.tn" {
			t.Fatalf("stored email %v", r["email"])
		}
		for _, twin := range []string{"ｓａｍｉ.ｈａｄｄａｄ@example.tn", "SAMI.HADDAD@ＥＸＡＭＰＬＥ.ＴＮ", "sami.haddad＠example.tn"} {
			s.expect(http.StatusConflict, "POST", "/api/auth/register", "", registration(twin, strongPassword, "Sami"))
			s.login(twin, strongPassword)
		}
		// The student account exists; a look-alike with a Cyrillic е (U+0435) is refused.
		for _, spoof := range []string{strings.Replace(demoStudent, "eleve", "\u0435leve", 1), "adm\u0456n@example.tn"} {
			r := s.expect(http.StatusBadRequest, "POST", "/api/auth/register", "", registration(spoof, strongPassword, "Sami"))
			if problemDetail(t, r) != "email is not a valid address" {
				t.Errorf("%q: %s", spoof, r.body)
			}
		}
	})
}

// TestNamesRefuseControlCharacters: a right-to-left override, BEL or ESC in a name is
// refused with a problem naming the field, on sign-up, child creation and edit.
func TestNamesRefuseControlCharacters(t *testing.T) {
	s := newTestServer(t, sqliteBackend(t), nil)
	parent := s.login(demoParent, demoPassword).AccessToken
	for i, name := range []string{"Sami\u202eabc", "Sami\u0007", "\u001b[2JSami", "Sami\u2067"} {
		email := "ctl" + string(rune('a'+i)) + "@example.tn"
		r := s.expect(http.StatusBadRequest, "POST", "/api/auth/register", "", registration(email, strongPassword, name))
		if !strings.HasPrefix(problemDetail(t, r), "first_name ") {
			t.Errorf("%q: %s", name, r.body)
		}
		r = s.expect(http.StatusBadRequest, "POST", "/api/students", parent, map[string]string{
			"email": email, "password": strongPassword, "first_name": "Sami", "last_name": name,
		})
		if !strings.HasPrefix(problemDetail(t, r), "last_name ") {
			t.Errorf("%q: %s", name, r.body)
		}
	}
	child := s.expect(http.StatusCreated, "POST", "/api/students", parent, map[string]string{
		"email": "cadet.haddad@example.tn", "password": strongPassword, "first_name": "Sami", "last_name": "Haddad",
	}).json(t)
	r := s.expect(http.StatusBadRequest, "PUT", fmt.Sprintf("/api/students/%d", num(t, child, "id")), parent, map[string]string{"first_name": "Sami\u202e"})
	if !strings.HasPrefix(problemDetail(t, r), "first_name ") {
		t.Errorf("edit: %s", r.body)
	}
}

// TestPasswordPolicyOnEveryRoute: a common or guessable password is refused with 422 and
// a problem naming the field, on sign-up and when a parent creates a child; a strong one
// is accepted.
func TestPasswordPolicyOnEveryRoute(t *testing.T) {
	eachBackend(t, func(t *testing.T, be backend) {
		s := newTestServer(t, be, nil)
		parent := s.login(demoParent, demoPassword).AccessToken
		for _, pw := range []string{"password", "12345678", "azerty123", "nexusreussite", "leila.haddad", "aaaaaaaaaaaa"} {
			r := s.expect(http.StatusUnprocessableEntity, "POST", "/api/auth/register", "", registration("leila.haddad@example.tn", pw, "Leila"))
			if !strings.HasPrefix(problemDetail(t, r), "password is too easy to guess: ") {
				t.Errorf("register %q: %s", pw, r.body)
			}
			r = s.expect(http.StatusUnprocessableEntity, "POST", "/api/students", parent, map[string]string{
				"email": "leila.haddad@example.tn", "password": pw, "first_name": "Leila", "last_name": "Haddad",
			})
			if !strings.HasPrefix(problemDetail(t, r), "password is too easy to guess: ") {
				t.Errorf("child %q: %s", pw, r.body)
			}
		}
		r := s.expect(http.StatusBadRequest, "POST", "/api/auth/register", "", registration("leila.haddad@example.tn", "short", "Leila"))
		if !strings.HasPrefix(problemDetail(t, r), "password must be at least 8 characters") {
			t.Errorf("short: %s", r.body)
		}
		s.expect(http.StatusCreated, "POST", "/api/auth/register", "", registration("leila.haddad@example.tn", strongPassword, "Leila"))
		s.login("leila.haddad@example.tn", strongPassword)
	})
}

// TestPasswordChange: the current password must match, the new one follows the policy;
// a change revokes the account's other sessions and keeps the caller's.
func TestPasswordChange(t *testing.T) {
	eachBackend(t, func(t *testing.T, be backend) {
		s := newTestServer(t, be, nil)
		other := s.login(demoTeacher, demoPassword)
		mine := s.login(demoTeacher, demoPassword).AccessToken
		change := func(current, next string) map[string]string {
			return map[string]string{"current_password": current, "new_password": next}
		}
		r := s.expect(http.StatusForbidden, "POST", "/api/auth/password", mine, change("wrong-password", strongPassword))
		if problemDetail(t, r) != "the current password is incorrect" {
			t.Errorf("wrong current password: %s", r.body)
		}
		for _, weak := range []string{"password", "12345678", "nexusreussite"} {
			r = s.expect(http.StatusUnprocessableEntity, "POST", "/api/auth/password", mine, change(demoPassword, weak))
			if !strings.HasPrefix(problemDetail(t, r), "password is too easy to guess: ") {
				t.Errorf("%q: %s", weak, r.body)
			}
		}
		s.expect(http.StatusBadRequest, "POST", "/api/auth/password", mine, change(demoPassword, "short"))
		s.expect(http.StatusNoContent, "POST", "/api/auth/password", mine, change(demoPassword, strongPassword))
		s.expect(http.StatusOK, "GET", "/api/auth/me", mine, nil)
		s.expect(http.StatusUnauthorized, "GET", "/api/auth/me", other.AccessToken, nil)
		s.expect(http.StatusUnauthorized, "POST", "/api/auth/refresh", "", map[string]string{"refresh_token": other.RefreshToken})
		s.expect(http.StatusUnauthorized, "POST", "/api/auth/login", "", loginBody(demoTeacher, demoPassword))
		s.login(demoTeacher, strongPassword)
	})
}

// TestPasswordChangeIsThrottled: guessing the current password with a stolen access
// token runs into the account's login throttle.
func TestPasswordChangeIsThrottled(t *testing.T) {
	s := newTestServer(t, sqliteBackend(t), throttleEnv)
	token := s.login(demoTeacher, demoPassword).AccessToken
	guess := map[string]string{"current_password": "wrong-password", "new_password": strongPassword}
	for range 5 {
		s.expect(http.StatusForbidden, "POST", "/api/auth/password", token, guess)
	}
	s.expect(http.StatusForbidden, "POST", "/api/auth/password", token, guess)
	retryAfter(t, s.expect(http.StatusTooManyRequests, "POST", "/api/auth/password", token, guess))
}
