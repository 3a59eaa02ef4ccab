package reliability

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// ariaDailyLimit is nexus's per-user ARIA quota (questions per 24 h).
const ariaDailyLimit = 50

// maxLogins is how many times a simulated student logs in: nexus allows "5 per minute"
// per client on the login route; registration counts on its own route.
const maxLogins = 4

// student is a simulated student: one worker goroutine drives it, so its fields need
// no lock while the load runs. It remembers every write the backend acknowledged.
type student struct {
	n       int
	email   string
	ip      string
	id      int64
	access  string
	refresh string
	logins  int

	booked    map[int64]bookingAck // by booking id
	enrolled  map[int64]bool       // group ids acknowledged with 201
	chats     map[int64]string     // ARIA interaction id → question
	nextQuest int
	// chatsUnsure counts chats that failed without an answer (possibly stored).
	chatsUnsure int
}

type bookingAck struct {
	slot      time.Time
	cancelled bool
	// cancelInDoubt: a cancel got no trustworthy answer (a 503 or a transport error): its
	// commit may have reached the database before the connection was lost, so a later
	// cancel may rightly answer 409.
	cancelInDoubt bool
}

// workload is a mixed load against one child: students (register, login, refresh,
// bookings, enrollments, ARIA, reads) and anonymous visitors (formulas, config, the
// page), bounded by a request budget and a deadline.
type workload struct {
	api      *api
	students []*student
	anon     int // anonymous workers

	teacher  int64
	groups   []int64
	formulas []int64
	slots    []time.Time

	budget int64         // requests, all workers together
	think  time.Duration // pause of each worker between requests; 0 = none
	issued atomic.Int64  // requests started
	all    Counts
	ops    map[string]*Counts // per operation; keys fixed before the run

	// phases tally replies by the phase current when they completed (setPhase).
	phases [4]Counts
	phase  atomic.Int32

	// tolerate, when set, accepts a reply outside an operation's expected statuses (a
	// fault test's expected failures); it is called concurrently.
	tolerate func(op string, r reply) bool

	mu         sync.Mutex
	unexpected []string
	nUnexpect  int
	tolerated  int
	stopped    time.Time // when the deadline stopped the run early (zero if not)
}

// Operation names.
const (
	opFormulas = "GET /api/formulas"
	opFormula  = "GET /api/formulas/{id}"
	opConfig   = "GET /api/config"
	opIndex    = "GET /"
	opMe       = "GET /api/auth/me"
	opBook     = "POST /api/bookings"
	opCancel   = "POST /api/bookings/{id}/cancel"
	opBookings = "GET /api/bookings"
	opEnroll   = "POST /api/groups/{id}/enrollments"
	opGroups   = "GET /api/groups"
	opChat     = "POST /api/aria/chat"
	opHistory  = "GET /api/aria/history"
	opLogin    = "POST /api/auth/login"
	opRefresh  = "POST /api/auth/refresh"
	opRegister = "POST /api/auth/register"
)

var allOps = []string{opFormulas, opFormula, opConfig, opIndex, opMe, opBook, opCancel, opBookings,
	opEnroll, opGroups, opChat, opHistory, opLogin, opRefresh, opRegister}

// studentMix weighs a student's next operation.
var studentMix = []struct {
	op     string
	weight int
}{
	{opFormulas, 20}, {opFormula, 8}, {opMe, 8}, {opBook, 16}, {opCancel, 5}, {opBookings, 8},
	{opEnroll, 7}, {opGroups, 5}, {opChat, 9}, {opHistory, 4}, {opLogin, 2}, {opRefresh, 8},
}

// newWorkload registers and logs in n students (distinct client addresses) and reads
// the ids the load needs. Registration and login pay bcrypt, so few run at once.
func newWorkload(t *testing.T, a *api, n, anon int, budget int64, tag string) *workload {
	t.Helper()
	w := &workload{api: a, anon: anon, budget: budget, ops: map[string]*Counts{}}
	for _, op := range allOps {
		w.ops[op] = &Counts{}
	}
	w.students = make([]*student, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	errs := make(chan error, n)
	for i := range n {
		s := &student{
			n: i, email: fmt.Sprintf("load-%s-%d@example.com", tag, i), ip: fmt.Sprintf("10.60.%d.%d", i/250, i%250+1),
			booked: map[int64]bookingAck{}, enrolled: map[int64]bool{}, chats: map[int64]string{},
		}
		w.students[i] = s
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			errs <- w.enrol(s)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	tk := w.students[0].access
	var teachers struct {
		Teachers []struct {
			ID int64 `json:"id"`
		} `json:"teachers"`
	}
	if err := a.must(t, http.StatusOK, "GET", "/api/teachers", w.students[0].ip, tk, nil).decode(&teachers); err != nil || len(teachers.Teachers) == 0 {
		t.Fatalf("teachers: %v %+v", err, teachers)
	}
	w.teacher = teachers.Teachers[0].ID
	var groups struct {
		Groups []struct {
			ID int64 `json:"id"`
		} `json:"groups"`
	}
	if err := a.must(t, http.StatusOK, "GET", "/api/groups", w.students[0].ip, tk, nil).decode(&groups); err != nil || len(groups.Groups) == 0 {
		t.Fatalf("groups: %v %+v", err, groups)
	}
	for _, g := range groups.Groups {
		w.groups = append(w.groups, g.ID)
	}
	var formulas struct {
		Formulas []struct {
			ID int64 `json:"id"`
		} `json:"formulas"`
	}
	if err := a.must(t, http.StatusOK, "GET", "/api/formulas", "", "", nil).decode(&formulas); err != nil || len(formulas.Formulas) == 0 {
		t.Fatalf("formulas: %v %+v", err, formulas)
	}
	for _, f := range formulas.Formulas {
		w.formulas = append(w.formulas, f.ID)
	}
	// Few slots for many students: bookings collide on the teacher's slots (and on a
	// student's own), which is what the database must arbitrate.
	base := time.Now().UTC().Truncate(time.Hour).Add(48 * time.Hour)
	for i := range max(8, n*2) {
		w.slots = append(w.slots, base.Add(time.Duration(i)*time.Hour))
	}
	return w
}

// enrol registers s and logs it in (setup; failures are returned, not tallied).
func (w *workload) enrol(s *student) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*requestTimeout)
	defer cancel()
	r := w.api.call(ctx, "POST", "/api/auth/register", s.ip, "", map[string]string{
		"email": s.email, "password": "orbite-kayak-" + strconv.Itoa(s.n), "first_name": "Élève", "last_name": "Charge " + strconv.Itoa(s.n),
		"role": "student", "grade_level": "terminale", "school": "Lycée de charge",
	})
	w.record(opRegister, r)
	if r.status != http.StatusCreated {
		return fmt.Errorf("register %s: %s", s.email, r)
	}
	var u struct {
		ID int64 `json:"id"`
	}
	if err := r.decode(&u); err != nil || u.ID == 0 {
		return fmt.Errorf("register %s: %v", s.email, err)
	}
	s.id = u.ID
	return w.loginStudent(ctx, s)
}

func (w *workload) loginStudent(ctx context.Context, s *student) error {
	s.logins++ // attempts count against the login limit, successful or not
	r := w.api.call(ctx, "POST", "/api/auth/login", s.ip, "", map[string]string{"email": s.email, "password": "orbite-kayak-" + strconv.Itoa(s.n)})
	ok := w.judge(opLogin, r, http.StatusOK)
	if r.status != http.StatusOK {
		if ok {
			return nil
		}
		return fmt.Errorf("login %s: %s", s.email, r)
	}
	var tk tokens
	if err := r.decode(&tk); err != nil {
		return err
	}
	s.access, s.refresh = tk.AccessToken, tk.RefreshToken
	return nil
}

// record tallies a reply under op.
func (w *workload) record(op string, r reply) {
	w.all.Add(r.status, r.took)
	w.ops[op].Add(r.status, r.took)
	w.phases[w.phase.Load()].Add(r.status, r.took)
}

// setPhase starts phase i (0 to 3) of a fault test.
func (w *workload) setPhase(i int) { w.phase.Store(int32(i)) }

// judge records r and checks its status is one of want (or tolerated); it reports
// whether the reply was acceptable.
func (w *workload) judge(op string, r reply, want ...int) bool {
	w.record(op, r)
	if slices.Contains(want, r.status) {
		if r.status >= 400 && !r.problemJSON() {
			w.fault(op, r, "error without application/problem+json")
			return false
		}
		return true
	}
	if w.tolerate != nil && w.tolerate(op, r) {
		w.mu.Lock()
		w.tolerated++
		w.mu.Unlock()
		return true
	}
	w.fault(op, r, fmt.Sprintf("want %v", want))
	return false
}

func (w *workload) fault(op string, r reply, why string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.nUnexpect++
	if len(w.unexpected) < 20 {
		w.unexpected = append(w.unexpected, fmt.Sprintf("%s: %s (%s)", op, r, why))
	}
}

// Unexpected is the number of replies outside the expected statuses and a sample.
func (w *workload) Unexpected() (int, []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.nUnexpect, slices.Clone(w.unexpected)
}

// Tolerated is the number of replies accepted by tolerate.
func (w *workload) Tolerated() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.tolerated
}

// run drives the load until the budget is spent, ctx ends or stop is closed. Each
// student has its own worker (its tokens and acknowledged writes are not shared), plus
// w.anon anonymous workers.
func (w *workload) run(ctx context.Context, stop <-chan struct{}) {
	var wg sync.WaitGroup
	next := func() bool {
		select {
		case <-stop:
			return false
		default:
		}
		if ctx.Err() != nil {
			w.mu.Lock()
			if w.stopped.IsZero() {
				w.stopped = time.Now()
			}
			w.mu.Unlock()
			return false
		}
		if w.think > 0 {
			select {
			case <-time.After(w.think):
			case <-stop:
				return false
			case <-ctx.Done():
				return false
			}
		}
		return w.issued.Add(1) <= w.budget
	}
	for _, s := range w.students {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(s.n), 0x5eed))
			for next() {
				w.studentStep(ctx, rng, s)
			}
		}()
	}
	for i := range w.anon {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(1000+i), 0xa707))
			for next() {
				w.anonStep(ctx, rng, i)
			}
		}()
	}
	wg.Wait()
}

// StoppedEarly reports whether the deadline ended the run before the budget.
func (w *workload) StoppedEarly() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return !w.stopped.IsZero()
}

func (w *workload) anonStep(ctx context.Context, rng *rand.Rand, i int) {
	ip := fmt.Sprintf("10.200.%d.%d", i/250, i%250+1)
	switch rng.IntN(10) {
	case 0, 1, 2, 3:
		w.judge(opFormulas, w.api.call(ctx, "GET", "/api/formulas", ip, "", nil, "Accept-Encoding", "gzip"), http.StatusOK)
	case 4, 5, 6:
		id := w.formulas[rng.IntN(len(w.formulas))]
		w.judge(opFormula, w.api.call(ctx, "GET", "/api/formulas/"+strconv.FormatInt(id, 10), ip, "", nil), http.StatusOK)
	case 7, 8:
		w.judge(opConfig, w.api.call(ctx, "GET", "/api/config", ip, "", nil), http.StatusOK)
	default:
		w.judge(opIndex, w.api.call(ctx, "GET", "/", ip, "", nil), http.StatusOK)
	}
}

func pickOp(rng *rand.Rand) string {
	total := 0
	for _, m := range studentMix {
		total += m.weight
	}
	n := rng.IntN(total)
	for _, m := range studentMix {
		if n < m.weight {
			return m.op
		}
		n -= m.weight
	}
	return opFormulas
}

func (w *workload) studentStep(ctx context.Context, rng *rand.Rand, s *student) {
	call := func(method, path string, body any) reply {
		return w.api.call(ctx, method, path, s.ip, s.access, body)
	}
	op := pickOp(rng)
	if op == opLogin && s.logins >= maxLogins {
		op = opRefresh
	}
	if op == opCancel {
		var open []int64
		for id, b := range s.booked {
			if !b.cancelled {
				open = append(open, id)
			}
		}
		if len(open) == 0 {
			op = opBookings
		} else {
			slices.Sort(open)
			id := open[rng.IntN(len(open))]
			r := call("POST", "/api/bookings/"+strconv.FormatInt(id, 10)+"/cancel", nil)
			b := s.booked[id]
			want := []int{http.StatusOK}
			if b.cancelInDoubt {
				want = append(want, http.StatusConflict)
			}
			ok := w.judge(op, r, want...)
			switch {
			case ok && (r.status == http.StatusOK || r.status == http.StatusConflict):
				b.cancelled = true
			case r.err != nil || r.status == http.StatusServiceUnavailable:
				b.cancelInDoubt = true
			}
			s.booked[id] = b
			return
		}
	}
	switch op {
	case opFormulas:
		w.judge(op, call("GET", "/api/formulas", nil), http.StatusOK)
	case opFormula:
		id := w.formulas[rng.IntN(len(w.formulas))]
		w.judge(op, call("GET", "/api/formulas/"+strconv.FormatInt(id, 10), nil), http.StatusOK)
	case opMe:
		w.judge(op, call("GET", "/api/auth/me", nil), http.StatusOK)
	case opBookings:
		w.judge(op, call("GET", "/api/bookings?per_page=50", nil), http.StatusOK)
	case opGroups:
		w.judge(op, call("GET", "/api/groups", nil), http.StatusOK)
	case opHistory:
		w.judge(op, call("GET", "/api/aria/history", nil), http.StatusOK)
	case opBook:
		slot := w.slots[rng.IntN(len(w.slots))]
		r := call("POST", "/api/bookings", map[string]any{"teacher_id": w.teacher, "starts_at": slot.Format(time.RFC3339), "format": "online"})
		if w.judge(op, r, http.StatusCreated, http.StatusConflict) && r.status == http.StatusCreated {
			var b struct {
				ID        int64 `json:"id"`
				StudentID int64 `json:"student_id"`
			}
			if err := r.decode(&b); err != nil || b.ID == 0 || b.StudentID != s.id {
				w.fault(op, r, fmt.Sprintf("booking body: %v", err))
				return
			}
			s.booked[b.ID] = bookingAck{slot: slot}
		}
	case opEnroll:
		g := w.groups[rng.IntN(len(w.groups))]
		r := call("POST", "/api/groups/"+strconv.FormatInt(g, 10)+"/enrollments", nil)
		if s.enrolled[g] {
			w.judge(op, r, http.StatusConflict)
		} else if w.judge(op, r, http.StatusCreated, http.StatusConflict) && r.status == http.StatusCreated {
			s.enrolled[g] = true
		}
	case opChat:
		q := fmt.Sprintf("Élève %d, question %d : comment dériver x^%d ?", s.n, s.nextQuest, s.nextQuest+2)
		s.nextQuest++
		want := []int{http.StatusOK}
		switch {
		case len(s.chats) >= ariaDailyLimit:
			want = []int{http.StatusTooManyRequests}
		case s.chatsUnsure > 0 && len(s.chats)+s.chatsUnsure >= ariaDailyLimit:
			// Chats answered 5xx may have been stored anyway and count to the quota.
			want = append(want, http.StatusTooManyRequests)
		}
		r := call("POST", "/api/aria/chat", map[string]string{"message": q})
		if r.status >= 500 || r.status == 0 {
			s.chatsUnsure++
		}
		if w.judge(op, r, want...) && r.status == http.StatusOK {
			var it struct {
				ID     int64  `json:"id"`
				Answer string `json:"answer"`
			}
			if err := r.decode(&it); err != nil || it.ID == 0 || it.Answer != answer(q) {
				w.fault(op, r, fmt.Sprintf("interaction body: %v, answer %q", err, it.Answer))
				return
			}
			s.chats[it.ID] = q
		}
	case opLogin:
		_ = w.loginStudent(ctx, s)
	case opRefresh:
		if s.refresh == "" {
			// A refresh failed: whether the server used the token is unknown, and
			// presenting it again would revoke the session as a replay. Log in again.
			if s.logins < maxLogins {
				_ = w.loginStudent(ctx, s)
			} else {
				w.judge(opMe, call("GET", "/api/auth/me", nil), http.StatusOK)
			}
			return
		}
		r := w.api.call(ctx, "POST", "/api/auth/refresh", s.ip, "", map[string]string{"refresh_token": s.refresh})
		if r.status != http.StatusOK {
			s.refresh = ""
		}
		if w.judge(op, r, http.StatusOK) && r.status == http.StatusOK {
			var tk tokens
			if err := r.decode(&tk); err != nil || tk.AccessToken == "" {
				w.fault(op, r, fmt.Sprintf("token body: %v", err))
				return
			}
			s.access, s.refresh = tk.AccessToken, tk.RefreshToken
		}
	}
}

// acks sums the acknowledged writes of every student.
func (w *workload) acks() (bookings, cancelled, enrollments, chats int) {
	for _, s := range w.students {
		for _, b := range s.booked {
			bookings++
			if b.cancelled {
				cancelled++
			}
		}
		enrollments += len(s.enrolled)
		chats += len(s.chats)
	}
	return
}

// opTable renders per-operation counts for the report.
func (w *workload) opTable(sec *Section) {
	for _, op := range allOps {
		c := w.ops[op]
		if c.Total() == 0 {
			continue
		}
		sec.Addf(op, "%d requests: %s; p50 %s, p99 %s", c.Total(), c.Statuses(),
			c.Quantile(0.5).Round(100*time.Microsecond), c.Quantile(0.99).Round(100*time.Microsecond))
	}
}
