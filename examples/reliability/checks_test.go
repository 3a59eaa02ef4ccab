package reliability

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"
)

// consistency is what the database holds after a run, checked against what the backend
// acknowledged.
type consistency struct {
	bookings, liveBookings, enrollments, chats int
	doubleTeacher, doubleStudent               int
	overfull, counterDrift                     int
	missing                                    []string // acknowledged writes not in the database
	unacknowledged                             int      // rows of the load's students no 2xx announced
	orphans                                    int      // half-done writes: sessions without refresh token, students without profile
}

// verifyDatabase reads the database directly and compares it with w's acknowledged
// writes. Invariants (no double slot, no group over capacity or six, counters equal to
// rows, no half-done write) are checked always; exact equality with the acknowledged
// writes is checked by the caller as the test requires.
func verifyDatabase(t *testing.T, db *sql.DB, w *workload) consistency {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var c consistency
	q := func(dst any, query string, args ...any) {
		t.Helper()
		if err := db.QueryRowContext(ctx, query, args...).Scan(dst); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}
	q(&c.doubleTeacher, `SELECT COUNT(*) FROM (SELECT teacher_id, starts_at FROM bookings WHERE status <> 'cancelled' GROUP BY 1, 2 HAVING COUNT(*) > 1) d`)
	q(&c.doubleStudent, `SELECT COUNT(*) FROM (SELECT student_id, starts_at FROM bookings WHERE status <> 'cancelled' GROUP BY 1, 2 HAVING COUNT(*) > 1) d`)
	q(&c.overfull, `SELECT COUNT(*) FROM study_groups WHERE enrolled > capacity OR capacity > 6`)
	q(&c.counterDrift, `SELECT COUNT(*) FROM study_groups g WHERE g.enrolled <> (SELECT COUNT(*) FROM group_enrollments e WHERE e.group_id = g.id)`)
	var noRefresh, noProfile int
	q(&noRefresh, `SELECT COUNT(*) FROM sessions s WHERE NOT EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.session_id = s.id)`)
	q(&noProfile, `SELECT COUNT(*) FROM users u WHERE u.role = 'student' AND NOT EXISTS (SELECT 1 FROM students s WHERE s.user_id = u.id)`)
	c.orphans = noRefresh + noProfile

	ids := make([]int64, 0, len(w.students))
	for _, s := range w.students {
		ids = append(ids, s.id)
	}
	type bookingRow struct {
		student   int64
		teacher   int64
		startsAt  int64
		cancelled bool
	}
	rows, err := db.QueryContext(ctx, `SELECT id, student_id, teacher_id, starts_at, status FROM bookings WHERE student_id = ANY($1)`, ids)
	if err != nil {
		t.Fatal(err)
	}
	got := map[int64]bookingRow{}
	for rows.Next() {
		var id int64
		var b bookingRow
		var status string
		if err := rows.Scan(&id, &b.student, &b.teacher, &b.startsAt, &status); err != nil {
			t.Fatal(err)
		}
		b.cancelled = status == "cancelled"
		got[id] = b
		c.bookings++
		if !b.cancelled {
			c.liveBookings++
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	acked := 0
	for _, s := range w.students {
		for id, b := range s.booked {
			acked++
			row, ok := got[id]
			switch {
			case !ok:
				c.missing = append(c.missing, fmt.Sprintf("booking %d of student %d", id, s.id))
			case row.student != s.id || row.teacher != w.teacher || row.startsAt != b.slot.Unix():
				c.missing = append(c.missing, fmt.Sprintf("booking %d differs: %+v", id, row))
			case b.cancelled && !row.cancelled:
				c.missing = append(c.missing, fmt.Sprintf("cancellation of booking %d", id))
			}
		}
	}
	c.unacknowledged += c.bookings - acked

	var enrolledRows int
	q(&enrolledRows, `SELECT COUNT(*) FROM group_enrollments WHERE student_id = ANY($1)`, ids)
	c.enrollments = enrolledRows
	ackedEnroll := 0
	for _, s := range w.students {
		for g := range s.enrolled {
			ackedEnroll++
			var n int
			q(&n, `SELECT COUNT(*) FROM group_enrollments WHERE group_id = $1 AND student_id = $2`, g, s.id)
			if n != 1 {
				c.missing = append(c.missing, fmt.Sprintf("enrollment of student %d in group %d", s.id, g))
			}
		}
	}
	c.unacknowledged += enrolledRows - ackedEnroll

	var chatRows int
	q(&chatRows, `SELECT COUNT(*) FROM aria_interactions WHERE user_id = ANY($1)`, ids)
	c.chats = chatRows
	ackedChats := 0
	for _, s := range w.students {
		for id, question := range s.chats {
			ackedChats++
			var user int64
			var stored, ans string
			err := db.QueryRowContext(ctx, `SELECT user_id, question, answer FROM aria_interactions WHERE id = $1`, id).Scan(&user, &stored, &ans)
			if err != nil || user != s.id || stored != question || ans != answer(question) {
				c.missing = append(c.missing, fmt.Sprintf("ARIA interaction %d (%v)", id, err))
			}
		}
	}
	c.unacknowledged += chatRows - ackedChats
	return c
}

// assertInvariants fails the test on any broken invariant or missing acknowledged write.
func (c consistency) assertInvariants(t *testing.T) {
	t.Helper()
	if c.doubleTeacher+c.doubleStudent > 0 {
		t.Errorf("double-booked slots: %d teacher, %d student", c.doubleTeacher, c.doubleStudent)
	}
	if c.overfull > 0 {
		t.Errorf("%d groups above capacity or above 6", c.overfull)
	}
	if c.counterDrift > 0 {
		t.Errorf("%d groups whose enrolled counter differs from their enrollment rows", c.counterDrift)
	}
	if c.orphans > 0 {
		t.Errorf("%d half-done writes (sessions without refresh token, students without profile)", c.orphans)
	}
	if len(c.missing) > 0 {
		t.Errorf("%d acknowledged writes missing or altered, first: %v", len(c.missing), c.missing[:min(5, len(c.missing))])
	}
}

// figures adds the consistency figures to a report section.
func (c consistency) figures(sec *Section) {
	sec.Addf("Bookings in the database", "%d (%d live, %d cancelled)", c.bookings, c.liveBookings, c.bookings-c.liveBookings)
	sec.Add("Double-booked slots (teacher / student)", fmt.Sprintf("%d / %d", c.doubleTeacher, c.doubleStudent))
	sec.Add("Group enrollments in the database", c.enrollments)
	sec.Add("Groups over capacity / counter drift", fmt.Sprintf("%d / %d", c.overfull, c.counterDrift))
	sec.Add("ARIA interactions in the database", c.chats)
	sec.Add("Acknowledged writes missing", len(c.missing))
	sec.Add("Rows written without a 2xx", c.unacknowledged)
	sec.Add("Half-done writes", c.orphans)
}
