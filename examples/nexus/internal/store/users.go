package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/nexus-reussite/harden/examples/nexus/internal/domain"
)

// CreateUser creates an account with its password hash and, for a student, its profile
// sp. When parentID is not 0 the account becomes that parent's child, in the same
// transaction, unless the parent already has Quotas.MaxChildren children
// (domain.ErrTooManyChildren; counted after lockQuota, so concurrent requests of one
// parent never pass the quota). A taken email is domain.ErrEmailTaken.
func (db *DB) CreateUser(ctx context.Context, nu *domain.NewUser, hash string, sp *domain.StudentProfile, parentID int64, now time.Time) (*domain.User, error) {
	var u *domain.User
	err := db.InTx(ctx, func(tx *Tx) error {
		if parentID != 0 {
			if err := tx.checkChildQuota(ctx, parentID, db.quotas.MaxChildren); err != nil {
				return err
			}
		}
		var err error
		if u, err = tx.insertUser(ctx, nu, hash, sp, now); err != nil {
			return err
		}
		if parentID != 0 {
			_, err = tx.q.ExecContext(ctx, `INSERT INTO parent_children (parent_id, student_id) VALUES ($1, $2)`, parentID, u.ID)
		}
		return err
	})
	return u, err
}

// ChildQuotaReached reports domain.ErrTooManyChildren when the parent already has
// Quotas.MaxChildren children: a cheap refusal before the password is hashed. It does not
// lock; CreateUser enforces the quota under concurrency.
func (db *DB) ChildQuotaReached(ctx context.Context, parentID int64) error {
	var n int
	if err := db.q.QueryRow(ctx, `SELECT COUNT(*) FROM parent_children WHERE parent_id = $1`, parentID).Scan(&n); err != nil {
		return err
	}
	if n >= db.quotas.MaxChildren {
		return domain.ErrTooManyChildren(db.quotas.MaxChildren)
	}
	return nil
}

// checkChildQuota locks the parent's quota and refuses a child past limit.
func (tx *Tx) checkChildQuota(ctx context.Context, parentID int64, limit int) error {
	if err := tx.lockQuota(ctx, parentID); err != nil {
		return err
	}
	var n int
	if err := tx.q.QueryRow(ctx, `SELECT COUNT(*) FROM parent_children WHERE parent_id = $1`, parentID).Scan(&n); err != nil {
		return err
	}
	if n >= limit {
		return domain.ErrTooManyChildren(limit)
	}
	return nil
}

// insertUser inserts the account and its student profile (when sp is not nil).
func (q *Queries) insertUser(ctx context.Context, nu *domain.NewUser, hash string, sp *domain.StudentProfile, now time.Time) (*domain.User, error) {
	var id int64
	err := q.q.QueryRow(ctx,
		`INSERT INTO users (email, password_hash, first_name, last_name, role, created_at)
		 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		nu.Email, hash, nu.FirstName, nu.LastName, nu.Role, now.Unix()).Scan(&id)
	if isUniqueViolation(err) {
		return nil, domain.ErrEmailTaken
	}
	if err != nil {
		return nil, err
	}
	if sp != nil {
		spec, _ := json.Marshal(sp.Specialties)
		if _, err := q.q.ExecContext(ctx,
			`INSERT INTO students (user_id, grade_level, school, specialties, learning_style) VALUES ($1, $2, $3, $4, $5)`,
			id, sp.GradeLevel, sp.School, string(spec), sp.LearningStyle); err != nil {
			return nil, err
		}
	}
	return &domain.User{
		ID: id, Email: nu.Email, FirstName: nu.FirstName, LastName: nu.LastName, Role: nu.Role,
		Status: domain.StatusActive, Timezone: domain.DefaultTimezone, Language: domain.DefaultLanguage,
		CreatedAt: time.Unix(now.Unix(), 0).UTC(), Student: sp,
	}, nil
}

// Credentials are what a login checks.
type Credentials struct {
	UserID       int64
	PasswordHash string
	Role         domain.Role
	Status       string
}

// Credentials returns the credentials of the account with this (normalised) email;
// found is false when there is none.
func (db *DB) Credentials(ctx context.Context, email string) (c Credentials, found bool, err error) {
	err = db.q.QueryRow(ctx, `SELECT id, password_hash, role, status FROM users WHERE email = $1`, email).
		Scan(&c.UserID, &c.PasswordHash, &c.Role, &c.Status)
	if errors.Is(err, sql.ErrNoRows) {
		return c, false, nil
	}
	return c, err == nil, err
}

// Account returns the role and status of a user; found is false when there is none.
func (q *Queries) Account(ctx context.Context, id int64) (role domain.Role, status string, found bool, err error) {
	err = q.q.QueryRow(ctx, `SELECT role, status FROM users WHERE id = $1`, id).Scan(&role, &status)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", false, nil
	}
	return role, status, err == nil, err
}

// User reads a user with the profile of its role (a student's, a teacher's) or, for a
// parent, the ids of its children.
func (db *DB) User(ctx context.Context, id int64) (*domain.User, error) {
	u := &domain.User{}
	var created int64
	err := db.q.QueryRow(ctx,
		`SELECT id, email, first_name, last_name, phone, role, status, timezone, language, created_at FROM users WHERE id = $1`, id).
		Scan(&u.ID, &u.Email, &u.FirstName, &u.LastName, &u.Phone, &u.Role, &u.Status, &u.Timezone, &u.Language, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, domain.NotFound("user")
	}
	if err != nil {
		return nil, err
	}
	u.CreatedAt = time.Unix(created, 0).UTC()
	switch u.Role {
	case domain.RoleStudent:
		u.Student, err = db.studentProfile(ctx, id)
	case domain.RoleTeacher:
		u.Teacher, err = db.teacherProfile(ctx, id)
	case domain.RoleParent:
		u.Children, err = queryAll(ctx, db.q, func(r rowScanner) (c int64, err error) { return c, r.Scan(&c) },
			`SELECT student_id FROM parent_children WHERE parent_id = $1 ORDER BY student_id`, id)
	}
	if err != nil {
		return nil, err
	}
	return u, nil
}

// studentProfile reads a student's profile; nil when there is none.
func (db *DB) studentProfile(ctx context.Context, id int64) (*domain.StudentProfile, error) {
	sp := &domain.StudentProfile{}
	var spec string
	err := db.q.QueryRow(ctx, `SELECT grade_level, school, specialties, learning_style FROM students WHERE user_id = $1`, id).
		Scan(&sp.GradeLevel, &sp.School, &spec, &sp.LearningStyle)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	_ = json.Unmarshal([]byte(spec), &sp.Specialties)
	return sp, nil
}

// teacherProfile reads a teacher's profile; nil when there is none.
func (db *DB) teacherProfile(ctx context.Context, id int64) (*domain.TeacherProfile, error) {
	tp := &domain.TeacherProfile{}
	var subj string
	err := db.q.QueryRow(ctx, `SELECT subjects, rate_online, rate_in_person, rate_group, rating FROM teachers WHERE user_id = $1`, id).
		Scan(&subj, &tp.RateOnline, &tp.RateInPerson, &tp.RateGroup, &tp.Rating)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	_ = json.Unmarshal([]byte(subj), &tp.Subjects)
	return tp, nil
}

// DeleteStudent deletes a student account and, by cascade, everything it owns.
func (db *DB) DeleteStudent(ctx context.Context, id int64) error {
	_, err := db.q.ExecContext(ctx, `DELETE FROM users WHERE id = $1 AND role = 'student'`, id)
	return err
}

// PasswordHash returns the password hash of a user; found is false when there is none.
func (db *DB) PasswordHash(ctx context.Context, id int64) (hash string, found bool, err error) {
	err = db.q.QueryRow(ctx, `SELECT password_hash FROM users WHERE id = $1`, id).Scan(&hash)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return hash, err == nil, err
}

// SetPasswordHash replaces the password hash of a user.
func (db *DB) SetPasswordHash(ctx context.Context, id int64, hash string) error {
	_, err := db.q.ExecContext(ctx, `UPDATE users SET password_hash = $1 WHERE id = $2`, hash, id)
	return err
}
