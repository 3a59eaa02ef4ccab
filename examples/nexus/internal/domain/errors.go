// Package domain holds the rules of the platform as plain Go: who may act for which
// student, what a booking slot is, when a booking may be cancelled, how many students a
// group takes, the ARIA quota, and what valid accounts, profiles and formulas look like.
//
// Rules that must hold under concurrent requests (one live booking per teacher slot, at
// most GroupCapacity students per group) are enforced by the store in the database; the
// errors they produce are declared here, so callers tell them apart with errors.Is.
package domain

import "time"

// Kind classifies a rule violation; the HTTP layer maps it to a status.
type Kind uint8

// Kinds of rule violations.
const (
	KindInvalid   Kind = iota + 1 // the request breaks a rule of its content
	KindForbidden                 // the caller may not do this
	KindNotFound                  // no such thing, or not one the caller may see
	KindConflict                  // the current state forbids it (taken, full, done)
	KindQuota                     // the caller used up a quota
	// KindUnprocessable: well formed, but outside what the platform offers (a lesson at
	// night) or refused by a policy (a password that is too easy to guess).
	KindUnprocessable
)

// Error is a rule violation; its message is written for the caller and safe to show.
type Error struct {
	Kind Kind
	Msg  string
	// RetryAfter, for KindQuota, is when to try again.
	RetryAfter time.Duration
}

func (e *Error) Error() string { return e.Msg }

// Invalid is a KindInvalid error.
func Invalid(msg string) error { return &Error{Kind: KindInvalid, Msg: msg} }

// Forbidden is a KindForbidden error.
func Forbidden(msg string) error { return &Error{Kind: KindForbidden, Msg: msg} }

// Unprocessable is a KindUnprocessable error.
func Unprocessable(msg string) error { return &Error{Kind: KindUnprocessable, Msg: msg} }

// NotFound is a KindNotFound error for what ("student" gives "student not found").
func NotFound(what string) error { return &Error{Kind: KindNotFound, Msg: what + " not found"} }

// Conflict is a KindConflict error.
func Conflict(msg string) error { return &Error{Kind: KindConflict, Msg: msg} }

// Conflicts the store reports when the database refuses a write.
var (
	ErrEmailTaken       = Conflict("an account with this email already exists")
	ErrSlotTaken        = Conflict("this slot is already booked")
	ErrNotCancellable   = Conflict("only pending or confirmed bookings can be cancelled")
	ErrAlreadyEnrolled  = Conflict("the student is already in this group")
	ErrGroupFull        = Conflict("the group is full")
	ErrFormulaNameTaken = Conflict("another formula has this name")
)
