package main

import (
	"context"
	"database/sql"
	"errors"
)

// Demo accounts created in development.
const (
	demoAdmin   = "admin@nexus-reussite.com"
	demoTeacher = "prof@nexus-reussite.com"
	demoParent  = "parent@nexus-reussite.com"
	demoStudent = "eleve@nexus-reussite.com"
)

// seedDemo creates the demo users, their profiles and two groups, once. Their password is
// NEXUS_DEMO_PASSWORD, or a random one logged once when the accounts are created.
func (a *app) seedDemo(ctx context.Context) error {
	var one int
	err := a.db.QueryRowContext(ctx, `SELECT 1 FROM users WHERE email = $1`, demoAdmin).Scan(&one)
	if err == nil {
		a.log.InfoContext(ctx, "demo data present; demo passwords unchanged")
		return nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	pw := a.cfg.DemoPassword
	generated := pw == ""
	if generated {
		pw = randomHex(8)
	}
	err = a.db.tx(ctx, func(tx *sql.Tx) error {
		ids := map[string]int64{}
		for _, u := range []struct{ email, first, last, role string }{
			{demoAdmin, "Amira", "Ben Salah", roleAdmin},
			{demoTeacher, "Karim", "Trabelsi", roleTeacher},
			{demoParent, "Leila", "Haddad", roleParent},
			{demoStudent, "Youssef", "Haddad", roleStudent},
		} {
			var sp *studentProfile
			if u.role == roleStudent {
				sp = &studentProfile{GradeLevel: "terminale", School: "Lycée Pilote de Tunis", Specialties: []string{"mathématiques", "physique-chimie"}, LearningStyle: "logical"}
			}
			created, err := a.insertUser(ctx, tx, &newUser{email: u.email, password: pw, firstName: u.first, lastName: u.last, role: u.role}, sp)
			if err != nil {
				return err
			}
			ids[u.role] = created.ID
		}
		stmts := []struct {
			q    string
			args []any
		}{
			{`INSERT INTO teachers (user_id, subjects, rate_online, rate_in_person, rate_group, rating) VALUES ($1, $2, $3, $4, $5, $6)`,
				[]any{ids[roleTeacher], `["mathématiques","physique-chimie","NSI"]`, 40, 50, 25, 4.8}},
			{`INSERT INTO parent_children (parent_id, student_id) VALUES ($1, $2)`, []any{ids[roleParent], ids[roleStudent]}},
			{`INSERT INTO study_groups (name, formula_id, teacher_id, schedule, capacity) SELECT $1, id, $2, $3, 6 FROM formulas WHERE name = 'Groupe Réussite'`,
				[]any{"Terminale Maths — mercredi", ids[roleTeacher], "mercredi 16:00-18:00"}},
			{`INSERT INTO study_groups (name, formula_id, teacher_id, schedule, capacity) SELECT $1, id, $2, $3, 6 FROM formulas WHERE name = 'Combo Révision'`,
				[]any{"Révision bac — samedi", ids[roleTeacher], "samedi 09:00-12:00"}},
		}
		for _, s := range stmts {
			if _, err := tx.ExecContext(ctx, s.q, s.args...); err != nil {
				return err
			}
		}
		return nil
	})
	if isUniqueViolation(err) {
		// Another instance seeded the same database at the same moment.
		a.log.InfoContext(ctx, "demo data created by another instance")
		return nil
	}
	if err != nil {
		return err
	}
	if generated {
		a.log.WarnContext(ctx, "demo users created with a random password (set NEXUS_DEMO_PASSWORD to choose it); it is shown only once",
			"users", []string{demoAdmin, demoTeacher, demoParent, demoStudent}, "password", pw)
	} else {
		a.log.InfoContext(ctx, "demo users created with NEXUS_DEMO_PASSWORD", "users", []string{demoAdmin, demoTeacher, demoParent, demoStudent})
	}
	return nil
}
