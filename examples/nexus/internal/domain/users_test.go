package domain

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestValidateNewUser(t *testing.T) {
	nu, err := ValidateNewUser("  Nouvel.Eleve@Example.TN ", "motdepasse-solide", " Nour ", "Jaziri", RoleStudent)
	if err != nil || nu.Email != "nouvel.eleve@example.tn" || nu.FirstName != "Nour" || nu.Role != RoleStudent || nu.Password != "motdepasse-solide" {
		t.Fatalf("%+v, %v", nu, err)
	}
	for _, c := range []struct{ email, password, first, last, want string }{
		{"not-an-email", "long-enough-pw", "X", "Y", "email is not a valid address"},
		{"Name <x@example.tn>", "long-enough-pw", "X", "Y", "email is not a valid address"},
		{strings.Repeat("a", 250) + "@b.tn", "long-enough-pw", "X", "Y", "email is not a valid address"},
		{"x@example.tn", "short", "X", "Y", "password must be at least 8 characters and at most 72 bytes long"},
		{"x@example.tn", strings.Repeat("p", 73), "X", "Y", "password must be at least 8 characters and at most 72 bytes long"},
		{"x@example.tn", "long-enough-pw", "<script>alert(1)</script>", "Y", "first_name must be 1 to 100 characters without markup or control characters"},
		{"x@example.tn", "long-enough-pw", "X", "  ", "last_name must be 1 to 100 characters without markup or control characters"},
		{"x@example.tn", "long-enough-pw", "X", strings.Repeat("é", 101), "last_name must be 1 to 100 characters without markup or control characters"},
		{"x@example.tn", "long-enough-pw", "X\x00", "Y", "first_name must be 1 to 100 characters without markup or control characters"},
	} {
		if _, err := ValidateNewUser(c.email, c.password, c.first, c.last, RoleParent); err == nil || err.Error() != c.want || kindOf(err) != KindInvalid {
			t.Errorf("%q %q %q %q: %v, want %q", c.email, c.password, c.first, c.last, err, c.want)
		}
	}
	if ValidatePassword("zèbre-ocre-pianos") != nil || ValidatePassword(strings.Repeat("ab", MaxPassword/2+1)[:MaxPassword-9]+"q7#Lm2@xZ") != nil {
		t.Error("strong passwords at the bounds refused")
	}
}

func TestValidateStudentProfile(t *testing.T) {
	sp, err := ValidateStudentProfile("", " Lycée Carnot ", []string{" NSI "}, "")
	if err != nil || sp.GradeLevel != "seconde" || sp.LearningStyle != "mixed" || sp.School != "Lycée Carnot" || sp.Specialties[0] != "NSI" {
		t.Fatalf("%+v, %v", sp, err)
	}
	if sp, _ := ValidateStudentProfile("terminale", "", nil, "visual"); sp.Specialties == nil {
		t.Error("nil specialties kept")
	}
	many := make([]string, 11)
	for i := range many {
		many[i] = "x"
	}
	for _, c := range []struct {
		grade, school string
		spec          []string
		style         string
	}{
		{"licence", "", nil, ""},
		{"", "", nil, "loud"},
		{"", strings.Repeat("é", 201), nil, ""},
		{"", "<b>", nil, ""},
		{"", "", many, ""},
		{"", "", []string{""}, ""},
		{"", "", []string{strings.Repeat("x", 61)}, ""},
	} {
		if _, err := ValidateStudentProfile(c.grade, c.school, c.spec, c.style); kindOf(err) != KindInvalid {
			t.Errorf("%+v: %v", c, err)
		}
	}
}

// TestValidateFormula: a group formula takes at most GroupCapacity students.
func TestValidateFormula(t *testing.T) {
	good := func() *Formula {
		return &Formula{Name: " Groupe Réussite ", Type: "group", Level: "Terminale", Price: 180, HoursPerMonth: 8, MaxStudents: GroupCapacity}
	}
	f := good()
	if err := ValidateFormula(f); err != nil || f.Name != "Groupe Réussite" || f.Features == nil {
		t.Fatalf("%+v, %v", f, err)
	}
	for name, mutate := range map[string]func(*Formula){
		"group of 7":       func(f *Formula) { f.MaxStudents = GroupCapacity + 1 },
		"no students":      func(f *Formula) { f.MaxStudents = 0 },
		"101 students":     func(f *Formula) { f.Type, f.MaxStudents = "workshop", 101 },
		"negative price":   func(f *Formula) { f.Price = -5 },
		"unknown type":     func(f *Formula) { f.Type = "free" },
		"other currency":   func(f *Formula) { f.Currency = "EUR" },
		"markup in name":   func(f *Formula) { f.Name = "<i>x</i>" },
		"empty level":      func(f *Formula) { f.Level = "" },
		"too many hours":   func(f *Formula) { f.HoursPerMonth = 201 },
		"empty feature":    func(f *Formula) { f.Features = []string{""} },
		"21 features":      func(f *Formula) { f.Features = make([]string, 21) },
		"nothing but name": func(f *Formula) { *f = Formula{Name: "x"} },
	} {
		f := good()
		mutate(f)
		if err := ValidateFormula(f); kindOf(err) != KindInvalid {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Seven students are fine outside a group.
	f = good()
	f.Type, f.MaxStudents = "workshop", 12
	if err := ValidateFormula(f); err != nil {
		t.Errorf("workshop of 12: %v", err)
	}
}

func TestAria(t *testing.T) {
	now := time.Date(2026, 3, 10, 22, 59, 30, 0, time.UTC)
	err := AriaQuotaExceeded(AriaDailyLimit, now)
	var e *Error
	if kindOf(err) != KindQuota || !errors.As(err, &e) || e.RetryAfter != time.Hour+30*time.Second {
		t.Errorf("%#v, want a quota error retrying at the next UTC midnight", err)
	}
	if q, err := AriaQuestion("  Quelle est la dérivée de x² ?\n"); err != nil || q != "Quelle est la dérivée de x² ?" {
		t.Errorf("%q, %v", q, err)
	}
	for _, q := range []string{"", "   ", strings.Repeat("é", AriaMaxQuestion+1), "\xff"} {
		if _, err := AriaQuestion(q); kindOf(err) != KindInvalid {
			t.Errorf("%.20q: %v", q, err)
		}
	}
	if _, err := AriaQuestion(strings.Repeat("é", AriaMaxQuestion)); err != nil {
		t.Errorf("a question of %d characters: %v", AriaMaxQuestion, err)
	}
}
