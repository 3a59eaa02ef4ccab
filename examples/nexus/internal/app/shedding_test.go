package app

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// metricValue reads one sample of the server's /metrics, 0 when absent.
func (s *testServer) metricValue(series string) float64 {
	s.t.Helper()
	body := string(s.expect(http.StatusOK, "GET", "/metrics", "", nil).body)
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(body)
	if m == nil {
		return 0
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		s.t.Fatalf("%s: %v", series, err)
	}
	return v
}

// waitMetric polls /metrics until series reads want.
func (s *testServer) waitMetric(series string, want float64) {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for s.metricValue(series) != want {
		if time.Now().After(deadline) {
			s.t.Fatalf("%s never reached %v (now %v)", series, want, s.metricValue(series))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// sendAsync sends a request on its own goroutine; its status arrives on the channel
// (0 on a transport error). It goes around the OpenAPI check of the test client, which
// reads a request body whole before sending it.
func (s *testServer) sendAsync(method, path, ip string, body io.Reader, hdr ...string) <-chan int {
	done := make(chan int, 1)
	req, err := http.NewRequest(method, s.srv.URL+path, body)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", ip)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- 0
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	return done
}

// TestHashingRoutesShedExcessAndSpareKnownClients: with one hashing slot and a queue of
// two, a login holding the slot makes the excess from fresh addresses 503 at once (with
// Retry-After, as problem+json, counted in /metrics) without spending their rate-limit
// quota, while logins from an address that logged in before queue ahead of them and
// succeed.
func TestHashingRoutesShedExcessAndSpareKnownClients(t *testing.T) {
	s := newTestServer(t, sqliteBackend(t), map[string]string{
		"TRUSTED_PROXIES": "127.0.0.1", "RATELIMIT_DEFAULT": "4 per minute",
		"HASH_CONCURRENCY": "1", "HASH_QUEUE": "2", "HASH_QUEUE_TIMEOUT": "30",
	})
	const known, holder, queued, flooder = "192.0.2.10", "198.51.100.1", "198.51.100.2", "198.51.100.3"
	good := `{"email":"` + demoStudent + `","password":"` + demoPassword + `"}`
	bad := `{"email":"nobody@example.com","password":"wrong-password"}`
	s.expect(http.StatusOK, "POST", "/api/auth/login", "", good, "X-Forwarded-For", known)

	inFlight := `harden_concurrency_in_flight{limiter="password_hash"}`
	waiting := `harden_concurrency_queued{limiter="password_hash"}`
	// A login whose body is still coming holds the only slot.
	pr, pw := io.Pipe()
	held := s.sendAsync("POST", "/api/auth/login", holder, pr)
	if _, err := pw.Write([]byte(`{"email":"nobody@example.com",`)); err != nil {
		t.Fatal(err)
	}
	s.waitMetric(inFlight, 1)
	// A fresh address may still queue while the queue is less than half full.
	fresh := s.sendAsync("POST", "/api/auth/login", queued, strings.NewReader(bad))
	s.waitMetric(waiting, 1)
	// Past that, requests from fresh addresses are shed at once, whatever the route.
	for range 6 {
		r := s.expect(http.StatusServiceUnavailable, "POST", "/api/auth/login", "", bad, "X-Forwarded-For", flooder)
		if r.header.Get("Retry-After") != "1" {
			t.Fatalf("shed login: Retry-After %q, want 1", r.header.Get("Retry-After"))
		}
	}
	s.expect(http.StatusServiceUnavailable, "POST", "/api/auth/register", "",
		`{"email":"new@example.com","password":"a-long-password","first_name":"A","last_name":"B","role":"parent"}`,
		"X-Forwarded-For", flooder)
	// The known address queues ahead, and its second login takes the fresh one's place.
	first := s.sendAsync("POST", "/api/auth/login", known, strings.NewReader(good))
	s.waitMetric(waiting, 2)
	second := s.sendAsync("POST", "/api/auth/login", known, strings.NewReader(good))
	if got := <-fresh; got != http.StatusServiceUnavailable {
		t.Fatalf("queued login from a fresh address: %d, want 503 when a known address needs its place", got)
	}
	if _, err := pw.Write([]byte(`"password":"wrong-password"}`)); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	if got := <-held; got != http.StatusUnauthorized {
		t.Fatalf("held login: %d, want 401", got)
	}
	if a, b := <-first, <-second; a != http.StatusOK || b != http.StatusOK {
		t.Fatalf("logins from the known address: %d and %d, want 200", a, b)
	}
	if shed := s.metricValue(`harden_concurrency_shed_total{limiter="password_hash",reason="low_priority"}`); shed < 8 {
		t.Fatalf("low_priority sheds counted: %v, want at least 8", shed)
	}
	// The 7 shed requests spent none of the flooder's 4 per minute.
	for range 4 {
		s.expect(http.StatusUnauthorized, "POST", "/api/auth/login", "", bad, "X-Forwarded-For", flooder)
	}
	s.expect(http.StatusTooManyRequests, "POST", "/api/auth/login", "", bad, "X-Forwarded-For", flooder)
}

// TestAriaQuestionsShedBeyondTheLimit: with ARIA_CONCURRENCY=1 and no queue, a question
// waiting on the upstream makes the next one 503 at once, and the upstream sees one call.
func TestAriaQuestionsShedBeyondTheLimit(t *testing.T) {
	release := make(chan struct{})
	fake := &fakeOpenAI{reply: func(w http.ResponseWriter, r *http.Request) {
		<-release
		answer("Oui.")(w, r)
	}}
	upstream := httptest.NewServer(fake)
	t.Cleanup(upstream.Close)
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	s := newTestServer(t, sqliteBackend(t), map[string]string{
		"OPENAI_API_KEY": "sk-test", "OPENAI_API_BASE": upstream.URL, "ARIA_CONCURRENCY": "1", "ARIA_QUEUE": "-1",
	})
	token := s.login(demoStudent, demoPassword).AccessToken
	question := `{"message":"Une question ?"}`
	first := s.sendAsync("POST", "/api/aria/chat", "192.0.2.1", strings.NewReader(question), "Authorization", "Bearer "+token)
	s.waitMetric(`harden_concurrency_in_flight{limiter="aria"}`, 1)
	r := s.expect(http.StatusServiceUnavailable, "POST", "/api/aria/chat", token, question)
	if r.header.Get("Retry-After") != "1" || !strings.Contains(string(r.body), "capacity") {
		t.Fatalf("shed question: Retry-After %q, body %s", r.header.Get("Retry-After"), r.body)
	}
	close(release)
	if got := <-first; got != http.StatusOK {
		t.Fatalf("first question: %d, want 200", got)
	}
	fake.mu.Lock()
	calls := len(fake.requests)
	fake.mu.Unlock()
	if calls != 1 {
		t.Fatalf("upstream calls: %d, want 1", calls)
	}
	if shed := s.metricValue(`harden_concurrency_shed_total{limiter="aria",reason="queue_full"}`); shed != 1 {
		t.Fatalf("aria sheds counted: %v, want 1", shed)
	}
}
