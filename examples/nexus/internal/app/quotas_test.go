package app

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nexus-reussite/harden/examples/nexus/internal/domain"
)

// countingOpenAI answers every chat completion with reply and counts the calls.
type countingOpenAI struct {
	calls atomic.Int64
	fail  atomic.Bool // answer 500 instead
}

func (c *countingOpenAI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.calls.Add(1)
	if c.fail.Load() {
		http.Error(w, `{"error":{"message":"overloaded"}}`, http.StatusInternalServerError)
		return
	}
	answer("D'accord.")(w, r)
}

// scalar reads one integer from the test server's database.
func (s *testServer) scalar(query string, args ...any) int64 {
	s.t.Helper()
	var n int64
	if err := s.app.db.Pool().QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		s.t.Fatalf("%s: %v", query, err)
	}
	return n
}

// raceResponses fires fn for every index at once and returns the responses.
func raceResponses(n int, fn func(i int) *response) []*response {
	out := make([]*response, n)
	race(n, func(i int) int { out[i] = fn(i); return out[i].status })
	return out
}

// checkRefusals fails unless every response is want or a problem+json refusal with
// status refused, and returns how many were want.
func checkRefusals(t *testing.T, rs []*response, want, refused int) (ok int) {
	t.Helper()
	for _, r := range rs {
		switch {
		case r.status == want:
			ok++
		case r.status != refused:
			t.Errorf("status %d, want %d or %d: %s", r.status, want, refused, r.body)
		case r.header.Get("Content-Type") != "application/problem+json":
			t.Errorf("%d with Content-Type %q", r.status, r.header.Get("Content-Type"))
		}
	}
	return ok
}

// TestAriaQuotaUnderConcurrency: 120 questions at once from one student against a daily
// limit of 50 make exactly 50 upstream calls; the rest get 429 problem+json with
// Retry-After. A failed upstream call gives its unit back.
func TestAriaQuotaUnderConcurrency(t *testing.T) {
	eachBackend(t, func(t *testing.T, be backend) {
		fake := &countingOpenAI{}
		upstream := httptest.NewServer(fake)
		defer upstream.Close()
		// The quota is under test, not the shedding of questions beyond ARIA_CONCURRENCY.
		s := newTestServer(t, be, map[string]string{"OPENAI_API_KEY": "sk-test", "OPENAI_API_BASE": upstream.URL,
			"ARIA_CONCURRENCY": "256", "ARIA_QUEUE": "256", "ARIA_QUEUE_TIMEOUT": "1m"})
		tok := s.login(demoStudent, demoPassword).AccessToken
		uid := s.userID(demoStudent)

		rs := raceResponses(120, func(i int) *response {
			return s.request("POST", "/api/aria/chat", tok, map[string]string{"message": fmt.Sprintf("Question %d", i)})
		})
		answered := checkRefusals(t, rs, http.StatusOK, http.StatusTooManyRequests)
		if calls := fake.calls.Load(); calls != domain.AriaDailyLimit || answered != domain.AriaDailyLimit {
			t.Fatalf("%d upstream calls, %d answers; want %d of each", calls, answered, domain.AriaDailyLimit)
		}
		for _, r := range rs {
			if r.status == http.StatusTooManyRequests && (r.header.Get("Retry-After") == "" || !strings.Contains(string(r.body), "at most 50 questions per day")) {
				t.Fatalf("429 without Retry-After or reason: %v %s", r.header, r.body)
			}
		}
		if n := s.scalar(`SELECT COUNT(*) FROM aria_interactions WHERE user_id = $1`, uid); n != domain.AriaDailyLimit {
			t.Fatalf("%d interactions stored", n)
		}
		// The next UTC day has a fresh quota.
		s.clock.advance(24 * time.Hour)
		tok = s.login(demoStudent, demoPassword).AccessToken
		s.expect(http.StatusOK, "POST", "/api/aria/chat", tok, map[string]string{"message": "Encore une"})

		// Another student is not affected; failed calls do not use the quota up.
		other := s.login(demoParent, demoPassword).AccessToken
		parent := s.userID(demoParent)
		fake.fail.Store(true)
		before := fake.calls.Load()
		rs = raceResponses(8, func(int) *response {
			return s.request("POST", "/api/aria/chat", other, map[string]string{"message": "Bonjour"})
		})
		if failed := checkRefusals(t, rs, http.StatusBadGateway, 0); failed != 8 || fake.calls.Load()-before != 8 {
			t.Fatalf("%d of 8 failed upstream, %d calls", failed, fake.calls.Load()-before)
		}
		if used := s.scalar(`SELECT COALESCE(SUM(used), 0) FROM aria_usage WHERE user_id = $1`, parent); used != 0 {
			t.Fatalf("%d units used after 8 failed calls, want 0", used)
		}
		fake.fail.Store(false)
		s.expect(http.StatusOK, "POST", "/api/aria/chat", other, map[string]string{"message": "Bonjour"})
		if used := s.scalar(`SELECT COALESCE(SUM(used), 0) FROM aria_usage WHERE user_id = $1`, parent); used != 1 {
			t.Fatalf("%d units used after one answer, want 1", used)
		}
	})
}

// TestAriaQuotaGivenBackWhenClientLeaves: a question whose client hangs up during the
// upstream call gives its unit back.
func TestAriaQuotaGivenBackWhenClientLeaves(t *testing.T) {
	called := make(chan struct{}, 1)
	var calls atomic.Int64
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		_, _ = io.Copy(io.Discard, r.Body) // so that the server notices the backend hanging up
		select {
		case called <- struct{}{}:
		default:
		}
		<-r.Context().Done() // never answers; ends when the backend gives up
	}))
	defer upstream.Close()
	s := newTestServer(t, sqliteBackend(t), map[string]string{"OPENAI_API_KEY": "sk-test", "OPENAI_API_BASE": upstream.URL, "ARIA_DAILY_LIMIT": "1"})
	tok := s.login(demoStudent, demoPassword).AccessToken
	uid := s.userID(demoStudent)

	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", s.srv.URL+"/api/aria/chat", strings.NewReader(`{"message":"Bonjour"}`))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	errc := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	<-called
	if used := s.scalar(`SELECT used FROM aria_usage WHERE user_id = $1`, uid); used != 1 {
		t.Fatalf("%d units reserved during the call, want 1", used)
	}
	cancel()
	<-errc
	// The handler runs on after the client left; wait for it to give the unit back.
	for deadline := time.Now().Add(30 * time.Second); s.scalar(`SELECT used FROM aria_usage WHERE user_id = $1`, uid) != 0; {
		if time.Now().After(deadline) {
			t.Fatal("the unit of an abandoned question was not given back")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if calls.Load() != 1 {
		t.Fatalf("%d upstream calls, want 1", calls.Load())
	}
}

// bookingBody is the body booking teacher at slot.
func bookingBody(teacher int64, slot time.Time) map[string]any {
	return map[string]any{"teacher_id": teacher, "starts_at": slot.UTC().Format(time.RFC3339), "format": "online"}
}

// TestBookingQuotasUnderConcurrency: one student booking twelve slots at once holds
// BOOKING_MAX_ACTIVE of them; the rest get 409. Cancelling one frees a place. Lessons
// outside the bookable hours get 422.
func TestBookingQuotasUnderConcurrency(t *testing.T) {
	eachBackend(t, func(t *testing.T, be backend) {
		s := newTestServer(t, be, map[string]string{"BOOKING_MAX_ACTIVE": "3"})
		tok := s.login(demoStudent, demoPassword).AccessToken
		teacher, student := s.userID(demoTeacher), s.userID(demoStudent)

		rs := raceResponses(12, func(i int) *response {
			return s.request("POST", "/api/bookings", tok, bookingBody(teacher, nextSlot(s.clock.now(), i)))
		})
		if booked := checkRefusals(t, rs, http.StatusCreated, http.StatusConflict); booked != 3 {
			t.Fatalf("%d bookings made, want 3", booked)
		}
		active := `SELECT COUNT(*) FROM bookings WHERE student_id = $1 AND status = 'confirmed'`
		if n := s.scalar(active, student); n != 3 {
			t.Fatalf("%d active bookings stored, want 3", n)
		}
		r := s.expect(http.StatusConflict, "POST", "/api/bookings", tok, bookingBody(teacher, nextSlot(s.clock.now(), 20)))
		if !strings.Contains(string(r.body), "at most 3 upcoming bookings") {
			t.Fatalf("refusal %s", r.body)
		}
		// A cancelled booking frees its place.
		var first int64
		for _, r := range rs {
			if r.status == http.StatusCreated {
				first = num(t, r.json(t), "id")
				break
			}
		}
		s.expect(http.StatusOK, "POST", fmt.Sprintf("/api/bookings/%d/cancel", first), tok, nil)
		s.expect(http.StatusCreated, "POST", "/api/bookings", tok, bookingBody(teacher, nextSlot(s.clock.now(), 20)))

		// Bookable hours: 08:00-21:00 in Tunis (UTC+1) by default.
		tunis, _ := time.LoadLocation("Africa/Tunis")
		day := s.clock.now().In(tunis).AddDate(0, 0, 3)
		at := func(hour int) time.Time { return time.Date(day.Year(), day.Month(), day.Day(), hour, 0, 0, 0, tunis) }
		for _, hour := range []int{0, 3, 7, 21, 23} {
			r := s.expect(http.StatusUnprocessableEntity, "POST", "/api/bookings", tok, bookingBody(teacher, at(hour)))
			if !strings.Contains(string(r.body), "between 08:00 and 21:00 (Africa/Tunis time)") {
				t.Fatalf("%02d:00: %s", hour, r.body)
			}
		}
		if n := s.scalar(active, student); n != 3 {
			t.Fatalf("%d active bookings after refusals, want 3", n)
		}
	})
}

// TestBookingHoursSetting: BOOKING_TIMEZONE and BOOKING_HOURS move the window.
func TestBookingHoursSetting(t *testing.T) {
	s := newTestServer(t, sqliteBackend(t), map[string]string{"BOOKING_TIMEZONE": "Europe/Paris", "BOOKING_HOURS": "18:00-24:00"})
	tok := s.login(demoStudent, demoPassword).AccessToken
	teacher := s.userID(demoTeacher)
	paris, _ := time.LoadLocation("Europe/Paris")
	day := s.clock.now().In(paris).AddDate(0, 0, 2)
	at := func(hour int) time.Time { return time.Date(day.Year(), day.Month(), day.Day(), hour, 0, 0, 0, paris) }
	s.expect(http.StatusCreated, "POST", "/api/bookings", tok, bookingBody(teacher, at(23)))
	r := s.expect(http.StatusUnprocessableEntity, "POST", "/api/bookings", tok, bookingBody(teacher, at(10)))
	if !strings.Contains(string(r.body), "between 18:00 and 24:00 (Europe/Paris time)") {
		t.Fatalf("%s", r.body)
	}
}

// TestChildrenQuotaUnderConcurrency: a parent creating ten children at once ends with
// PARENT_MAX_CHILDREN; the rest get 409 and no account.
func TestChildrenQuotaUnderConcurrency(t *testing.T) {
	eachBackend(t, func(t *testing.T, be backend) {
		// The quota is under test, not the shedding of hashes beyond HASH_CONCURRENCY.
		s := newTestServer(t, be, map[string]string{"PARENT_MAX_CHILDREN": "4", "HASH_QUEUE": "64", "HASH_QUEUE_TIMEOUT": "1m"})
		tok := s.login(demoParent, demoPassword).AccessToken
		parent := s.userID(demoParent)
		children := `SELECT COUNT(*) FROM parent_children WHERE parent_id = $1`
		had := s.scalar(children, parent) // the demo child
		users := s.scalar(`SELECT COUNT(*) FROM users`)

		rs := raceResponses(10, func(i int) *response {
			return s.request("POST", "/api/students", tok, map[string]any{
				"email": fmt.Sprintf("enfant%d@example.tn", i), "password": "student-password", "first_name": "Enfant", "last_name": fmt.Sprint(i),
			})
		})
		created := int64(checkRefusals(t, rs, http.StatusCreated, http.StatusConflict))
		if created != 4-had || s.scalar(children, parent) != 4 {
			t.Fatalf("%d created (had %d), %d children; want 4 in all", created, had, s.scalar(children, parent))
		}
		if n := s.scalar(`SELECT COUNT(*) FROM users`); n != users+created {
			t.Fatalf("%d accounts, want %d: a refused child left an account", n, users+created)
		}
		r := s.expect(http.StatusConflict, "POST", "/api/students", tok, map[string]any{
			"email": "enfant-de-trop@example.tn", "password": "student-password", "first_name": "Enfant", "last_name": "Trop",
		})
		if !strings.Contains(string(r.body), "at most 4 student accounts") {
			t.Fatalf("refusal %s", r.body)
		}
		// Admins are not parents: no quota.
		admin := s.login(demoAdmin, demoPassword).AccessToken
		makeStudents(s, admin, 5, "admin-made")
	})
}

// TestTeacherSeesOwnBookingsOnDashboard: two teachers with the same student each see,
// on the student's dashboard, only their own bookings; the student and parents see all.
func TestTeacherSeesOwnBookingsOnDashboard(t *testing.T) {
	eachBackend(t, func(t *testing.T, be backend) {
		s := newTestServer(t, be, nil)
		admin := s.login(demoAdmin, demoPassword).AccessToken
		student := s.login(demoStudent, demoPassword).AccessToken
		studentID, first := s.userID(demoStudent), s.userID(demoTeacher)

		// A second teacher: registered, then made a teacher as an admin would in the database.
		s.expect(http.StatusCreated, "POST", "/api/auth/register", "", map[string]string{
			"email": "prof2@nexus-reussite.com", "password": "second-teacher-password", "first_name": "Sonia", "last_name": "Ben Ali", "role": "parent",
		})
		second := s.userID("prof2@nexus-reussite.com")
		ctx := context.Background()
		for _, q := range []string{`UPDATE users SET role = 'teacher' WHERE id = $1`, `DELETE FROM students WHERE user_id = $1`, `INSERT INTO teachers (user_id) VALUES ($1)`} {
			if _, err := s.app.db.Pool().ExecContext(ctx, q, second); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		// Two bookings with the first teacher, one with the second.
		for i, teacher := range []int64{first, first, second} {
			s.expect(http.StatusCreated, "POST", "/api/bookings", student, bookingBody(teacher, nextSlot(s.clock.now(), i)))
		}
		dashboard := func(tok string) (upcoming int64, teachers map[int64]int) {
			d := s.expect(http.StatusOK, "GET", fmt.Sprintf("/api/students/%d/dashboard", studentID), tok, nil).json(t)
			teachers = map[int64]int{}
			for _, b := range d["next_bookings"].([]any) {
				teachers[num(t, b.(map[string]any), "teacher_id")]++
			}
			return num(t, d, "upcoming_bookings"), teachers
		}
		for _, c := range []struct {
			who      string
			tok      string
			upcoming int64
			want     map[int64]int
		}{
			{"first teacher", s.login(demoTeacher, demoPassword).AccessToken, 2, map[int64]int{first: 2}},
			{"second teacher", s.login("prof2@nexus-reussite.com", "second-teacher-password").AccessToken, 1, map[int64]int{second: 1}},
			{"student", student, 3, map[int64]int{first: 2, second: 1}},
			{"parent", s.login(demoParent, demoPassword).AccessToken, 3, map[int64]int{first: 2, second: 1}},
			{"admin", admin, 3, map[int64]int{first: 2, second: 1}},
		} {
			upcoming, teachers := dashboard(c.tok)
			if upcoming != c.upcoming || fmt.Sprint(teachers) != fmt.Sprint(c.want) {
				t.Errorf("%s: %d upcoming, next bookings by teacher %v; want %d, %v", c.who, upcoming, teachers, c.upcoming, c.want)
			}
		}
	})
}
