package app

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nexus-reussite/harden/examples/nexus/internal/auth"
)

// throttleEnv lets the tests speak from many addresses (the loopback peer is a trusted
// proxy, so X-Forwarded-For names the client) and makes the delays long enough that no
// real time passing during a test ends one: only the test clock does.
var throttleEnv = map[string]string{"TRUSTED_PROXIES": "127.0.0.1", "LOGIN_THROTTLE_BASE_DELAY": "1h", "LOGIN_THROTTLE_MAX_DELAY": "24h"}

func loginBody(email, password string) map[string]string {
	return map[string]string{"email": email, "password": password}
}

// retryAfter reads the Retry-After seconds of a 429, failing t without one.
func retryAfter(t *testing.T, r *response) time.Duration {
	t.Helper()
	n, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || n < 1 {
		t.Fatalf("429 with Retry-After %q", r.header.Get("Retry-After"))
	}
	return time.Duration(n) * time.Second
}

// TestLoginThrottlePerAccount: 30 addresses each guessing one account's password once
// are slowed down together, since the count is per account: after the free attempts
// every further one waits a growing delay (429 + Retry-After, no password check), the
// right password included. Once the delay has passed the right password works and clears
// the count.
func TestLoginThrottlePerAccount(t *testing.T) {
	eachBackend(t, func(t *testing.T, be backend) {
		s := newTestServer(t, be, throttleEnv)
		from := func(i int) []string { return []string{"X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i+1)} }
		var statuses []int
		for i := range 30 {
			statuses = append(statuses, s.request("POST", "/api/auth/login", "", loginBody(demoStudent, "wrong-password"), from(i)...).status)
		}
		want := strings.Repeat("401 ", 6) + strings.TrimSpace(strings.Repeat("429 ", 24))
		if got := strings.Trim(fmt.Sprint(statuses), "[]"); got != want {
			t.Fatalf("statuses of 30 guesses from 30 addresses:\n%s\nwant\n%s", got, want)
		}
		// The right password, from yet another address and spelled in full-width
		// letters, is throttled too: same account.
		fullWidth := strings.Replace(demoStudent, "eleve", "ｅｌｅｖｅ", 1)
		r := s.expect(http.StatusTooManyRequests, "POST", "/api/auth/login", "", loginBody(fullWidth, demoPassword), from(100)...)
		wait := retryAfter(t, r)
		if wait > time.Hour || wait < time.Hour-time.Minute {
			t.Fatalf("first delay %v, want the 1 h base delay", wait)
		}
		// Another account is not affected.
		s.expect(http.StatusOK, "POST", "/api/auth/login", "", loginBody(demoParent, demoPassword), from(101)...)

		s.clock.advance(wait)
		s.expect(http.StatusOK, "POST", "/api/auth/login", "", loginBody(demoStudent, demoPassword), from(102)...)
		// The success cleared the count: the free attempts are back.
		for i := range 5 {
			s.expect(http.StatusUnauthorized, "POST", "/api/auth/login", "", loginBody(demoStudent, "wrong-password"), from(110+i)...)
		}
	})
}

// TestLoginThrottleBacksOffExponentially: each attempt past the free ones doubles the
// delay up to the maximum; an unknown email is throttled the same way, so the answers do
// not tell which accounts exist.
func TestLoginThrottleBacksOffExponentially(t *testing.T) {
	eachBackend(t, func(t *testing.T, be backend) {
		s := newTestServer(t, be, map[string]string{"LOGIN_THROTTLE_FREE": "2", "LOGIN_THROTTLE_BASE_DELAY": "1h", "LOGIN_THROTTLE_MAX_DELAY": "5h"})
		for _, email := range []string{demoTeacher, "nobody@example.tn"} {
			for range 2 {
				s.expect(http.StatusUnauthorized, "POST", "/api/auth/login", "", loginBody(email, "wrong-password"))
			}
			// Retry-After is the delay less the real time spent since the attempt that
			// set it (a minute is far more than that).
			for _, want := range []time.Duration{time.Hour, 2 * time.Hour, 4 * time.Hour, 5 * time.Hour, 5 * time.Hour} {
				s.expect(http.StatusUnauthorized, "POST", "/api/auth/login", "", loginBody(email, "wrong-password"))
				wait := retryAfter(t, s.expect(http.StatusTooManyRequests, "POST", "/api/auth/login", "", loginBody(email, demoPassword)))
				if wait > want || wait < want-time.Minute {
					t.Errorf("%s: delay %v, want %v", email, wait, want)
				}
				s.clock.advance(wait)
			}
		}
	})
}

// TestLoginThrottleAcrossInstances: two instances on one Redis count the attempts on an
// account together.
func TestLoginThrottleAcrossInstances(t *testing.T) {
	be := postgresRedisBackend(t)
	a := newTestServer(t, be, throttleEnv)
	b := newTestServer(t, be, throttleEnv)
	for i := range 6 {
		s := []*testServer{a, b}[i%2]
		s.expect(http.StatusUnauthorized, "POST", "/api/auth/login", "", loginBody(demoAdmin, "wrong-password"), "X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i+1))
	}
	for _, s := range []*testServer{a, b} {
		retryAfter(t, s.expect(http.StatusTooManyRequests, "POST", "/api/auth/login", "", loginBody(demoAdmin, demoPassword), "X-Forwarded-For", "198.51.100.99"))
	}
}

// TestConcurrentRefreshGrace: 30 tabs refreshing one token at once all get a working pair
// of the same session; presenting that token after the grace window revokes the session.
func TestConcurrentRefreshGrace(t *testing.T) {
	eachBackend(t, func(t *testing.T, be backend) {
		// A window long enough that the real time the test takes never ends it: only the
		// test clock does.
		s := newTestServer(t, be, map[string]string{"REFRESH_GRACE_PERIOD": "5m"})
		first := s.login(demoParent, demoPassword)
		const tabs = 30
		pairs := make([]auth.TokenPair, tabs)
		statuses := race(tabs, func(i int) int {
			r := s.request("POST", "/api/auth/refresh", "", map[string]string{"refresh_token": first.RefreshToken})
			if r.status == http.StatusOK {
				_ = json.Unmarshal(r.body, &pairs[i])
			}
			return r.status
		})
		if n := count(statuses, http.StatusOK); n != tabs {
			t.Fatalf("%d of %d parallel refreshes succeeded: %v", n, tabs, statuses)
		}
		for i, p := range pairs {
			s.expect(http.StatusOK, "GET", "/api/auth/me", p.AccessToken, nil)
			// Each new refresh token works once, as usual.
			pairs[i] = s.refresh(p.RefreshToken)
		}
		s.expect(http.StatusOK, "GET", "/api/auth/me", first.AccessToken, nil)

		// Within the window, once more: still fine.
		s.clock.advance(3 * time.Minute)
		s.refresh(first.RefreshToken)
		// Past it, the reuse ends the session: every token of it is refused.
		s.clock.advance(3 * time.Minute)
		s.expect(http.StatusUnauthorized, "POST", "/api/auth/refresh", "", map[string]string{"refresh_token": first.RefreshToken})
		for _, p := range pairs {
			s.expect(http.StatusUnauthorized, "GET", "/api/auth/me", p.AccessToken, nil)
			s.expect(http.StatusUnauthorized, "POST", "/api/auth/refresh", "", map[string]string{"refresh_token": p.RefreshToken})
		}
	})
}

// TestRefreshGraceOff: with REFRESH_GRACE_PERIOD=0 a second use revokes at once.
func TestRefreshGraceOff(t *testing.T) {
	s := newTestServer(t, sqliteBackend(t), map[string]string{"REFRESH_GRACE_PERIOD": "0"})
	first := s.login(demoParent, demoPassword)
	next := s.refresh(first.RefreshToken)
	s.expect(http.StatusUnauthorized, "POST", "/api/auth/refresh", "", map[string]string{"refresh_token": first.RefreshToken})
	s.expect(http.StatusUnauthorized, "GET", "/api/auth/me", next.AccessToken, nil)
}

// refresh exchanges a refresh token, failing the test unless it works.
func (s *testServer) refresh(token string) auth.TokenPair {
	s.t.Helper()
	r := s.expect(http.StatusOK, "POST", "/api/auth/refresh", "", map[string]string{"refresh_token": token})
	var p auth.TokenPair
	if err := json.Unmarshal(r.body, &p); err != nil || p.AccessToken == "" || p.RefreshToken == "" {
		s.t.Fatalf("refresh response %s", r.body)
	}
	return p
}
