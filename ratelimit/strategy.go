package ratelimit

import (
	"math"
	"time"
)

// Strategy selects how a window counts.
type Strategy uint8

const (
	// FixedWindow counts units in a window that opens at the first charge after the
	// previous window ended and lasts one period, as go-limiter and Flask-Limiter's
	// fixed-window strategy do. A client may spend a full quota at the end of one window
	// and another at the start of the next.
	FixedWindow Strategy = iota
	// SlidingWindow is the sliding-window counter: windows are aligned to multiples of
	// the period since the Unix epoch, and the previous window's count is weighted by
	// the share of it still inside the sliding period. It has no double burst at window
	// edges and costs no more than FixedWindow.
	SlidingWindow
)

// String returns "fixed-window" or "sliding-window".
func (s Strategy) String() string {
	switch s {
	case FixedWindow:
		return "fixed-window"
	case SlidingWindow:
		return "sliding-window"
	}
	return "unknown"
}

func (s Strategy) valid() bool { return s == FixedWindow || s == SlidingWindow }

// WindowState is what a store keeps for one limit of one key. The zero value is a key
// never charged.
type WindowState struct {
	// Start is, for FixedWindow, the Unix time in nanoseconds at which the current
	// window opened; for SlidingWindow, the index of the current window (Unix time
	// divided by the period).
	Start int64
	// Count is the number of units charged in the current window.
	Count uint64
	// Prev is, for SlidingWindow, the number of units charged in the previous window.
	Prev uint64
}

// Advance returns st as seen at now (Unix nanoseconds): an ended window is replaced by a
// new one. A now earlier than the window (a clock that went back) keeps the window.
func (s Strategy) Advance(l Limit, st WindowState, now int64) WindowState {
	p := int64(l.Period)
	if s == SlidingWindow {
		idx := now / p
		switch {
		case idx == st.Start+1:
			return WindowState{Start: idx, Prev: st.Count}
		case idx > st.Start+1:
			return WindowState{Start: idx}
		}
		return st
	}
	if now-st.Start >= p {
		return WindowState{Start: now}
	}
	return st
}

// estimate is the number of units the window counts at now, st already advanced.
func (s Strategy) estimate(l Limit, st WindowState, now int64) float64 {
	if s != SlidingWindow || st.Prev == 0 {
		return float64(st.Count)
	}
	p := int64(l.Period)
	left := p - (now - st.Start*p)
	if left < 0 {
		left = 0
	}
	return float64(st.Prev)*float64(left)/float64(p) + float64(st.Count)
}

// Fits reports whether cost more units fit in the window, st already advanced to now.
func (s Strategy) Fits(l Limit, st WindowState, now int64, cost uint64) bool {
	if s != SlidingWindow {
		return st.Count+cost <= l.Count
	}
	return s.estimate(l, st, now)+float64(cost) <= float64(l.Count)
}

// Status describes the window for headers: units remaining, time until the quota is
// whole again, and time until cost more units fit. st must be advanced to now.
func (s Strategy) Status(l Limit, st WindowState, now int64, cost uint64) LimitStatus {
	var ls LimitStatus
	s.status(&ls, l, st, now, cost)
	return ls
}

func (s Strategy) status(ls *LimitStatus, l Limit, st WindowState, now int64, cost uint64) {
	if s != SlidingWindow {
		fixedStatus(ls, l, st, now, cost)
		return
	}
	slidingStatus(ls, l, st, now, cost)
}

func fixedStatus(ls *LimitStatus, l Limit, st WindowState, now int64, cost uint64) {
	ls.Limit = l
	ls.Remaining = 0
	if st.Count < l.Count {
		ls.Remaining = l.Count - st.Count
	}
	ls.Reset = time.Duration(st.Start + int64(l.Period) - now)
	ls.RetryAfter = 0
	if st.Count+cost > l.Count {
		ls.RetryAfter = ls.Reset
	}
}

func slidingStatus(ls *LimitStatus, l Limit, st WindowState, now int64, cost uint64) {
	*ls = LimitStatus{Limit: l}
	s := SlidingWindow
	p := int64(l.Period)
	est := s.estimate(l, st, now)
	if rem := float64(l.Count) - est; rem > 0 {
		ls.Remaining = uint64(math.Floor(rem))
	}
	end := (st.Start+1)*p - now // until the current window ends
	switch {
	case st.Count > 0:
		ls.Reset = time.Duration(end + p)
	case st.Prev > 0:
		ls.Reset = time.Duration(end)
	}
	if s.Fits(l, st, now, cost) {
		return
	}
	if cost > l.Count {
		ls.RetryAfter = ls.Reset
		return
	}
	// Inside the current window the estimate is Prev*(end-t)/p + Count.
	room := float64(l.Count) - float64(cost) - float64(st.Count)
	if room >= 0 && st.Prev > 0 {
		t := float64(end) - room*float64(p)/float64(st.Prev)
		ls.RetryAfter = time.Duration(math.Ceil(math.Max(t, 0)))
		return
	}
	// In the next window the estimate is Count*(p-t')/p.
	room = float64(l.Count) - float64(cost)
	t := float64(p) - room*float64(p)/float64(st.Count)
	ls.RetryAfter = time.Duration(end) + time.Duration(math.Ceil(math.Max(t, 0)))
}
