package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/nexus-reussite/harden/examples/nexus/internal/domain"
)

// Demo accounts, created in development by SeedDemo.
const (
	DemoAdmin   = "admin@nexus-reussite.com"
	DemoTeacher = "prof@nexus-reussite.com"
	DemoParent  = "parent@nexus-reussite.com"
	DemoStudent = "eleve@nexus-reussite.com"
)

// DemoUsers lists the demo accounts.
var DemoUsers = []string{DemoAdmin, DemoTeacher, DemoParent, DemoStudent}

// demoUsers are the demo accounts: Amira the admin, Karim the teacher, Leila the parent
// and Youssef, her son, in terminale.
var demoUsers = []domain.NewUser{
	{Email: DemoAdmin, FirstName: "Amira", LastName: "Ben Salah", Role: domain.RoleAdmin},
	{Email: DemoTeacher, FirstName: "Karim", LastName: "Trabelsi", Role: domain.RoleTeacher},
	{Email: DemoParent, FirstName: "Leila", LastName: "Haddad", Role: domain.RoleParent},
	{Email: DemoStudent, FirstName: "Youssef", LastName: "Haddad", Role: domain.RoleStudent},
}

// demoGroups are the study groups SeedDemo creates, by name.
var demoGroups = []string{"Terminale Maths — mercredi", "Révision bac — samedi"}

// DemoSeeded reports whether the demo accounts exist.
func (db *DB) DemoSeeded(ctx context.Context) (bool, error) {
	var one int
	err := db.q.QueryRow(ctx, `SELECT 1 FROM users WHERE email = $1`, DemoAdmin).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// ErrDemoExists is returned by SeedDemo when another instance seeded the same database at
// the same moment.
var ErrDemoExists = errors.New("store: demo data already present")

// SeedDemo creates, in one transaction, the demo accounts (each with its password hash
// from hashes, by email), the teacher's profile, the parent's link to the student, and
// two study groups.
func (db *DB) SeedDemo(ctx context.Context, hashes map[string]string, now time.Time) error {
	err := db.InTx(ctx, func(tx *Tx) error {
		ids := map[domain.Role]int64{}
		for _, u := range demoUsers {
			var sp *domain.StudentProfile
			if u.Role == domain.RoleStudent {
				sp = &domain.StudentProfile{GradeLevel: "terminale", School: "Lycée Pilote de Tunis", Specialties: []string{"mathématiques", "physique-chimie"}, LearningStyle: "logical"}
			}
			hash, ok := hashes[u.Email]
			if !ok {
				return fmt.Errorf("no password hash for %s", u.Email)
			}
			created, err := tx.insertUser(ctx, &u, hash, sp, now)
			if err != nil {
				return err
			}
			ids[u.Role] = created.ID
		}
		stmts := []struct {
			q    string
			args []any
		}{
			{`INSERT INTO teachers (user_id, subjects, rate_online, rate_in_person, rate_group, rating) VALUES ($1, $2, $3, $4, $5, $6)`,
				[]any{ids[domain.RoleTeacher], `["mathématiques","physique-chimie","NSI"]`, 40, 50, 25, 4.8}},
			{`INSERT INTO parent_children (parent_id, student_id) VALUES ($1, $2)`, []any{ids[domain.RoleParent], ids[domain.RoleStudent]}},
			{`INSERT INTO study_groups (name, formula_id, teacher_id, schedule, capacity) SELECT $1, id, $2, $3, 6 FROM formulas WHERE name = 'Groupe Réussite'`,
				[]any{demoGroups[0], ids[domain.RoleTeacher], "mercredi 16:00-18:00"}},
			{`INSERT INTO study_groups (name, formula_id, teacher_id, schedule, capacity) SELECT $1, id, $2, $3, 6 FROM formulas WHERE name = 'Combo Révision'`,
				[]any{demoGroups[1], ids[domain.RoleTeacher], "samedi 09:00-12:00"}},
		}
		for _, s := range stmts {
			if _, err := tx.q.ExecContext(ctx, s.q, s.args...); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, domain.ErrEmailTaken) || isUniqueViolation(err) {
		return ErrDemoExists
	}
	return err
}

// SetDemoPassword gives every demo account the password hash hash; it reports how many
// accounts exist to take it.
func (db *DB) SetDemoPassword(ctx context.Context, hash string) (int, error) {
	n := 0
	err := db.InTx(ctx, func(tx *Tx) error {
		for _, email := range DemoUsers {
			res, err := tx.q.ExecContext(ctx, `UPDATE users SET password_hash = $1 WHERE email = $2`, hash, email)
			if err != nil {
				return err
			}
			k, err := res.RowsAffected()
			if err != nil {
				return err
			}
			n += int(k)
		}
		return nil
	})
	return n, err
}

// DeleteDemo removes, in one transaction, the demo accounts with everything that belongs
// to them (profiles, sessions, bookings, enrolments, ARIA history) and the demo study
// groups, so that SeedDemo can create them afresh. Other accounts stay; the groups'
// enrolment counts are recomputed.
func (db *DB) DeleteDemo(ctx context.Context) error {
	return db.InTx(ctx, func(tx *Tx) error {
		for _, name := range demoGroups {
			if _, err := tx.q.ExecContext(ctx, `DELETE FROM study_groups WHERE name = $1`, name); err != nil {
				return err
			}
		}
		for _, email := range DemoUsers {
			if _, err := tx.q.ExecContext(ctx, `DELETE FROM users WHERE email = $1`, email); err != nil {
				return err
			}
		}
		_, err := tx.q.ExecContext(ctx,
			`UPDATE study_groups SET enrolled = (SELECT COUNT(*) FROM group_enrollments WHERE group_id = study_groups.id)`)
		return err
	})
}
