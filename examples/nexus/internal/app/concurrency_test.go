package app

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/nexus-reussite/harden/examples/nexus/internal/domain"
)

// makeStudents creates n student accounts through the API and returns their ids.
func makeStudents(s *testServer, admin string, n int, tag string) []int64 {
	s.t.Helper()
	ids := make([]int64, n)
	for i := range ids {
		r := s.expect(http.StatusCreated, "POST", "/api/students", admin, map[string]any{
			"email": fmt.Sprintf("%s%d@example.tn", tag, i), "password": "student-password", "first_name": "Eleve", "last_name": fmt.Sprint(i),
		}).json(s.t)
		ids[i] = num(s.t, r, "id")
	}
	return ids
}

// race fires fn for every index at once and returns the statuses.
func race(n int, fn func(i int) int) []int {
	statuses := make([]int, n)
	var start, done sync.WaitGroup
	start.Add(1)
	for i := 0; i < n; i++ {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			statuses[i] = fn(i)
		}()
	}
	start.Done()
	done.Wait()
	return statuses
}

func count(statuses []int, code int) int {
	n := 0
	for _, s := range statuses {
		if s == code {
			n++
		}
	}
	return n
}

// TestNoDoubleBookingUnderConcurrency: many students racing for one teacher slot get
// exactly one booking; the others get 409.
func TestNoDoubleBookingUnderConcurrency(t *testing.T) {
	eachBackend(t, func(t *testing.T, be backend) {
		s := newTestServer(t, be, nil)
		admin := s.login(demoAdmin, demoPassword).AccessToken
		teacher := s.userID(demoTeacher)
		const n = 12
		students := makeStudents(s, admin, n, "slot")
		slot := nextSlot(s.clock.now(), 3).Format(time.RFC3339)
		statuses := race(n, func(i int) int {
			return s.request("POST", "/api/bookings", admin, map[string]any{
				"teacher_id": teacher, "student_id": students[i], "starts_at": slot, "format": "online",
			}).status
		})
		if count(statuses, http.StatusCreated) != 1 || count(statuses, http.StatusConflict) != n-1 {
			t.Fatalf("statuses %v: want one 201 and %d 409", statuses, n-1)
		}
		var live int
		if err := s.app.db.Pool().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM bookings WHERE teacher_id = $1 AND status <> 'cancelled'`, teacher).Scan(&live); err != nil || live != 1 {
			t.Fatalf("%d live bookings (%v), want 1", live, err)
		}
	})
}

// TestGroupCapacityUnderConcurrency: ten students racing for a six-seat group fill it
// exactly.
func TestGroupCapacityUnderConcurrency(t *testing.T) {
	eachBackend(t, func(t *testing.T, be backend) {
		s := newTestServer(t, be, nil)
		admin := s.login(demoAdmin, demoPassword).AccessToken
		const n = 10
		students := makeStudents(s, admin, n, "group")
		statuses := race(n, func(i int) int {
			return s.request("POST", "/api/groups/1/enrollments", admin, map[string]any{"student_id": students[i]}).status
		})
		if count(statuses, http.StatusCreated) != domain.GroupCapacity || count(statuses, http.StatusConflict) != n-domain.GroupCapacity {
			t.Fatalf("statuses %v: want %d 201 and %d 409", statuses, domain.GroupCapacity, n-domain.GroupCapacity)
		}
		var enrolled, rows int
		ctx := context.Background()
		if err := s.app.db.Pool().QueryRowContext(ctx, `SELECT enrolled FROM study_groups WHERE id = 1`).Scan(&enrolled); err != nil {
			t.Fatal(err)
		}
		if err := s.app.db.Pool().QueryRowContext(ctx, `SELECT COUNT(*) FROM group_enrollments WHERE group_id = 1`).Scan(&rows); err != nil {
			t.Fatal(err)
		}
		if enrolled != domain.GroupCapacity || rows != domain.GroupCapacity {
			t.Fatalf("enrolled counter %d, enrollment rows %d; want %d", enrolled, rows, domain.GroupCapacity)
		}
	})
}
