package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"
	"unicode/utf8"
)

// userJSON is a user as the API shows it (never the password hash).
type userJSON struct {
	ID        int64           `json:"id"`
	Email     string          `json:"email"`
	FirstName string          `json:"first_name"`
	LastName  string          `json:"last_name"`
	Phone     string          `json:"phone"`
	Role      string          `json:"role"`
	Status    string          `json:"status"`
	Timezone  string          `json:"timezone"`
	Language  string          `json:"language"`
	CreatedAt time.Time       `json:"created_at"`
	Student   *studentProfile `json:"student,omitempty"`
	Teacher   *teacherProfile `json:"teacher,omitempty"`
	Children  []int64         `json:"children,omitempty"`
}

// studentProfile is the student part of a user.
type studentProfile struct {
	GradeLevel    string   `json:"grade_level"`
	School        string   `json:"school"`
	Specialties   []string `json:"specialties"`
	LearningStyle string   `json:"learning_style"`
}

// teacherProfile is the teacher part of a user.
type teacherProfile struct {
	Subjects     []string `json:"subjects"`
	RateOnline   int      `json:"rate_online"`
	RateInPerson int      `json:"rate_in_person"`
	RateGroup    int      `json:"rate_group"`
	Rating       float64  `json:"rating"`
}

var (
	gradeLevels    = []string{"seconde", "première", "terminale"}
	learningStyles = []string{"visual", "auditory", "kinesthetic", "logical", "mixed"}
)

// newUser is a validated account to insert.
type newUser struct {
	email, password, firstName, lastName, role string
}

func validateNewUser(email, password, first, last string) (*newUser, error) {
	var err error
	nu := &newUser{password: password}
	if nu.email, err = normalizeEmail(email); err != nil {
		return nil, err
	}
	if err := validatePassword(password); err != nil {
		return nil, err
	}
	if nu.firstName, err = validName("first_name", first); err != nil {
		return nil, err
	}
	if nu.lastName, err = validName("last_name", last); err != nil {
		return nil, err
	}
	return nu, nil
}

func oneOf(v string, allowed []string) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	return false
}

// validateStudentProfile checks a student profile; empty grade and style take defaults.
func validateStudentProfile(grade, school string, specialties []string, style string) (*studentProfile, error) {
	if grade == "" {
		grade = "seconde"
	}
	if !oneOf(grade, gradeLevels) {
		return nil, invalid("grade_level must be seconde, première or terminale")
	}
	if style == "" {
		style = "mixed"
	}
	if !oneOf(style, learningStyles) {
		return nil, invalid("learning_style must be visual, auditory, kinesthetic, logical or mixed")
	}
	school = strings.TrimSpace(school)
	if utf8.RuneCountInString(school) > 200 || strings.ContainsAny(school, "<>\x00") {
		return nil, invalid("school must be at most 200 characters without markup")
	}
	if len(specialties) > 10 {
		return nil, invalid("at most 10 specialties")
	}
	clean := make([]string, 0, len(specialties))
	for _, s := range specialties {
		s = strings.TrimSpace(s)
		if s == "" || utf8.RuneCountInString(s) > 60 || strings.ContainsAny(s, "<>\x00") {
			return nil, invalid("each specialty must be 1 to 60 characters without markup")
		}
		clean = append(clean, s)
	}
	return &studentProfile{GradeLevel: grade, School: school, Specialties: clean, LearningStyle: style}, nil
}

// insertUser inserts the user (and its student profile) inside tx.
func (a *app) insertUser(ctx context.Context, tx *sql.Tx, nu *newUser, sp *studentProfile) (*userJSON, error) {
	hash, err := a.hashPassword(nu.password)
	if err != nil {
		return nil, err
	}
	now := a.now()
	var id int64
	err = tx.QueryRowContext(ctx,
		`INSERT INTO users (email, password_hash, first_name, last_name, role, created_at)
		 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		nu.email, hash, nu.firstName, nu.lastName, nu.role, now.Unix()).Scan(&id)
	if isUniqueViolation(err) {
		return nil, conflict("an account with this email already exists")
	}
	if err != nil {
		return nil, err
	}
	if sp != nil {
		spec, _ := json.Marshal(sp.Specialties)
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO students (user_id, grade_level, school, specialties, learning_style) VALUES ($1, $2, $3, $4, $5)`,
			id, sp.GradeLevel, sp.School, string(spec), sp.LearningStyle); err != nil {
			return nil, err
		}
	}
	return &userJSON{
		ID: id, Email: nu.email, FirstName: nu.firstName, LastName: nu.lastName, Role: nu.role,
		Status: "active", Timezone: "Africa/Tunis", Language: "fr", CreatedAt: time.Unix(now.Unix(), 0).UTC(), Student: sp,
	}, nil
}

// loadUser reads a user with its role profile.
func (a *app) loadUser(ctx context.Context, id int64) (*userJSON, error) {
	u := &userJSON{}
	var created int64
	err := a.db.QueryRowContext(ctx,
		`SELECT id, email, first_name, last_name, phone, role, status, timezone, language, created_at FROM users WHERE id = $1`, id).
		Scan(&u.ID, &u.Email, &u.FirstName, &u.LastName, &u.Phone, &u.Role, &u.Status, &u.Timezone, &u.Language, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("user")
	}
	if err != nil {
		return nil, err
	}
	u.CreatedAt = time.Unix(created, 0).UTC()
	switch u.Role {
	case roleStudent:
		sp := &studentProfile{}
		var spec string
		err := a.db.QueryRowContext(ctx, `SELECT grade_level, school, specialties, learning_style FROM students WHERE user_id = $1`, id).
			Scan(&sp.GradeLevel, &sp.School, &spec, &sp.LearningStyle)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		if err == nil {
			_ = json.Unmarshal([]byte(spec), &sp.Specialties)
			u.Student = sp
		}
	case roleTeacher:
		tp := &teacherProfile{}
		var subj string
		err := a.db.QueryRowContext(ctx, `SELECT subjects, rate_online, rate_in_person, rate_group, rating FROM teachers WHERE user_id = $1`, id).
			Scan(&subj, &tp.RateOnline, &tp.RateInPerson, &tp.RateGroup, &tp.Rating)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		if err == nil {
			_ = json.Unmarshal([]byte(subj), &tp.Subjects)
			u.Teacher = tp
		}
	case roleParent:
		rows, err := a.db.QueryContext(ctx, `SELECT student_id FROM parent_children WHERE parent_id = $1 ORDER BY student_id`, id)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var c int64
			if err := rows.Scan(&c); err != nil {
				return nil, err
			}
			u.Children = append(u.Children, c)
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return u, nil
}
