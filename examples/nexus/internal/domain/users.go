package domain

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// User is an account as the API shows it (never the password hash).
type User struct {
	ID        int64           `json:"id"`
	Email     string          `json:"email"`
	FirstName string          `json:"first_name"`
	LastName  string          `json:"last_name"`
	Phone     string          `json:"phone"`
	Role      Role            `json:"role"`
	Status    string          `json:"status"`
	Timezone  string          `json:"timezone"`
	Language  string          `json:"language"`
	CreatedAt time.Time       `json:"created_at"`
	Student   *StudentProfile `json:"student,omitempty"`
	Teacher   *TeacherProfile `json:"teacher,omitempty"`
	Children  []int64         `json:"children,omitempty"`
}

// StatusActive is the status of an account that may log in.
const StatusActive = "active"

// Defaults of a new account.
const (
	DefaultTimezone = "Africa/Tunis"
	DefaultLanguage = "fr"
)

// StudentProfile is the student part of an account.
type StudentProfile struct {
	GradeLevel    string   `json:"grade_level"`
	School        string   `json:"school"`
	Specialties   []string `json:"specialties"`
	LearningStyle string   `json:"learning_style"`
}

// TeacherProfile is the teacher part of an account.
type TeacherProfile struct {
	Subjects     []string `json:"subjects"`
	RateOnline   int      `json:"rate_online"`
	RateInPerson int      `json:"rate_in_person"`
	RateGroup    int      `json:"rate_group"`
	Rating       float64  `json:"rating"`
}

// Student is a student as listed.
type Student struct {
	ID        int64  `json:"id"`
	Email     string `json:"email"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	StudentProfile
	Status string `json:"status"`
}

// Teacher is a teacher as listed.
type Teacher struct {
	ID        int64  `json:"id"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	TeacherProfile
}

// Values of the student profile.
var (
	GradeLevels    = []string{"seconde", "première", "terminale"}
	LearningStyles = []string{"visual", "auditory", "kinesthetic", "logical", "mixed"}
)

// NewUser is a validated account to create.
type NewUser struct {
	Email, Password, FirstName, LastName string
	Role                                 Role
}

// ValidateNewUser checks and normalises the fields of a new account of role: the email
// (NormalizeEmail), the names (ValidName), then the password (ValidatePassword, with the
// email and names as what it must not be built from).
func ValidateNewUser(email, password, first, last string, role Role) (*NewUser, error) {
	var err error
	nu := &NewUser{Password: password, Role: role}
	if nu.Email, err = NormalizeEmail(email); err != nil {
		return nil, err
	}
	if nu.FirstName, err = ValidName("first_name", first); err != nil {
		return nil, err
	}
	if nu.LastName, err = ValidName("last_name", last); err != nil {
		return nil, err
	}
	if err := ValidatePassword(password, nu.Email, nu.FirstName, nu.LastName); err != nil {
		return nil, err
	}
	return nu, nil
}

// hasMarkup reports the characters refused in free text: angle brackets and NUL.
func hasMarkup(s string) bool { return strings.ContainsAny(s, "<>\x00") }

// ValidateStudentProfile checks a student profile; an empty grade or style takes its
// default (seconde, mixed).
func ValidateStudentProfile(grade, school string, specialties []string, style string) (*StudentProfile, error) {
	if grade == "" {
		grade = "seconde"
	}
	if !slices.Contains(GradeLevels, grade) {
		return nil, Invalid("grade_level must be seconde, première or terminale")
	}
	if style == "" {
		style = "mixed"
	}
	if !slices.Contains(LearningStyles, style) {
		return nil, Invalid("learning_style must be visual, auditory, kinesthetic, logical or mixed")
	}
	school = strings.TrimSpace(school)
	if utf8.RuneCountInString(school) > 200 || hasMarkup(school) || hasControl(school) {
		return nil, Invalid("school must be at most 200 characters without markup")
	}
	if len(specialties) > 10 {
		return nil, Invalid("at most 10 specialties")
	}
	clean := make([]string, 0, len(specialties))
	for _, s := range specialties {
		s = strings.TrimSpace(s)
		if s == "" || utf8.RuneCountInString(s) > 60 || hasMarkup(s) || hasControl(s) {
			return nil, Invalid("each specialty must be 1 to 60 characters without markup")
		}
		clean = append(clean, s)
	}
	return &StudentProfile{GradeLevel: grade, School: school, Specialties: clean, LearningStyle: style}, nil
}
