package domain

import (
	"slices"
	"time"
)

// Booking is a one-hour lesson of a student with a teacher.
type Booking struct {
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

// Booking statuses. Every status but cancelled holds the slot: a teacher's slot, and a
// student's, has at most one such booking (the store refuses a second with ErrSlotTaken).
const (
	BookingPending   = "pending"
	BookingConfirmed = "confirmed"
	BookingCancelled = "cancelled"
	BookingCompleted = "completed"
)

// BookingFormats are the ways a lesson is given.
var BookingFormats = []string{"online", "in_person", "hybrid"}

// SlotLength is the length of a booking; slots start on the hour.
const SlotLength = time.Hour

// maxBookingAhead is how far ahead a slot may be booked.
const maxBookingAhead = 1 // year

// NewBooking is a validated booking to create.
type NewBooking struct {
	StudentID, TeacherID int64
	StartsAt             time.Time // UTC, on the hour
	Format               string
}

// CheckNewBooking validates a booking requested at now: a known format and a start on
// the hour, in the future and within a year. The start is returned in UTC.
func CheckNewBooking(studentID, teacherID int64, start time.Time, format string, now time.Time) (*NewBooking, error) {
	if !slices.Contains(BookingFormats, format) {
		return nil, Invalid("format must be online, in_person or hybrid")
	}
	start = start.UTC()
	switch {
	case start.IsZero():
		return nil, Invalid("starts_at is required (RFC 3339)")
	case !start.Equal(start.Truncate(SlotLength)):
		return nil, Invalid("starts_at must be on the hour")
	case !start.After(now):
		return nil, Invalid("starts_at must be in the future")
	case start.After(now.AddDate(maxBookingAhead, 0, 0)):
		return nil, Invalid("starts_at must be within a year")
	}
	return &NewBooking{StudentID: studentID, TeacherID: teacherID, StartsAt: start, Format: format}, nil
}

// Cancellable reports whether a booking in status may still be cancelled: pending or
// confirmed ones only.
func Cancellable(status string) bool {
	return status == BookingPending || status == BookingConfirmed
}

// CheckCancel refuses to cancel a booking that is no longer pending or confirmed.
func (b *Booking) CheckCancel() error {
	if !Cancellable(b.Status) {
		return ErrNotCancellable
	}
	return nil
}
