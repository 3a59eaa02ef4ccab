package store

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nexus-reussite/harden/examples/nexus/internal/config"
	"github.com/nexus-reussite/harden/examples/nexus/internal/domain"
	"github.com/nexus-reussite/harden/examples/nexus/internal/servicetest"
)

// configOf is the development configuration with DATABASE_URL set.
func configOf(t *testing.T, databaseURL string) *config.Config {
	t.Helper()
	cfg, err := config.Load(func(k string) (string, bool) {
		if k == "DATABASE_URL" {
			return databaseURL, true
		}
		return "", false
	})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// openDB opens and migrates a fresh database at databaseURL, closed when the test ends.
func openDB(t *testing.T, databaseURL string) *DB {
	t.Helper()
	db, err := Open(t.Context(), configOf(t, databaseURL), slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return db
}

// eachDialect runs f on a fresh SQLite file and on a fresh PostgreSQL database.
func eachDialect(t *testing.T, f func(t *testing.T, db *DB)) {
	t.Run("sqlite", func(t *testing.T) { f(t, openDB(t, "sqlite://"+filepath.Join(t.TempDir(), "n.db"))) })
	t.Run("postgres", func(t *testing.T) { f(t, openDB(t, servicetest.Postgres(t))) })
}

// people are a teacher and n students created in db, with the demo data.
type people struct {
	teacher  int64
	students []int64
	group    int64 // a study group of six seats
}

func seed(t *testing.T, db *DB, n int) people {
	t.Helper()
	ctx := t.Context()
	now := time.Now()
	hashes := map[string]string{}
	for _, email := range DemoUsers {
		hashes[email] = "not-a-real-hash"
	}
	if err := db.SeedDemo(ctx, hashes, now); err != nil {
		t.Fatal(err)
	}
	var p people
	if err := db.q.QueryRow(ctx, `SELECT id FROM users WHERE email = $1`, DemoTeacher).Scan(&p.teacher); err != nil {
		t.Fatal(err)
	}
	if err := db.q.QueryRow(ctx, `SELECT MIN(id) FROM study_groups`).Scan(&p.group); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		nu := &domain.NewUser{Email: fmt.Sprintf("eleve%d@example.tn", i), FirstName: "Eleve", LastName: fmt.Sprint(i), Role: domain.RoleStudent}
		u, err := db.CreateUser(ctx, nu, "not-a-real-hash", &domain.StudentProfile{GradeLevel: "seconde", LearningStyle: "mixed"}, 0, now)
		if err != nil {
			t.Fatal(err)
		}
		p.students = append(p.students, u.ID)
	}
	return p
}

// race runs fn(i) for i in [0, n) at once and returns the errors.
func race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var start, done sync.WaitGroup
	start.Add(1)
	for i := range n {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			errs[i] = fn(i)
		}()
	}
	start.Done()
	done.Wait()
	return errs
}

func count(errs []error, target error) int {
	n := 0
	for _, err := range errs {
		if errors.Is(err, target) {
			n++
		}
	}
	return n
}

// TestNoDoubleBooking: a teacher's slot and a student's hold one live booking, whatever
// the concurrency; a cancelled booking frees its slot.
func TestNoDoubleBooking(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		ctx := t.Context()
		p := seed(t, db, 10)
		now := time.Now()
		slot := now.UTC().Truncate(time.Hour).Add(48 * time.Hour)
		book := func(student int64, start time.Time) (*domain.Booking, error) {
			return db.CreateBooking(ctx, &domain.NewBooking{StudentID: student, TeacherID: p.teacher, StartsAt: start, Format: "online"}, now)
		}

		errs := race(len(p.students), func(i int) error { _, err := book(p.students[i], slot); return err })
		if count(errs, nil) != 1 || count(errs, domain.ErrSlotTaken) != len(p.students)-1 {
			t.Fatalf("racing for one slot: %v; want one success, the rest ErrSlotTaken", errs)
		}
		var live int
		if err := db.q.QueryRow(ctx, `SELECT COUNT(*) FROM bookings WHERE teacher_id = $1 AND starts_at = $2 AND status <> 'cancelled'`, p.teacher, slot.Unix()).Scan(&live); err != nil || live != 1 {
			t.Fatalf("%d live bookings of the slot (%v), want 1", live, err)
		}

		// The student's own slot: one student cannot be in two lessons at once.
		other := slot.Add(time.Hour)
		b, err := book(p.students[0], other)
		if err != nil {
			t.Fatal(err)
		}
		if b.Status != domain.BookingConfirmed || !b.StartsAt.Equal(other) || !b.EndsAt.Equal(other.Add(domain.SlotLength)) || b.TeacherName != "Karim Trabelsi" {
			t.Fatalf("booking %+v", b)
		}

		// Cancelled once, then the slot is free again.
		if err := db.CancelBooking(ctx, b.ID); err != nil {
			t.Fatal(err)
		}
		if err := db.CancelBooking(ctx, b.ID); !errors.Is(err, domain.ErrNotCancellable) {
			t.Fatalf("second cancellation: %v", err)
		}
		if _, err := book(p.students[1], other); err != nil {
			t.Fatalf("booking a cancelled slot: %v", err)
		}
	})
}

// TestCancelOnce: of concurrent cancellations of one booking, exactly one succeeds.
func TestCancelOnce(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		ctx := t.Context()
		p := seed(t, db, 1)
		now := time.Now()
		b, err := db.CreateBooking(ctx, &domain.NewBooking{StudentID: p.students[0], TeacherID: p.teacher, StartsAt: now.UTC().Truncate(time.Hour).Add(24 * time.Hour), Format: "hybrid"}, now)
		if err != nil {
			t.Fatal(err)
		}
		errs := race(8, func(int) error { return db.CancelBooking(ctx, b.ID) })
		if count(errs, nil) != 1 || count(errs, domain.ErrNotCancellable) != 7 {
			t.Fatalf("concurrent cancellations: %v", errs)
		}
	})
}

// TestGroupCapacity: students racing for a group fill its six seats exactly; the counter
// and the enrolment rows agree, and a second enrolment of a student is refused.
func TestGroupCapacity(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		ctx := t.Context()
		p := seed(t, db, 10)
		errs := race(len(p.students), func(i int) error {
			_, err := db.Enroll(ctx, p.group, p.students[i], time.Now())
			return err
		})
		if count(errs, nil) != domain.GroupCapacity || count(errs, domain.ErrGroupFull) != len(p.students)-domain.GroupCapacity {
			t.Fatalf("racing for %d seats: %v", domain.GroupCapacity, errs)
		}
		var enrolled, rows int
		if err := db.q.QueryRow(ctx, `SELECT enrolled FROM study_groups WHERE id = $1`, p.group).Scan(&enrolled); err != nil {
			t.Fatal(err)
		}
		if err := db.q.QueryRow(ctx, `SELECT COUNT(*) FROM group_enrollments WHERE group_id = $1`, p.group).Scan(&rows); err != nil {
			t.Fatal(err)
		}
		if enrolled != domain.GroupCapacity || rows != domain.GroupCapacity {
			t.Fatalf("enrolled counter %d, enrolment rows %d; want %d", enrolled, rows, domain.GroupCapacity)
		}

		// Another group: a student enrols once, and the answer counts the seats.
		second := p.group + 1
		g, err := db.Enroll(ctx, second, p.students[0], time.Now())
		if err != nil || g.Enrolled != 1 || g.Available != domain.GroupCapacity-1 {
			t.Fatalf("enrol: %+v, %v", g, err)
		}
		if _, err := db.Enroll(ctx, second, p.students[0], time.Now()); !errors.Is(err, domain.ErrAlreadyEnrolled) {
			t.Fatalf("second enrolment: %v", err)
		}
		var de *domain.Error
		if _, err := db.Enroll(ctx, 999999, p.students[0], time.Now()); !errors.As(err, &de) || de.Kind != domain.KindNotFound {
			t.Fatalf("unknown group: %v", err)
		}
	})
}

// TestVisibility: who sees which students and bookings, by role.
func TestVisibility(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *DB) {
		ctx := t.Context()
		p := seed(t, db, 2)
		ids := map[string]int64{}
		for _, email := range DemoUsers {
			var id int64
			if err := db.q.QueryRow(ctx, `SELECT id FROM users WHERE email = $1`, email).Scan(&id); err != nil {
				t.Fatal(err)
			}
			ids[email] = id
		}
		child, stranger := ids[DemoStudent], p.students[0]
		now := time.Now()
		if _, err := db.CreateBooking(ctx, &domain.NewBooking{StudentID: stranger, TeacherID: p.teacher, StartsAt: now.UTC().Truncate(time.Hour).Add(30 * time.Hour), Format: "online"}, now); err != nil {
			t.Fatal(err)
		}
		sees := func(who string, role domain.Role, id int64) bool {
			_, err := db.VisibleStudent(ctx, &domain.Principal{UserID: ids[who], Role: role}, id)
			return err == nil
		}
		for _, c := range []struct {
			who     string
			role    domain.Role
			student int64
			want    bool
		}{
			{DemoAdmin, domain.RoleAdmin, stranger, true},
			{DemoParent, domain.RoleParent, child, true},
			{DemoParent, domain.RoleParent, stranger, false},
			{DemoStudent, domain.RoleStudent, child, true},
			{DemoStudent, domain.RoleStudent, stranger, false},
			{DemoTeacher, domain.RoleTeacher, stranger, true}, // has a booking with the teacher
			{DemoTeacher, domain.RoleTeacher, p.students[1], false},
		} {
			if got := sees(c.who, c.role, c.student); got != c.want {
				t.Errorf("%s sees student %d: %v, want %v", c.who, c.student, got, c.want)
			}
		}
		link, err := db.StudentLink(ctx, ids[DemoParent], child)
		if err != nil || !link.Exists || !link.ChildOf {
			t.Errorf("parent's link to the child: %+v, %v", link, err)
		}
		if link, err := db.StudentLink(ctx, ids[DemoParent], stranger); err != nil || !link.Exists || link.ChildOf {
			t.Errorf("parent's link to a stranger: %+v, %v", link, err)
		}
		if link, err := db.StudentLink(ctx, ids[DemoAdmin], 999999); err != nil || link.Exists {
			t.Errorf("unknown student: %+v, %v", link, err)
		}
		for who, want := range map[string]int{DemoParent: 0, DemoTeacher: 1, DemoAdmin: 1} {
			role := map[string]domain.Role{DemoParent: domain.RoleParent, DemoTeacher: domain.RoleTeacher, DemoAdmin: domain.RoleAdmin}[who]
			bs, err := db.ListBookings(ctx, &domain.Principal{UserID: ids[who], Role: role}, 20, 0)
			if err != nil || len(bs) != want {
				t.Errorf("%s sees %d bookings (%v), want %d", who, len(bs), err, want)
			}
		}
	})
}

// TestDatabaseErrorsHideCredentials: a database that cannot be opened or reached is
// reported without the credentials of DATABASE_URL, wherever the driver put them.
func TestDatabaseErrorsHideCredentials(t *testing.T) {
	for _, dsn := range []string{
		"postgres://u:s3cret@127.0.0.1:1/nexus?sslpassword=s3cret2&password=s3cret3&connect_timeout=1&sslmode=disable",
		"postgres://u@127.0.0.1:1/nexus?password=s3cret&connect_timeout=abc",
	} {
		_, err := Open(t.Context(), configOf(t, dsn), slog.New(slog.DiscardHandler), nil)
		if err == nil {
			t.Fatalf("%s: opened", dsn)
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: %v", dsn, err)
		}
		if !strings.Contains(err.Error(), "127.0.0.1") {
			t.Errorf("%s: the error no longer says where: %v", dsn, err)
		}
	}
}

// TestSchemaMissing: a database never migrated is told apart.
func TestSchemaMissing(t *testing.T) {
	db, err := Open(t.Context(), configOf(t, "sqlite://"+filepath.Join(t.TempDir(), "empty.db")), slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.CountFormulas(t.Context()); !errors.Is(err, ErrNoSchema) {
		t.Fatalf("count on an empty database: %v", err)
	}
}

// FuzzLikePattern: the LIKE pattern of any search escapes every wildcard it was given.
func FuzzLikePattern(f *testing.F) {
	for _, s := range []string{"hadd", `%_\`, "' OR 1=1 --", `\\%`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, search string) {
		pat := likePattern(search)
		inner := pat[1 : len(pat)-1]
		for i := 0; i < len(inner); i++ {
			switch inner[i] {
			case '\\':
				i++ // an escape and the escaped byte
				if i >= len(inner) {
					t.Fatalf("dangling escape in %q", pat)
				}
			case '%', '_':
				t.Fatalf("unescaped wildcard in %q (from %q)", pat, search)
			}
		}
	})
}
