package main

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"time"
)

// Booking slots are whole hours; the database refuses a second live booking of the same
// teacher (or student) at the same start, which is what prevents double booking under
// concurrent requests.
const slotLength = time.Hour

var bookingFormats = []string{"online", "in_person", "hybrid"}

type bookingJSON struct {
	ID          int64     `json:"id"`
	StudentID   int64     `json:"student_id"`
	StudentName string    `json:"student_name"`
	TeacherID   int64     `json:"teacher_id"`
	TeacherName string    `json:"teacher_name"`
	StartsAt    time.Time `json:"starts_at"`
	EndsAt      time.Time `json:"ends_at"`
	Duration    int       `json:"duration_minutes"`
	Format      string    `json:"format"`
	Status      string    `json:"status"`
	MeetingURL  string    `json:"meeting_url"`
}

const bookingSelect = `SELECT b.id, b.student_id, su.first_name || ' ' || su.last_name, b.teacher_id, tu.first_name || ' ' || tu.last_name,
	b.starts_at, b.duration_minutes, b.format, b.status, b.meeting_url
	FROM bookings b JOIN users su ON su.id = b.student_id JOIN users tu ON tu.id = b.teacher_id `

func (a *app) queryBookings(ctx context.Context, tail string, args ...any) ([]*bookingJSON, error) {
	rows, err := a.db.QueryContext(ctx, bookingSelect+tail, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*bookingJSON{}
	for rows.Next() {
		b := &bookingJSON{}
		var starts int64
		if err := rows.Scan(&b.ID, &b.StudentID, &b.StudentName, &b.TeacherID, &b.TeacherName, &starts, &b.Duration, &b.Format, &b.Status, &b.MeetingURL); err != nil {
			return nil, err
		}
		b.StartsAt = time.Unix(starts, 0).UTC()
		b.EndsAt = b.StartsAt.Add(time.Duration(b.Duration) * time.Minute)
		out = append(out, b)
	}
	return out, rows.Err()
}

// bookingScope is the condition on b for the bookings p may see, bound to $1.
func bookingScope(p *principal) string {
	switch p.Role {
	case roleAdmin:
		return "$1 > 0"
	case roleTeacher:
		return "b.teacher_id = $1"
	case roleParent:
		return "b.student_id IN (SELECT student_id FROM parent_children WHERE parent_id = $1)"
	default:
		return "b.student_id = $1"
	}
}

func (a *app) handleListBookings(w http.ResponseWriter, r *http.Request, p *principal) error {
	page, per, err := pageParams(r)
	if err != nil {
		return err
	}
	items, err := a.queryBookings(r.Context(), `WHERE `+bookingScope(p)+` ORDER BY b.starts_at DESC, b.id DESC LIMIT $2 OFFSET $3`, p.UserID, per, (page-1)*per)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"bookings": items, "page": page, "per_page": per})
	return nil
}

type createBookingRequest struct {
	TeacherID int64     `json:"teacher_id"`
	StudentID int64     `json:"student_id"`
	StartsAt  time.Time `json:"starts_at"`
	Format    string    `json:"format"`
}

// actingStudent resolves which student a request acts for: students for themselves,
// parents for one of their children, admins for anyone.
func (a *app) actingStudent(ctx context.Context, p *principal, requested int64) (int64, error) {
	switch p.Role {
	case roleStudent:
		if requested != 0 && requested != p.UserID {
			return 0, forbidden("students act for themselves only")
		}
		return p.UserID, nil
	case roleParent:
		if requested == 0 {
			return 0, invalid("student_id is required")
		}
		var one int
		err := a.db.QueryRowContext(ctx, `SELECT 1 FROM parent_children WHERE parent_id = $1 AND student_id = $2`, p.UserID, requested).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, forbidden("this student is not your child")
		}
		return requested, err
	case roleAdmin:
		if requested == 0 {
			return 0, invalid("student_id is required")
		}
		var one int
		err := a.db.QueryRowContext(ctx, `SELECT 1 FROM students WHERE user_id = $1`, requested).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, notFound("student")
		}
		return requested, err
	}
	return 0, forbidden("your role may not act for a student")
}

func (a *app) handleCreateBooking(w http.ResponseWriter, r *http.Request, p *principal) error {
	var req createBookingRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	ctx := r.Context()
	studentID, err := a.actingStudent(ctx, p, req.StudentID)
	if err != nil {
		return err
	}
	if !oneOf(req.Format, bookingFormats) {
		return invalid("format must be online, in_person or hybrid")
	}
	start := req.StartsAt.UTC()
	now := a.now()
	switch {
	case start.IsZero():
		return invalid("starts_at is required (RFC 3339)")
	case !start.Equal(start.Truncate(slotLength)):
		return invalid("starts_at must be on the hour")
	case !start.After(now):
		return invalid("starts_at must be in the future")
	case start.After(now.AddDate(1, 0, 0)):
		return invalid("starts_at must be within a year")
	}
	var one int
	err = a.db.QueryRowContext(ctx, `SELECT 1 FROM teachers t JOIN users u ON u.id = t.user_id WHERE t.user_id = $1 AND u.status = 'active'`, req.TeacherID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound("teacher")
	}
	if err != nil {
		return err
	}
	var id int64
	err = a.db.QueryRowContext(ctx,
		`INSERT INTO bookings (student_id, teacher_id, starts_at, duration_minutes, format, status, created_at)
		 VALUES ($1, $2, $3, $4, $5, 'confirmed', $6) RETURNING id`,
		studentID, req.TeacherID, start.Unix(), int(slotLength/time.Minute), req.Format, now.Unix()).Scan(&id)
	if isUniqueViolation(err) {
		return conflict("this slot is already booked")
	}
	if err != nil {
		return err
	}
	items, err := a.queryBookings(ctx, `WHERE b.id = $1`, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, items[0])
	return nil
}

// handleCancelBooking cancels a pending or confirmed booking: its student, the student's
// parents, its teacher, or an admin.
func (a *app) handleCancelBooking(w http.ResponseWriter, r *http.Request, p *principal) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	items, err := a.queryBookings(ctx, `WHERE `+bookingScope(p)+` AND b.id = $2`, p.UserID, id)
	if err != nil {
		return err
	}
	if len(items) == 0 {
		return notFound("booking")
	}
	res, err := a.db.ExecContext(ctx, `UPDATE bookings SET status = 'cancelled' WHERE id = $1 AND status IN ('pending', 'confirmed')`, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return conflict("only pending or confirmed bookings can be cancelled")
	}
	b := items[0]
	b.Status = "cancelled"
	writeJSON(w, http.StatusOK, b)
	return nil
}
