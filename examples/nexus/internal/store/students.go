package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/nexus-reussite/harden/examples/nexus/internal/domain"
)

// visibleStudents is the SQL condition (on s.user_id) for the students p may see, with
// its single argument bound to $1: admins see every student, parents their children,
// teachers the students they have a live booking with or teach in a group, students
// themselves.
func visibleStudents(p *domain.Principal) string {
	switch p.Role {
	case domain.RoleAdmin:
		return "$1 > 0" // every student; keeps $1 bound
	case domain.RoleParent:
		return "s.user_id IN (SELECT student_id FROM parent_children WHERE parent_id = $1)"
	case domain.RoleTeacher:
		return `s.user_id IN (SELECT student_id FROM bookings WHERE teacher_id = $1 AND status <> 'cancelled'
		        UNION SELECT ge.student_id FROM group_enrollments ge JOIN study_groups g ON g.id = ge.group_id WHERE g.teacher_id = $1)`
	default:
		return "s.user_id = $1"
	}
}

const studentSelect = `SELECT u.id, u.email, u.first_name, u.last_name, s.grade_level, s.school, s.specialties, s.learning_style, u.status
	FROM students s JOIN users u ON u.id = s.user_id`

func scanStudent(r rowScanner) (*domain.Student, error) {
	st := &domain.Student{}
	var spec string
	if err := r.Scan(&st.ID, &st.Email, &st.FirstName, &st.LastName, &st.GradeLevel, &st.School, &spec, &st.LearningStyle, &st.Status); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(spec), &st.Specialties); err != nil || st.Specialties == nil {
		st.Specialties = []string{}
	}
	return st, nil
}

// StudentFilter selects a page of the students a caller may see.
type StudentFilter struct {
	Search     string // in names, email and school, case-insensitive; "" = any
	GradeLevel string // "" = any
	Limit      int
	Offset     int
}

// ListStudents returns a page of the students p may see, by name, and how many match in
// all.
func (db *DB) ListStudents(ctx context.Context, p *domain.Principal, f StudentFilter) (page []*domain.Student, total int, err error) {
	where := visibleStudents(p)
	args := []any{p.UserID}
	if f.Search != "" {
		args = append(args, likePattern(f.Search))
		where += ` AND (LOWER(u.first_name) LIKE $2 ESCAPE '\' OR LOWER(u.last_name) LIKE $2 ESCAPE '\' OR LOWER(u.email) LIKE $2 ESCAPE '\' OR LOWER(s.school) LIKE $2 ESCAPE '\')`
	}
	if f.GradeLevel != "" {
		args = append(args, f.GradeLevel)
		where += " AND s.grade_level = $" + strconv.Itoa(len(args))
	}
	if err := db.q.QueryRow(ctx, `SELECT COUNT(*) FROM students s JOIN users u ON u.id = s.user_id WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	args = append(args, f.Limit, f.Offset)
	page, err = queryAll(ctx, db.q, scanStudent, studentSelect+` WHERE `+where+
		` ORDER BY u.last_name, u.first_name, u.id LIMIT $`+strconv.Itoa(len(args)-1)+` OFFSET $`+strconv.Itoa(len(args)), args...)
	return page, total, err
}

// likePattern is a LIKE pattern matching s anywhere, its wildcards escaped.
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(strings.ToLower(s)) + "%"
}

// VisibleStudent reads student id if p may see it; otherwise "student not found".
func (db *DB) VisibleStudent(ctx context.Context, p *domain.Principal, id int64) (*domain.Student, error) {
	st, err := scanStudent(db.q.QueryRow(ctx, studentSelect+` WHERE `+visibleStudents(p)+` AND s.user_id = $2`, p.UserID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, domain.NotFound("student")
	}
	return st, err
}

// UpdateStudent replaces a student's names and profile.
func (db *DB) UpdateStudent(ctx context.Context, id int64, first, last string, sp *domain.StudentProfile) error {
	spec, _ := json.Marshal(sp.Specialties)
	return db.InTx(ctx, func(tx *Tx) error {
		if _, err := tx.q.ExecContext(ctx, `UPDATE users SET first_name = $1, last_name = $2 WHERE id = $3`, first, last, id); err != nil {
			return err
		}
		_, err := tx.q.ExecContext(ctx, `UPDATE students SET grade_level = $1, school = $2, specialties = $3, learning_style = $4 WHERE user_id = $5`,
			sp.GradeLevel, sp.School, string(spec), sp.LearningStyle, id)
		return err
	})
}

// StudentLink tells whether student id exists and whether callerID is its parent.
func (db *DB) StudentLink(ctx context.Context, callerID, id int64) (domain.StudentLink, error) {
	var l domain.StudentLink
	err := db.q.QueryRow(ctx, `SELECT
		EXISTS (SELECT 1 FROM students WHERE user_id = $2),
		EXISTS (SELECT 1 FROM parent_children WHERE parent_id = $1 AND student_id = $2)`, callerID, id).Scan(&l.Exists, &l.ChildOf)
	return l, err
}

// Dashboard sums up a student's activity.
type Dashboard struct {
	Upcoming  int // pending or confirmed bookings from now on
	Completed int // completed bookings, and confirmed ones in the past
	Groups    int // group enrolments
	Aria      int // questions to ARIA
}

// StudentDashboard counts a student's activity at now; the bookings counted are those
// with teacherID only (0: with every teacher).
func (db *DB) StudentDashboard(ctx context.Context, id, teacherID int64, now time.Time) (*Dashboard, error) {
	d := &Dashboard{}
	err := db.q.QueryRow(ctx, `SELECT
		(SELECT COUNT(*) FROM bookings WHERE student_id = $1 AND (teacher_id = $3 OR $3 = 0) AND status IN ('pending', 'confirmed') AND starts_at >= $2),
		(SELECT COUNT(*) FROM bookings WHERE student_id = $1 AND (teacher_id = $3 OR $3 = 0) AND (status = 'completed' OR (status = 'confirmed' AND starts_at < $2))),
		(SELECT COUNT(*) FROM group_enrollments WHERE student_id = $1),
		(SELECT COUNT(*) FROM aria_interactions WHERE user_id = $1)`, id, now.Unix(), teacherID).
		Scan(&d.Upcoming, &d.Completed, &d.Groups, &d.Aria)
	return d, err
}
