package domain

import "slices"

// Role is what an account is on the platform.
type Role string

// Roles.
const (
	RoleStudent Role = "student"
	RoleParent  Role = "parent"
	RoleTeacher Role = "teacher"
	RoleAdmin   Role = "admin"
)

// Roles lists every role.
var Roles = []Role{RoleStudent, RoleParent, RoleTeacher, RoleAdmin}

// RegistrationRoles are the roles anyone may sign up for; admins create the others.
var RegistrationRoles = []Role{RoleStudent, RoleParent}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// In reports whether r is one of roles.
func (r Role) In(roles ...Role) bool { return slices.Contains(roles, r) }

// Principal is an authenticated caller.
type Principal struct {
	UserID    int64
	Role      Role
	SessionID string
}

// CheckRegistration refuses a self-registration for a role other than student or parent.
func CheckRegistration(r Role) error {
	if !r.In(RegistrationRoles...) {
		return Forbidden("only student and parent accounts can be registered")
	}
	return nil
}

// StudentLink is what the store knows of a student a caller names.
type StudentLink struct {
	Exists  bool // a student account has this id
	ChildOf bool // the caller is a parent of this student
}

// ActingStudent returns the student p acts for when it names requested (0: none).
// Students act for themselves only, parents for one of their children, admins for any
// existing student, teachers for nobody. link is asked only when the answer depends on
// the student named.
func ActingStudent(p Principal, requested int64, link func() (StudentLink, error)) (int64, error) {
	switch p.Role {
	case RoleStudent:
		if requested != 0 && requested != p.UserID {
			return 0, Forbidden("students act for themselves only")
		}
		return p.UserID, nil
	case RoleParent, RoleAdmin:
		if requested == 0 {
			return 0, Invalid("student_id is required")
		}
		l, err := link()
		switch {
		case err != nil:
			return 0, err
		case p.Role == RoleParent && !l.ChildOf:
			return 0, Forbidden("this student is not your child")
		case p.Role == RoleAdmin && !l.Exists:
			return 0, NotFound("student")
		}
		return requested, nil
	}
	return 0, Forbidden("your role may not act for a student")
}
