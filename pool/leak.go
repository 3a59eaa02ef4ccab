package pool

import (
	"context"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// stackDepth is how many frames a leak report keeps.
const stackDepth = 32

// Frames trimmed from the top of a leak report's stack, so that it starts at the code that
// took the connection.
const (
	sqlFrames  = "database/sql."
	poolFrames = "github.com/nexus-reussite/harden/pool."
)

// leakWatch follows one connection while it is out of the pool. One timer per connection is
// re-armed at each checkout, so watching allocates nothing per checkout.
type leakWatch struct {
	p *Pool

	mu       sync.Mutex
	taken    time.Time // zero while the connection is in the pool
	pcs      [stackDepth]uintptr
	n        int
	reported bool
	timer    *time.Timer
}

func (w *leakWatch) start() {
	th := w.p.cfg.LeakThreshold
	w.mu.Lock()
	defer w.mu.Unlock()
	w.taken = time.Now()
	w.n = runtime.Callers(3, w.pcs[:])
	w.reported = false
	if w.timer == nil {
		w.timer = time.AfterFunc(th, w.fire)
	} else {
		w.timer.Reset(th)
	}
}

func (w *leakWatch) stop() {
	w.mu.Lock()
	if w.taken.IsZero() {
		w.mu.Unlock()
		return
	}
	held, reported := time.Since(w.taken), w.reported
	w.taken = time.Time{}
	w.timer.Stop()
	w.mu.Unlock()
	if reported {
		w.p.cfg.Logger.LogAttrs(context.Background(), slog.LevelInfo, "pool: previously reported leaked connection returned",
			poolAttr(w.p), slog.Duration("held", held))
	}
}

// fire reports the connection once, if it is still out and has been for the threshold (a
// timer racing with a return and a new checkout re-arms for the remainder instead).
func (w *leakWatch) fire() {
	th := w.p.cfg.LeakThreshold
	w.mu.Lock()
	if w.taken.IsZero() || w.reported {
		w.mu.Unlock()
		return
	}
	held := time.Since(w.taken)
	if held < th {
		w.timer.Reset(th - held)
		w.mu.Unlock()
		return
	}
	w.reported = true
	stack := formatStack(w.pcs[:w.n])
	w.mu.Unlock()
	w.p.counters.leaks.Add(1)
	w.p.cfg.Logger.LogAttrs(context.Background(), slog.LevelWarn, "pool: connection leak: held past the leak threshold",
		poolAttr(w.p), slog.Duration("held", held), slog.Duration("threshold", th), slog.String("stack", stack))
}

// formatStack renders frames as a panic does (function, then file:line indented), without
// the pool's and database/sql's own frames at the top.
func formatStack(pcs []uintptr) string {
	var b strings.Builder
	frames := runtime.CallersFrames(pcs)
	top := true
	for {
		f, more := frames.Next()
		if top && ownFrame(f.Function) {
			if !more {
				break
			}
			continue
		}
		top = false
		if f.Function != "runtime.goexit" && f.Function != "" {
			b.WriteString(f.Function)
			b.WriteString("\n\t")
			b.WriteString(f.File)
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(f.Line))
			b.WriteByte('\n')
		}
		if !more {
			break
		}
	}
	return b.String()
}

func ownFrame(fn string) bool {
	return strings.HasPrefix(fn, sqlFrames) || strings.HasPrefix(fn, poolFrames)
}
