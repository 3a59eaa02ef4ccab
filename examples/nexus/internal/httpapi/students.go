package httpapi

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/nexus-reussite/harden/examples/nexus/internal/domain"
	"github.com/nexus-reussite/harden/examples/nexus/internal/store"
)

// maxSearch bounds the search parameter of the students list.
const maxSearch = 100

func (a *API) handleListStudents(w http.ResponseWriter, r *http.Request, p *domain.Principal) error {
	page, per, err := pageParams(r)
	if err != nil {
		return err
	}
	f := store.StudentFilter{Limit: per, Offset: (page - 1) * per}
	if f.Search = strings.TrimSpace(r.URL.Query().Get("search")); len(f.Search) > maxSearch {
		return badRequest("search is at most 100 characters")
	}
	if f.GradeLevel = r.URL.Query().Get("grade_level"); f.GradeLevel != "" && !slices.Contains(domain.GradeLevels, f.GradeLevel) {
		return badRequest("grade_level must be seconde, première or terminale")
	}
	items, total, err := a.db.ListStudents(r.Context(), p, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"students": items, "page": page, "per_page": per, "total": total})
	return nil
}

// pathStudent reads the student named by the {id} wildcard, if p may see it.
func (a *API) pathStudent(r *http.Request, p *domain.Principal) (*domain.Student, error) {
	id, err := pathID(r)
	if err != nil {
		return nil, err
	}
	return a.db.VisibleStudent(r.Context(), p, id)
}

func (a *API) handleGetStudent(w http.ResponseWriter, r *http.Request, p *domain.Principal) error {
	st, err := a.pathStudent(r, p)
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
func (a *API) handleCreateStudent(w http.ResponseWriter, r *http.Request, p *domain.Principal) error {
	var req createStudentRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	nu, err := domain.ValidateNewUser(req.Email, req.Password, req.FirstName, req.LastName, domain.RoleStudent)
	if err != nil {
		return err
	}
	sp, err := domain.ValidateStudentProfile(req.GradeLevel, req.School, req.Specialties, req.LearningStyle)
	if err != nil {
		return err
	}
	var parentID int64
	if p.Role == domain.RoleParent {
		parentID = p.UserID
		// A parent at the quota is refused before the password costs a hash.
		if err := a.db.ChildQuotaReached(r.Context(), parentID); err != nil {
			return err
		}
	}
	u, err := a.createUser(r, nu, sp, parentID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, &domain.Student{
		ID: u.ID, Email: u.Email, FirstName: u.FirstName, LastName: u.LastName, StudentProfile: *sp, Status: u.Status,
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
func (a *API) handleUpdateStudent(w http.ResponseWriter, r *http.Request, p *domain.Principal) error {
	st, err := a.pathStudent(r, p)
	if err != nil {
		return err
	}
	var req updateStudentRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.FirstName != nil {
		if st.FirstName, err = domain.ValidName("first_name", *req.FirstName); err != nil {
			return err
		}
	}
	if req.LastName != nil {
		if st.LastName, err = domain.ValidName("last_name", *req.LastName); err != nil {
			return err
		}
	}
	prof := st.StudentProfile
	if req.GradeLevel != nil {
		prof.GradeLevel = *req.GradeLevel
	}
	if req.School != nil {
		prof.School = *req.School
	}
	if req.Specialties != nil {
		prof.Specialties = *req.Specialties
	}
	if req.LearningStyle != nil {
		prof.LearningStyle = *req.LearningStyle
	}
	sp, err := domain.ValidateStudentProfile(prof.GradeLevel, prof.School, prof.Specialties, prof.LearningStyle)
	if err != nil {
		return err
	}
	if err := a.db.UpdateStudent(r.Context(), st.ID, st.FirstName, st.LastName, sp); err != nil {
		return err
	}
	st.StudentProfile = *sp
	writeJSON(w, http.StatusOK, st)
	return nil
}

// handleDeleteStudent deletes a student account and revokes its sessions (admins only).
func (a *API) handleDeleteStudent(w http.ResponseWriter, r *http.Request, p *domain.Principal) error {
	st, err := a.pathStudent(r, p)
	if err != nil {
		return err
	}
	if err := a.auth.RevokeUser(r.Context(), st.ID); err != nil {
		return err
	}
	if err := a.db.DeleteStudent(r.Context(), st.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// handleStudentDashboard sums up a student's bookings, groups and ARIA use. A teacher
// sees only their own bookings with the student.
func (a *API) handleStudentDashboard(w http.ResponseWriter, r *http.Request, p *domain.Principal) error {
	st, err := a.pathStudent(r, p)
	if err != nil {
		return err
	}
	now := time.Unix(a.now().Unix(), 0).UTC()
	var teacherID int64
	if p.Role == domain.RoleTeacher {
		teacherID = p.UserID
	}
	d, err := a.db.StudentDashboard(r.Context(), st.ID, teacherID, now)
	if err != nil {
		return err
	}
	next, err := a.db.UpcomingBookings(r.Context(), st.ID, teacherID, now, 5)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"student":            st,
		"upcoming_bookings":  d.Upcoming,
		"completed_sessions": d.Completed,
		"groups":             d.Groups,
		"aria_interactions":  d.Aria,
		"next_bookings":      next,
		"generated_at":       now,
	})
	return nil
}
