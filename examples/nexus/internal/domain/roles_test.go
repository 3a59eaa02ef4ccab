package domain

import (
	"errors"
	"testing"
)

// kindOf is the Kind of a rule violation, 0 for nil or another error.
func kindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return 0
}

func TestCheckRegistration(t *testing.T) {
	for _, r := range []Role{RoleStudent, RoleParent} {
		if err := CheckRegistration(r); err != nil {
			t.Errorf("%s: %v", r, err)
		}
	}
	for _, r := range []Role{RoleTeacher, RoleAdmin, "ADMIN", "", "superuser"} {
		if err := CheckRegistration(r); kindOf(err) != KindForbidden {
			t.Errorf("%q: %v, want forbidden", r, err)
		}
	}
}

func TestRoleValid(t *testing.T) {
	for _, r := range Roles {
		if !r.Valid() {
			t.Errorf("%s not valid", r)
		}
	}
	for _, r := range []Role{"", "root", "Admin", "student "} {
		if r.Valid() {
			t.Errorf("%q valid", r)
		}
	}
}

// TestActingStudent: whom each role may act for (book, enrol), and which answers need
// the store.
func TestActingStudent(t *testing.T) {
	const self, child, other = 10, 20, 30
	links := map[int64]StudentLink{child: {Exists: true, ChildOf: true}, other: {Exists: true}}
	errStore := errors.New("store down")
	cases := []struct {
		role      Role
		requested int64
		want      int64
		kind      Kind
		asks      bool // the decision needs the link
	}{
		{RoleStudent, 0, self, 0, false},
		{RoleStudent, self, self, 0, false},
		{RoleStudent, other, 0, KindForbidden, false},
		{RoleParent, 0, 0, KindInvalid, false},
		{RoleParent, child, child, 0, true},
		{RoleParent, other, 0, KindForbidden, true},
		{RoleParent, 404, 0, KindForbidden, true},
		{RoleAdmin, 0, 0, KindInvalid, false},
		{RoleAdmin, other, other, 0, true},
		{RoleAdmin, child, child, 0, true},
		{RoleAdmin, 404, 0, KindNotFound, true},
		{RoleTeacher, 0, 0, KindForbidden, false},
		{RoleTeacher, other, 0, KindForbidden, false},
	}
	for _, c := range cases {
		asked := false
		got, err := ActingStudent(Principal{UserID: self, Role: c.role}, c.requested, func() (StudentLink, error) {
			asked = true
			return links[c.requested], nil
		})
		if got != c.want || kindOf(err) != c.kind || (c.kind == 0) != (err == nil) || asked != c.asks {
			t.Errorf("%s for %d: %d, %v (asked the store: %v); want %d, kind %d (ask: %v)", c.role, c.requested, got, err, asked, c.want, c.kind, c.asks)
		}
	}
	// A failing lookup is passed on, never taken for a yes.
	if _, err := ActingStudent(Principal{UserID: self, Role: RoleParent}, child, func() (StudentLink, error) {
		return StudentLink{}, errStore
	}); !errors.Is(err, errStore) {
		t.Errorf("lookup failure: %v", err)
	}
}
