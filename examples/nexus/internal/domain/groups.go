package domain

// GroupCapacity is the most students a study group takes. The store enforces it under
// concurrent enrolments (ErrGroupFull); a group formula offers at most this many seats.
const GroupCapacity = 6

// Group is a study group.
type Group struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	FormulaID int64  `json:"formula_id"`
	TeacherID *int64 `json:"teacher_id"`
	Schedule  string `json:"schedule"`
	Capacity  int    `json:"capacity"`
	Enrolled  int    `json:"enrolled"`
	Available int    `json:"available"`
}

// CountSeats sets Available from Capacity and Enrolled.
func (g *Group) CountSeats() { g.Available = max(0, g.Capacity-g.Enrolled) }
