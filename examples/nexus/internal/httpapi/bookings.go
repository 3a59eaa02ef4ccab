package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/nexus-reussite/harden/examples/nexus/internal/domain"
)

func (a *API) handleListBookings(w http.ResponseWriter, r *http.Request, p *domain.Principal) error {
	page, per, err := pageParams(r)
	if err != nil {
		return err
	}
	items, err := a.db.ListBookings(r.Context(), p, per, (page-1)*per)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"bookings": items, "page": page, "per_page": per})
	return nil
}

// actingStudent resolves which student a request of p acts for (domain.ActingStudent),
// asking the store about the student named when the answer depends on it.
func (a *API) actingStudent(ctx context.Context, p *domain.Principal, requested int64) (int64, error) {
	return domain.ActingStudent(*p, requested, func() (domain.StudentLink, error) {
		return a.db.StudentLink(ctx, p.UserID, requested)
	})
}

type createBookingRequest struct {
	TeacherID int64     `json:"teacher_id"`
	StudentID int64     `json:"student_id"`
	StartsAt  time.Time `json:"starts_at"`
	Format    string    `json:"format"`
}

// handleCreateBooking books a teacher's slot for a student.
func (a *API) handleCreateBooking(w http.ResponseWriter, r *http.Request, p *domain.Principal) error {
	var req createBookingRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	ctx := r.Context()
	studentID, err := a.actingStudent(ctx, p, req.StudentID)
	if err != nil {
		return err
	}
	now := a.now()
	nb, err := domain.CheckNewBooking(studentID, req.TeacherID, req.StartsAt, req.Format, now)
	if err != nil {
		return err
	}
	if err := a.cfg.Quotas.Hours.Check(nb.StartsAt); err != nil {
		return err
	}
	if err := a.db.CheckTeacher(ctx, req.TeacherID); err != nil {
		return err
	}
	b, err := a.db.CreateBooking(ctx, nb, now)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, b)
	return nil
}

// handleCancelBooking cancels a pending or confirmed booking: its student, the student's
// parents, its teacher, or an admin.
func (a *API) handleCancelBooking(w http.ResponseWriter, r *http.Request, p *domain.Principal) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	b, err := a.db.VisibleBooking(r.Context(), p, id)
	if err != nil {
		return err
	}
	if err := b.CheckCancel(); err != nil {
		return err
	}
	if err := a.db.CancelBooking(r.Context(), id); err != nil {
		return err
	}
	b.Status = domain.BookingCancelled
	writeJSON(w, http.StatusOK, b)
	return nil
}

func (a *API) handleTeachers(w http.ResponseWriter, r *http.Request, _ *domain.Principal) error {
	teachers, err := a.db.Teachers(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"teachers": teachers})
	return nil
}

func (a *API) handleGroups(w http.ResponseWriter, r *http.Request, _ *domain.Principal) error {
	groups, err := a.db.Groups(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"groups": groups})
	return nil
}

type enrollRequest struct {
	StudentID int64 `json:"student_id"`
}

// handleEnroll adds a student to a group; the body (naming the student) is optional
// for students.
func (a *API) handleEnroll(w http.ResponseWriter, r *http.Request, p *domain.Principal) error {
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
	sid, err := a.actingStudent(r.Context(), p, req.StudentID)
	if err != nil {
		return err
	}
	g, err := a.db.Enroll(r.Context(), gid, sid, a.now())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"group": g, "student_id": sid, "enrolled_at": a.now().UTC().Truncate(time.Second)})
	return nil
}
