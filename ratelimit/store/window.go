package store

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

// Evaluate applies one take of cost units to the states of a key's limits at now (Unix
// nanoseconds) and describes the outcome in *d: it advances every state, charges all
// of them when all fit, and fills d.Allowed, d.N and d.Limits. states must have
// len(rule) elements; they are updated only when the take is allowed, and Evaluate then
// returns the Unix time in nanoseconds after which no window of the key counts anything
// (when a store may forget the key); zero otherwise. A store must validate rule and
// strategy first (Rule.Validate).
func Evaluate(d *Decision, rule Rule, s Strategy, states []WindowState, now int64, cost uint64) (expires int64) {
	states = states[:len(rule)]
	d.N = len(rule)
	d.Allowed = true
	for i, l := range rule {
		if !s.fits(l, s.advance(l, states[i], now), now, cost) {
			d.Allowed = false
			break
		}
	}
	for i, l := range rule {
		st := s.advance(l, states[i], now)
		if d.Allowed {
			st.Count += cost
			states[i] = st
			expires = max(expires, s.end(l, st))
		}
		if s == SlidingWindow {
			d.Limits[i] = slidingStatus(l, st, now, cost)
		} else {
			d.Limits[i] = fixedStatus(l, st, now, cost)
		}
	}
	return expires
}

// advance returns st as seen at now: an ended window is replaced by a new one. A now
// earlier than the window (a clock that went back) keeps the window.
func (s Strategy) advance(l Limit, st WindowState, now int64) WindowState {
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

// end is the Unix time in nanoseconds after which st counts nothing.
func (s Strategy) end(l Limit, st WindowState) int64 {
	if s == SlidingWindow {
		return (st.Start + 2) * int64(l.Period)
	}
	return st.Start + int64(l.Period)
}

// estimate is the number of units the window counts at now, st already advanced.
func (s Strategy) estimate(l Limit, st WindowState, now int64) float64 {
	if s != SlidingWindow || st.Prev == 0 {
		return float64(st.Count)
	}
	p := int64(l.Period)
	left := max(p-(now-st.Start*p), 0)
	return float64(st.Prev)*float64(left)/float64(p) + float64(st.Count)
}

// fits reports whether cost more units fit in the window, st already advanced to now.
func (s Strategy) fits(l Limit, st WindowState, now int64, cost uint64) bool {
	if s != SlidingWindow {
		return st.Count+cost <= l.Count
	}
	return s.estimate(l, st, now)+float64(cost) <= float64(l.Count)
}

// Status describes the window of limit l in state st at now (Unix nanoseconds), st
// already advanced to now and charged when the take was allowed: the units remaining,
// the time until the quota is whole again, and the time until cost more units fit.
func (s Strategy) Status(l Limit, st WindowState, now int64, cost uint64) LimitStatus {
	if s == SlidingWindow {
		return slidingStatus(l, st, now, cost)
	}
	return fixedStatus(l, st, now, cost)
}

func fixedStatus(l Limit, st WindowState, now int64, cost uint64) LimitStatus {
	ls := LimitStatus{Limit: l, Reset: time.Duration(st.Start + int64(l.Period) - now)}
	if st.Count < l.Count {
		ls.Remaining = l.Count - st.Count
	}
	if st.Count+cost > l.Count {
		ls.RetryAfter = ls.Reset
	}
	return ls
}

func slidingStatus(l Limit, st WindowState, now int64, cost uint64) LimitStatus {
	s := SlidingWindow
	ls := LimitStatus{Limit: l}
	p := int64(l.Period)
	if rem := float64(l.Count) - s.estimate(l, st, now); rem > 0 {
		ls.Remaining = uint64(math.Floor(rem))
	}
	end := (st.Start+1)*p - now // until the current window ends
	switch {
	case st.Count > 0:
		ls.Reset = time.Duration(end + p)
	case st.Prev > 0:
		ls.Reset = time.Duration(end)
	}
	if s.fits(l, st, now, cost) {
		return ls
	}
	if cost > l.Count {
		ls.RetryAfter = ls.Reset
		return ls
	}
	// Inside the current window the estimate is Prev*(end-t)/p + Count.
	room := float64(l.Count) - float64(cost) - float64(st.Count)
	if room >= 0 && st.Prev > 0 {
		t := float64(end) - room*float64(p)/float64(st.Prev)
		ls.RetryAfter = time.Duration(math.Ceil(math.Max(t, 0)))
		return ls
	}
	// In the next window the estimate is Count*(p-t')/p.
	room = float64(l.Count) - float64(cost)
	t := float64(p) - room*float64(p)/float64(st.Count)
	ls.RetryAfter = time.Duration(end) + time.Duration(math.Ceil(math.Max(t, 0)))
	return ls
}
