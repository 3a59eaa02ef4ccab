package domain

import (
	"strings"
	"testing"
	"time"
)

func TestParseBookingHours(t *testing.T) {
	for in, want := range map[string][2]int{
		"08:00-21:00":    {8 * 60, 21 * 60},
		" 07:30 - 24:00": {7*60 + 30, 24 * 60},
		"00:00-01:00":    {0, 60},
	} {
		h, err := ParseBookingHours(in)
		if err != nil || h.Open != want[0] || h.Close != want[1] {
			t.Errorf("%q: %+v, %v", in, h, err)
		}
	}
	for _, in := range []string{"", "8-21", "08:00", "21:00-08:00", "08:00-08:30", "08:00-24:01", "25:00-26:00",
		"08:60-21:00", "+8:00-21:00", "08:-1-21:00", "-1:00-21:00", "08:00-21:00-22:00", "08h00-21h00"} {
		if _, err := ParseBookingHours(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

// FuzzParseBookingHours: any accepted window is well-formed and reads back the same.
func FuzzParseBookingHours(f *testing.F) {
	for _, s := range []string{"08:00-21:00", "00:00-24:00", "7:00-9:00", "23:00-24:00", "08:00-", "-", "24:00-24:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParseBookingHours(s)
		if err != nil {
			return
		}
		if h.Open < 0 || h.Close > 24*60 || h.Close-h.Open < 60 {
			t.Fatalf("%q gave %+v", s, h)
		}
		again, err := ParseBookingHours(strings.TrimSuffix(h.String(), " UTC"))
		if err != nil || again != h {
			t.Fatalf("%q: %s read back as %+v, %v", s, h, again, err)
		}
	})
}

func TestBookingHoursCheck(t *testing.T) {
	tunis, err := time.LoadLocation("Africa/Tunis") // UTC+1, no DST
	if err != nil {
		t.Fatal(err)
	}
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	h, _ := ParseBookingHours("08:00-21:00")
	h.Location = tunis
	for start, ok := range map[time.Time]bool{
		time.Date(2026, 3, 10, 7, 0, 0, 0, time.UTC):  true,  // 08:00-09:00 in Tunis
		time.Date(2026, 3, 10, 6, 0, 0, 0, time.UTC):  false, // 07:00
		time.Date(2026, 3, 10, 19, 0, 0, 0, time.UTC): true,  // 20:00-21:00
		time.Date(2026, 3, 10, 20, 0, 0, 0, time.UTC): false, // 21:00-22:00
		time.Date(2026, 3, 10, 2, 0, 0, 0, time.UTC):  false, // 03:00, night
		time.Date(2026, 3, 10, 23, 0, 0, 0, time.UTC): false, // midnight
	} {
		err := h.Check(start)
		if ok != (err == nil) {
			t.Errorf("%s: %v", start, err)
		}
		if !ok && (kindOf(err) != KindUnprocessable || !strings.Contains(err.Error(), "between 08:00 and 21:00 (Africa/Tunis time)")) {
			t.Errorf("%s: %v, want an unprocessable error naming the window", start, err)
		}
	}
	// The same UTC hour is inside the window in winter and outside in summer in Paris.
	h.Location = paris
	if err := h.Check(time.Date(2026, 1, 15, 19, 0, 0, 0, time.UTC)); err != nil { // 20:00 CET
		t.Errorf("winter: %v", err)
	}
	if err := h.Check(time.Date(2026, 7, 15, 19, 0, 0, 0, time.UTC)); err == nil { // 21:00 CEST
		t.Error("summer: 21:00-22:00 accepted")
	}
	// A window to midnight takes the last hour of the day.
	late, _ := ParseBookingHours("20:00-24:00")
	if err := late.Check(time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC)); err != nil {
		t.Errorf("23:00-24:00 on New Year's Eve: %v", err)
	}
}

func TestDefaultQuotas(t *testing.T) {
	q := DefaultQuotas()
	if q.AriaDaily != 50 || q.MaxActiveBookings != 10 || q.MaxChildren != 6 || q.Hours.String() != "08:00-21:00 Africa/Tunis" {
		t.Fatalf("%+v (%s)", q, q.Hours)
	}
}
