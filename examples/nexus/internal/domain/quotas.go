package domain

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Quotas bound what one account may take of the platform's shared resources. The store
// enforces the counted ones atomically, whatever the concurrency.
type Quotas struct {
	// AriaDaily is how many questions a user may ask ARIA per calendar day (UTC).
	AriaDaily int
	// MaxActiveBookings is how many pending or confirmed bookings, not yet started, a
	// student may hold at once.
	MaxActiveBookings int
	// MaxChildren is how many student accounts a parent may create.
	MaxChildren int
	// Hours are when lessons may take place.
	Hours BookingHours
}

// Default quotas.
const (
	DefaultMaxActiveBookings = 10
	DefaultMaxChildren       = 6
	DefaultBookingTimezone   = "Africa/Tunis"
	DefaultBookingHours      = "08:00-21:00"
)

// DefaultQuotas are the quotas when nothing is configured.
func DefaultQuotas() Quotas {
	h, _ := ParseBookingHours(DefaultBookingHours)
	if loc, err := time.LoadLocation(DefaultBookingTimezone); err == nil {
		h.Location = loc
	}
	return Quotas{AriaDaily: AriaDailyLimit, MaxActiveBookings: DefaultMaxActiveBookings, MaxChildren: DefaultMaxChildren, Hours: h}
}

// BookingHours is the daily window, in a time zone, in which every lesson must start and
// end: Open and Close are minutes after local midnight, 0 ≤ Open < Close ≤ 24 h.
type BookingHours struct {
	Location    *time.Location // nil = UTC
	Open, Close int            // minutes after midnight
}

// ParseBookingHours reads "HH:MM-HH:MM" (24-hour clock; the end may be 24:00) into a
// window in UTC; set Location for another zone.
func ParseBookingHours(s string) (BookingHours, error) {
	from, to, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return BookingHours{}, errors.New(`want "HH:MM-HH:MM", such as 08:00-21:00`)
	}
	open, err := parseClock(strings.TrimSpace(from))
	if err != nil {
		return BookingHours{}, err
	}
	closing, err := parseClock(strings.TrimSpace(to))
	if err != nil {
		return BookingHours{}, err
	}
	if open >= closing {
		return BookingHours{}, errors.New("the window must end after it starts, within the day")
	}
	if closing-open < int(SlotLength/time.Minute) {
		return BookingHours{}, errors.New("the window must hold at least one one-hour lesson")
	}
	return BookingHours{Open: open, Close: closing}, nil
}

// parseClock reads "HH:MM" as minutes after midnight, 00:00 to 24:00.
func parseClock(s string) (int, error) {
	hh, mm, ok := strings.Cut(s, ":")
	if !ok || len(hh) != 2 || len(mm) != 2 {
		return 0, fmt.Errorf("%q is not a time HH:MM", s)
	}
	h, err1 := strconv.Atoi(hh)
	m, err2 := strconv.Atoi(mm)
	if err1 != nil || err2 != nil || hh[0] == '+' || mm[0] == '+' || h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("%q is not a time HH:MM between 00:00 and 24:00", s)
	}
	return h*60 + m, nil
}

// String is the window as ParseBookingHours reads it, with its zone.
func (h BookingHours) String() string {
	return fmt.Sprintf("%02d:%02d-%02d:%02d %s", h.Open/60, h.Open%60, h.Close/60, h.Close%60, h.location())
}

func (h BookingHours) location() *time.Location {
	if h.Location == nil {
		return time.UTC
	}
	return h.Location
}

// Check refuses a lesson starting at start that does not lie wholly within the window,
// on the local day it starts.
func (h BookingHours) Check(start time.Time) error {
	local := start.In(h.location())
	from := local.Hour()*60 + local.Minute()
	// The end on the same local clock: a lesson that crosses a DST change still lasts
	// SlotLength, so measure the end on its own.
	end := local.Add(SlotLength)
	to := end.Hour()*60 + end.Minute()
	if end.YearDay() != local.YearDay() {
		to += 24 * 60
	}
	if from < h.Open || to > h.Close {
		return Unprocessable(fmt.Sprintf("lessons take place between %02d:%02d and %02d:%02d (%s time); this one would run from %s to %s",
			h.Open/60, h.Open%60, h.Close/60, h.Close%60, h.location(), local.Format("15:04"), end.Format("15:04")))
	}
	return nil
}

// ErrTooManyBookings is the refusal of a booking past Quotas.MaxActiveBookings.
func ErrTooManyBookings(limit int) error {
	return Conflict(fmt.Sprintf("a student may hold at most %d upcoming bookings; cancel one or wait until one has taken place", limit))
}

// ErrTooManyChildren is the refusal of a child account past Quotas.MaxChildren.
func ErrTooManyChildren(limit int) error {
	return Conflict(fmt.Sprintf("a parent may create at most %d student accounts", limit))
}

// AriaQuotaExceeded is the refusal of a question past Quotas.AriaDaily, asked at now:
// try again at the next UTC midnight.
func AriaQuotaExceeded(limit int, now time.Time) error {
	next := AriaDay(now).Add(24 * time.Hour)
	return &Error{Kind: KindQuota, Msg: fmt.Sprintf("ARIA answers at most %d questions per day", limit), RetryAfter: max(next.Sub(now), time.Second).Round(time.Second)}
}

// AriaDay is the start of the UTC day of t, the unit of the ARIA quota.
func AriaDay(t time.Time) time.Time { return t.UTC().Truncate(24 * time.Hour) }
