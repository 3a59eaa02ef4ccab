package domain

import (
	"errors"
	"testing"
	"time"
)

func TestCheckNewBooking(t *testing.T) {
	now := time.Date(2025, 3, 10, 14, 20, 0, 0, time.UTC)
	tunis := time.FixedZone("Africa/Tunis", 3600)
	cases := []struct {
		start  time.Time
		format string
		want   string // the message of the error, "" when accepted
	}{
		{time.Date(2025, 3, 11, 9, 0, 0, 0, time.UTC), "online", ""},
		{time.Date(2025, 3, 10, 15, 0, 0, 0, time.UTC), "in_person", ""}, // the next whole hour
		{time.Date(2025, 3, 11, 10, 0, 0, 0, tunis), "hybrid", ""},       // 09:00 UTC
		{time.Date(2026, 3, 10, 14, 0, 0, 0, time.UTC), "online", ""},    // within a year
		{time.Date(2025, 3, 11, 9, 0, 0, 0, time.UTC), "phone", "format must be online, in_person or hybrid"},
		{time.Date(2025, 3, 11, 9, 0, 0, 0, time.UTC), "", "format must be online, in_person or hybrid"},
		{time.Time{}, "online", "starts_at is required (RFC 3339)"},
		{time.Date(2025, 3, 11, 9, 30, 0, 0, time.UTC), "online", "starts_at must be on the hour"},
		{time.Date(2025, 3, 11, 9, 0, 1, 0, time.UTC), "online", "starts_at must be on the hour"},
		{time.Date(2025, 3, 11, 9, 0, 0, 0, time.FixedZone("India", 5*3600+1800)), "online", "starts_at must be on the hour"},
		{time.Date(2025, 3, 10, 14, 0, 0, 0, time.UTC), "online", "starts_at must be in the future"},
		{now.Add(-24 * time.Hour).Truncate(time.Hour), "online", "starts_at must be in the future"},
		{time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC), "online", "starts_at must be within a year"},
	}
	for _, c := range cases {
		nb, err := CheckNewBooking(7, 3, c.start, c.format, now)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%v %s: %v", c.start, c.format, err)
		case c.want == "" && (!nb.StartsAt.Equal(c.start) || nb.StartsAt.Location() != time.UTC || nb.StudentID != 7 || nb.TeacherID != 3):
			t.Errorf("%v %s: %+v", c.start, c.format, nb)
		case c.want != "" && (err == nil || err.Error() != c.want || kindOf(err) != KindInvalid):
			t.Errorf("%v %s: %v, want %q", c.start, c.format, err, c.want)
		}
	}
}

// TestCancellation: pending and confirmed bookings may be cancelled, once.
func TestCancellation(t *testing.T) {
	for status, ok := range map[string]bool{
		BookingPending: true, BookingConfirmed: true, BookingCancelled: false, BookingCompleted: false, "": false,
	} {
		b := &Booking{Status: status}
		err := b.CheckCancel()
		if ok != (err == nil) || Cancellable(status) != ok {
			t.Errorf("status %q: %v", status, err)
		}
		if !ok && !errors.Is(err, ErrNotCancellable) {
			t.Errorf("status %q: %v, want ErrNotCancellable", status, err)
		}
	}
}

func TestGroupSeats(t *testing.T) {
	for _, c := range []struct{ capacity, enrolled, available int }{
		{GroupCapacity, 0, 6}, {GroupCapacity, 5, 1}, {GroupCapacity, 6, 0}, {3, 3, 0},
	} {
		g := Group{Capacity: c.capacity, Enrolled: c.enrolled}
		g.CountSeats()
		if g.Available != c.available {
			t.Errorf("%+v: %d available, want %d", c, g.Available, c.available)
		}
	}
}
