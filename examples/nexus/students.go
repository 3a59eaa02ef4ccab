package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// studentJSON is a student as listed.
type studentJSON struct {
	ID            int64    `json:"id"`
	Email         string   `json:"email"`
	FirstName     string   `json:"first_name"`
	LastName      string   `json:"last_name"`
	GradeLevel    string   `json:"grade_level"`
	School        string   `json:"school"`
	Specialties   []string `json:"specialties"`
	LearningStyle string   `json:"learning_style"`
	Status        string   `json:"status"`
}

// visibleStudents is the SQL condition (on s.user_id) for the students p may see, with
// its single argument bound to $1.
func visibleStudents(p *principal) string {
	switch p.Role {
	case roleAdmin:
		return "$1 > 0" // every student; keeps $1 bound
	case roleParent:
		return "s.user_id IN (SELECT student_id FROM parent_children WHERE parent_id = $1)"
	case roleTeacher:
		return `s.user_id IN (SELECT student_id FROM bookings WHERE teacher_id = $1 AND status <> 'cancelled'
		        UNION SELECT ge.student_id FROM group_enrollments ge JOIN study_groups g ON g.id = ge.group_id WHERE g.teacher_id = $1)`
	default:
		return "s.user_id = $1"
	}
}

const studentSelect = `SELECT u.id, u.email, u.first_name, u.last_name, s.grade_level, s.school, s.specialties, s.learning_style, u.status
	FROM students s JOIN users u ON u.id = s.user_id`

func scanStudent(s interface{ Scan(...any) error }) (*studentJSON, error) {
	st := &studentJSON{}
	var spec string
	if err := s.Scan(&st.ID, &st.Email, &st.FirstName, &st.LastName, &st.GradeLevel, &st.School, &spec, &st.LearningStyle, &st.Status); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(spec), &st.Specialties); err != nil || st.Specialties == nil {
		st.Specialties = []string{}
	}
	return st, nil
}

// pageParams reads page (from 1) and per_page (1..100, default 20).
func pageParams(r *http.Request) (page, per int, err error) {
	page, per = 1, 20
	q := r.URL.Query()
	if v := q.Get("page"); v != "" {
		if page, err = strconv.Atoi(v); err != nil || page < 1 || page > 100000 {
			return 0, 0, invalid("page must be a positive integer")
		}
	}
	if v := q.Get("per_page"); v != "" {
		if per, err = strconv.Atoi(v); err != nil || per < 1 || per > 100 {
			return 0, 0, invalid("per_page must be between 1 and 100")
		}
	}
	return page, per, nil
}

// likePattern escapes LIKE wildcards in user input.
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(strings.ToLower(s)) + "%"
}

func (a *app) handleListStudents(w http.ResponseWriter, r *http.Request, p *principal) error {
	page, per, err := pageParams(r)
	if err != nil {
		return err
	}
	where := visibleStudents(p)
	args := []any{p.UserID}
	if q := strings.TrimSpace(r.URL.Query().Get("search")); q != "" {
		if len(q) > 100 {
			return invalid("search is at most 100 characters")
		}
		args = append(args, likePattern(q))
		where += ` AND (LOWER(u.first_name) LIKE $2 ESCAPE '\' OR LOWER(u.last_name) LIKE $2 ESCAPE '\' OR LOWER(u.email) LIKE $2 ESCAPE '\' OR LOWER(s.school) LIKE $2 ESCAPE '\')`
	}
	if g := r.URL.Query().Get("grade_level"); g != "" {
		if !oneOf(g, gradeLevels) {
			return invalid("grade_level must be seconde, première or terminale")
		}
		args = append(args, g)
		where += " AND s.grade_level = $" + strconv.Itoa(len(args))
	}
	var total int
	if err := a.db.QueryRowContext(r.Context(), `SELECT COUNT(*) FROM students s JOIN users u ON u.id = s.user_id WHERE `+where, args...).Scan(&total); err != nil {
		return err
	}
	args = append(args, per, (page-1)*per)
	rows, err := a.db.QueryContext(r.Context(), studentSelect+` WHERE `+where+
		` ORDER BY u.last_name, u.first_name, u.id LIMIT $`+strconv.Itoa(len(args)-1)+` OFFSET $`+strconv.Itoa(len(args)), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	items := []*studentJSON{}
	for rows.Next() {
		st, err := scanStudent(rows)
		if err != nil {
			return err
		}
		items = append(items, st)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"students": items, "page": page, "per_page": per, "total": total})
	return nil
}

// visibleStudent loads student id if p may see it; otherwise "not found".
func (a *app) visibleStudent(ctx context.Context, p *principal, id int64) (*studentJSON, error) {
	st, err := scanStudent(a.db.QueryRowContext(ctx, studentSelect+` WHERE `+visibleStudents(p)+` AND s.user_id = $2`, p.UserID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("student")
	}
	return st, err
}

func (a *app) handleGetStudent(w http.ResponseWriter, r *http.Request, p *principal) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	st, err := a.visibleStudent(r.Context(), p, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

type createStudentRequest struct {
	Email         string   `json:"email"`
	Password      string   `json:"password"`
	FirstName     string   `json:"first_name"`
	LastName      string   `json:"last_name"`
	GradeLevel    string   `json:"grade_level"`
	School        string   `json:"school"`
	Specialties   []string `json:"specialties"`
	LearningStyle string   `json:"learning_style"`
}

// handleCreateStudent creates a student account: admins for anyone, parents for a child
// who is linked to them.
func (a *app) handleCreateStudent(w http.ResponseWriter, r *http.Request, p *principal) error {
	var req createStudentRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	nu, err := validateNewUser(req.Email, req.Password, req.FirstName, req.LastName)
	if err != nil {
		return err
	}
	nu.role = roleStudent
	sp, err := validateStudentProfile(req.GradeLevel, req.School, req.Specialties, req.LearningStyle)
	if err != nil {
		return err
	}
	var u *userJSON
	err = a.db.tx(r.Context(), func(tx *sql.Tx) error {
		if u, err = a.insertUser(r.Context(), tx, nu, sp); err != nil {
			return err
		}
		if p.Role == roleParent {
			_, err = tx.ExecContext(r.Context(), `INSERT INTO parent_children (parent_id, student_id) VALUES ($1, $2)`, p.UserID, u.ID)
		}
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, &studentJSON{
		ID: u.ID, Email: u.Email, FirstName: u.FirstName, LastName: u.LastName, GradeLevel: sp.GradeLevel,
		School: sp.School, Specialties: sp.Specialties, LearningStyle: sp.LearningStyle, Status: u.Status,
	})
	return nil
}

type updateStudentRequest struct {
	FirstName     *string   `json:"first_name"`
	LastName      *string   `json:"last_name"`
	GradeLevel    *string   `json:"grade_level"`
	School        *string   `json:"school"`
	Specialties   *[]string `json:"specialties"`
	LearningStyle *string   `json:"learning_style"`
}

// handleUpdateStudent edits a student: admins, the student's parents and the student.
func (a *app) handleUpdateStudent(w http.ResponseWriter, r *http.Request, p *principal) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	st, err := a.visibleStudent(r.Context(), p, id)
	if err != nil {
		return err
	}
	var req updateStudentRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.FirstName != nil {
		if st.FirstName, err = validName("first_name", *req.FirstName); err != nil {
			return err
		}
	}
	if req.LastName != nil {
		if st.LastName, err = validName("last_name", *req.LastName); err != nil {
			return err
		}
	}
	grade, school, spec, style := st.GradeLevel, st.School, st.Specialties, st.LearningStyle
	if req.GradeLevel != nil {
		grade = *req.GradeLevel
	}
	if req.School != nil {
		school = *req.School
	}
	if req.Specialties != nil {
		spec = *req.Specialties
	}
	if req.LearningStyle != nil {
		style = *req.LearningStyle
	}
	sp, err := validateStudentProfile(grade, school, spec, style)
	if err != nil {
		return err
	}
	specJSON, _ := json.Marshal(sp.Specialties)
	err = a.db.tx(r.Context(), func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(r.Context(), `UPDATE users SET first_name = $1, last_name = $2 WHERE id = $3`, st.FirstName, st.LastName, id); err != nil {
			return err
		}
		_, err := tx.ExecContext(r.Context(), `UPDATE students SET grade_level = $1, school = $2, specialties = $3, learning_style = $4 WHERE user_id = $5`,
			sp.GradeLevel, sp.School, string(specJSON), sp.LearningStyle, id)
		return err
	})
	if err != nil {
		return err
	}
	st.GradeLevel, st.School, st.Specialties, st.LearningStyle = sp.GradeLevel, sp.School, sp.Specialties, sp.LearningStyle
	writeJSON(w, http.StatusOK, st)
	return nil
}

// handleDeleteStudent deletes a student account and revokes its sessions (admins only).
func (a *app) handleDeleteStudent(w http.ResponseWriter, r *http.Request, p *principal) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if _, err := a.visibleStudent(r.Context(), p, id); err != nil {
		return err
	}
	if err := a.revokeUserSessions(r.Context(), id); err != nil {
		return err
	}
	if _, err := a.db.ExecContext(r.Context(), `DELETE FROM users WHERE id = $1 AND role = 'student'`, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// handleStudentDashboard summarises a student's bookings, groups and ARIA use.
func (a *app) handleStudentDashboard(w http.ResponseWriter, r *http.Request, p *principal) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	st, err := a.visibleStudent(r.Context(), p, id)
	if err != nil {
		return err
	}
	ctx := r.Context()
	now := a.now().Unix()
	var upcoming, completed, groups, aria int
	if err := a.db.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM bookings WHERE student_id = $1 AND status IN ('pending', 'confirmed') AND starts_at >= $2),
		(SELECT COUNT(*) FROM bookings WHERE student_id = $1 AND (status = 'completed' OR (status = 'confirmed' AND starts_at < $2))),
		(SELECT COUNT(*) FROM group_enrollments WHERE student_id = $1),
		(SELECT COUNT(*) FROM aria_interactions WHERE user_id = $1)`, id, now).
		Scan(&upcoming, &completed, &groups, &aria); err != nil {
		return err
	}
	next, err := a.queryBookings(ctx, `WHERE b.student_id = $1 AND b.status IN ('pending', 'confirmed') AND b.starts_at >= $2 ORDER BY b.starts_at LIMIT 5`, id, now)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"student":            st,
		"upcoming_bookings":  upcoming,
		"completed_sessions": completed,
		"groups":             groups,
		"aria_interactions":  aria,
		"next_bookings":      next,
		"generated_at":       time.Unix(now, 0).UTC(),
	})
	return nil
}
