package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/nexus-reussite/harden/examples/nexus/internal/domain"
)

const bookingSelect = `SELECT b.id, b.student_id, su.first_name || ' ' || su.last_name, b.teacher_id, tu.first_name || ' ' || tu.last_name,
	b.starts_at, b.duration_minutes, b.format, b.status, b.meeting_url
	FROM bookings b JOIN users su ON su.id = b.student_id JOIN users tu ON tu.id = b.teacher_id `

func scanBooking(r rowScanner) (*domain.Booking, error) {
	b := &domain.Booking{}
	var starts int64
	if err := r.Scan(&b.ID, &b.StudentID, &b.StudentName, &b.TeacherID, &b.TeacherName, &starts, &b.Duration, &b.Format, &b.Status, &b.MeetingURL); err != nil {
		return nil, err
	}
	b.StartsAt = time.Unix(starts, 0).UTC()
	b.EndsAt = b.StartsAt.Add(time.Duration(b.Duration) * time.Minute)
	return b, nil
}

func (db *DB) queryBookings(ctx context.Context, tail string, args ...any) ([]*domain.Booking, error) {
	return queryAll(ctx, db.q, scanBooking, bookingSelect+tail, args...)
}

// bookingScope is the condition on b for the bookings p may see, bound to $1: admins
// see every booking, teachers theirs, parents their children's, students their own.
func bookingScope(p *domain.Principal) string {
	switch p.Role {
	case domain.RoleAdmin:
		return "$1 > 0"
	case domain.RoleTeacher:
		return "b.teacher_id = $1"
	case domain.RoleParent:
		return "b.student_id IN (SELECT student_id FROM parent_children WHERE parent_id = $1)"
	default:
		return "b.student_id = $1"
	}
}

// ListBookings returns a page of the bookings p may see, latest first.
func (db *DB) ListBookings(ctx context.Context, p *domain.Principal, limit, offset int) ([]*domain.Booking, error) {
	return db.queryBookings(ctx, `WHERE `+bookingScope(p)+` ORDER BY b.starts_at DESC, b.id DESC LIMIT $2 OFFSET $3`, p.UserID, limit, offset)
}

// VisibleBooking reads booking id if p may see it; otherwise "booking not found".
func (db *DB) VisibleBooking(ctx context.Context, p *domain.Principal, id int64) (*domain.Booking, error) {
	items, err := db.queryBookings(ctx, `WHERE `+bookingScope(p)+` AND b.id = $2`, p.UserID, id)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, domain.NotFound("booking")
	}
	return items[0], nil
}

// UpcomingBookings returns the next pending or confirmed bookings of a student, with
// teacherID only (0: with every teacher).
func (db *DB) UpcomingBookings(ctx context.Context, studentID, teacherID int64, now time.Time, limit int) ([]*domain.Booking, error) {
	return db.queryBookings(ctx, `WHERE b.student_id = $1 AND (b.teacher_id = $2 OR $2 = 0) AND b.status IN ('pending', 'confirmed') AND b.starts_at >= $3
		ORDER BY b.starts_at LIMIT $4`, studentID, teacherID, now.Unix(), limit)
}

// CheckTeacher reports "teacher not found" unless id is an active teacher.
func (db *DB) CheckTeacher(ctx context.Context, id int64) error {
	var one int
	err := db.q.QueryRow(ctx, `SELECT 1 FROM teachers t JOIN users u ON u.id = t.user_id WHERE t.user_id = $1 AND u.status = 'active'`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.NotFound("teacher")
	}
	return err
}

// CreateBooking books a slot, confirmed. The slot of the teacher, and the student's, must
// be free: a second live booking is domain.ErrSlotTaken, whatever the concurrency. A
// student holding Quotas.MaxActiveBookings upcoming bookings gets
// domain.ErrTooManyBookings: the count runs after lockQuota, so concurrent bookings of
// one student never pass the quota.
func (db *DB) CreateBooking(ctx context.Context, nb *domain.NewBooking, now time.Time) (*domain.Booking, error) {
	var id int64
	err := db.InTx(ctx, func(tx *Tx) error {
		if err := tx.lockQuota(ctx, nb.StudentID); err != nil {
			return err
		}
		var active int
		if err := tx.q.QueryRow(ctx, `SELECT COUNT(*) FROM bookings WHERE student_id = $1 AND status IN ('pending', 'confirmed') AND starts_at >= $2`,
			nb.StudentID, now.Unix()).Scan(&active); err != nil {
			return err
		}
		if active >= db.quotas.MaxActiveBookings {
			return domain.ErrTooManyBookings(db.quotas.MaxActiveBookings)
		}
		err := tx.q.QueryRow(ctx,
			`INSERT INTO bookings (student_id, teacher_id, starts_at, duration_minutes, format, status, created_at)
			 VALUES ($1, $2, $3, $4, $5, 'confirmed', $6) RETURNING id`,
			nb.StudentID, nb.TeacherID, nb.StartsAt.Unix(), int(domain.SlotLength/time.Minute), nb.Format, now.Unix()).Scan(&id)
		if isUniqueViolation(err) {
			return domain.ErrSlotTaken
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	items, err := db.queryBookings(ctx, `WHERE b.id = $1`, id)
	if err != nil {
		return nil, err
	}
	return items[0], nil
}

// CancelBooking cancels a pending or confirmed booking; any other is
// domain.ErrNotCancellable, so that two cancellations never both succeed.
func (db *DB) CancelBooking(ctx context.Context, id int64) error {
	res, err := db.q.ExecContext(ctx, `UPDATE bookings SET status = 'cancelled' WHERE id = $1 AND status IN ('pending', 'confirmed')`, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return domain.ErrNotCancellable
	}
	return nil
}
