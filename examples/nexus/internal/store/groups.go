package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/nexus-reussite/harden/examples/nexus/internal/domain"
)

// Teachers lists the active teachers by name.
func (db *DB) Teachers(ctx context.Context) ([]*domain.Teacher, error) {
	return queryAll(ctx, db.q, scanTeacher, `SELECT u.id, u.first_name, u.last_name, t.subjects, t.rate_online, t.rate_in_person, t.rate_group, t.rating
		FROM teachers t JOIN users u ON u.id = t.user_id WHERE u.status = 'active' ORDER BY u.last_name, u.id`)
}

func scanTeacher(r rowScanner) (*domain.Teacher, error) {
	t := &domain.Teacher{}
	var subj string
	if err := r.Scan(&t.ID, &t.FirstName, &t.LastName, &subj, &t.RateOnline, &t.RateInPerson, &t.RateGroup, &t.Rating); err != nil {
		return nil, err
	}
	if json.Unmarshal([]byte(subj), &t.Subjects) != nil || t.Subjects == nil {
		t.Subjects = []string{}
	}
	return t, nil
}

const groupSelect = `SELECT id, name, formula_id, teacher_id, schedule, capacity, enrolled FROM study_groups`

func scanGroup(r rowScanner) (*domain.Group, error) {
	g := &domain.Group{}
	var teacher sql.NullInt64
	if err := r.Scan(&g.ID, &g.Name, &g.FormulaID, &teacher, &g.Schedule, &g.Capacity, &g.Enrolled); err != nil {
		return nil, err
	}
	if teacher.Valid {
		g.TeacherID = &teacher.Int64
	}
	g.CountSeats()
	return g, nil
}

// Groups lists the study groups.
func (db *DB) Groups(ctx context.Context) ([]*domain.Group, error) {
	return queryAll(ctx, db.q, scanGroup, groupSelect+` ORDER BY id`)
}

// Enroll adds a student to a group and returns the group after it. The seat is taken by
// a conditional UPDATE (enrolled < capacity) in the same transaction as the enrolment
// row, so concurrent requests never overfill a group (domain.ErrGroupFull); a CHECK
// constraint backs it up. A second enrolment is domain.ErrAlreadyEnrolled.
func (db *DB) Enroll(ctx context.Context, groupID, studentID int64, now time.Time) (*domain.Group, error) {
	var g *domain.Group
	err := db.InTx(ctx, func(tx *Tx) error {
		var exists int
		if err := tx.q.QueryRow(ctx, `SELECT 1 FROM study_groups WHERE id = $1`, groupID).Scan(&exists); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return domain.NotFound("group")
			}
			return err
		}
		if _, err := tx.q.ExecContext(ctx, `INSERT INTO group_enrollments (group_id, student_id, created_at) VALUES ($1, $2, $3)`, groupID, studentID, now.Unix()); err != nil {
			if isUniqueViolation(err) {
				return domain.ErrAlreadyEnrolled
			}
			return err
		}
		res, err := tx.q.ExecContext(ctx, `UPDATE study_groups SET enrolled = enrolled + 1 WHERE id = $1 AND enrolled < capacity`, groupID)
		if isCheckViolation(err) {
			return domain.ErrGroupFull
		}
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return domain.ErrGroupFull
		}
		g, err = scanGroup(tx.q.QueryRow(ctx, groupSelect+` WHERE id = $1`, groupID))
		return err
	})
	return g, err
}
