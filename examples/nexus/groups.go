package main

import (
	"database/sql"
	"encoding/json"
	"errors"
	"net/http"
	"time"
)

// groupCapacity is the most students a group takes; the schema enforces it too.
const groupCapacity = 6

type teacherJSON struct {
	ID        int64  `json:"id"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	teacherProfile
}

func (a *app) handleTeachers(w http.ResponseWriter, r *http.Request, _ *principal) error {
	rows, err := a.db.QueryContext(r.Context(), `SELECT u.id, u.first_name, u.last_name, t.subjects, t.rate_online, t.rate_in_person, t.rate_group, t.rating
		FROM teachers t JOIN users u ON u.id = t.user_id WHERE u.status = 'active' ORDER BY u.last_name, u.id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	out := []*teacherJSON{}
	for rows.Next() {
		t := &teacherJSON{}
		var subj string
		if err := rows.Scan(&t.ID, &t.FirstName, &t.LastName, &subj, &t.RateOnline, &t.RateInPerson, &t.RateGroup, &t.Rating); err != nil {
			return err
		}
		if json.Unmarshal([]byte(subj), &t.Subjects) != nil || t.Subjects == nil {
			t.Subjects = []string{}
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"teachers": out})
	return nil
}

type groupJSON struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	FormulaID int64  `json:"formula_id"`
	TeacherID *int64 `json:"teacher_id"`
	Schedule  string `json:"schedule"`
	Capacity  int    `json:"capacity"`
	Enrolled  int    `json:"enrolled"`
	Available int    `json:"available"`
}

func (a *app) handleGroups(w http.ResponseWriter, r *http.Request, _ *principal) error {
	rows, err := a.db.QueryContext(r.Context(), `SELECT id, name, formula_id, teacher_id, schedule, capacity, enrolled FROM study_groups ORDER BY id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	out := []*groupJSON{}
	for rows.Next() {
		g := &groupJSON{}
		var teacher sql.NullInt64
		if err := rows.Scan(&g.ID, &g.Name, &g.FormulaID, &teacher, &g.Schedule, &g.Capacity, &g.Enrolled); err != nil {
			return err
		}
		if teacher.Valid {
			g.TeacherID = &teacher.Int64
		}
		g.Available = g.Capacity - g.Enrolled
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"groups": out})
	return nil
}

type enrollRequest struct {
	StudentID int64 `json:"student_id"`
}

// handleEnroll adds a student to a group. The seat is taken by a conditional UPDATE
// (enrolled < capacity) in the same transaction as the enrollment row, so concurrent
// requests can never overfill a group; a CHECK constraint backs it up.
func (a *app) handleEnroll(w http.ResponseWriter, r *http.Request, p *principal) error {
	gid, err := pathID(r)
	if err != nil {
		return err
	}
	var req enrollRequest
	if r.ContentLength != 0 {
		if err := decodeJSON(w, r, &req); err != nil {
			return err
		}
	}
	ctx := r.Context()
	sid, err := a.actingStudent(ctx, p, req.StudentID)
	if err != nil {
		return err
	}
	var g groupJSON
	err = a.db.tx(ctx, func(tx *sql.Tx) error {
		var exists int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM study_groups WHERE id = $1`, gid).Scan(&exists); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return notFound("group")
			}
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO group_enrollments (group_id, student_id, created_at) VALUES ($1, $2, $3)`, gid, sid, a.now().Unix()); err != nil {
			if isUniqueViolation(err) {
				return conflict("the student is already in this group")
			}
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE study_groups SET enrolled = enrolled + 1 WHERE id = $1 AND enrolled < capacity`, gid)
		if isCheckViolation(err) {
			return conflict("the group is full")
		}
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return conflict("the group is full")
		}
		var teacher sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT id, name, formula_id, teacher_id, schedule, capacity, enrolled FROM study_groups WHERE id = $1`, gid).
			Scan(&g.ID, &g.Name, &g.FormulaID, &teacher, &g.Schedule, &g.Capacity, &g.Enrolled); err != nil {
			return err
		}
		if teacher.Valid {
			g.TeacherID = &teacher.Int64
		}
		return nil
	})
	if err != nil {
		return err
	}
	g.Available = g.Capacity - g.Enrolled
	writeJSON(w, http.StatusCreated, map[string]any{"group": g, "student_id": sid, "enrolled_at": a.now().UTC().Truncate(time.Second)})
	return nil
}
