package reliability

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// demoPassword is the demo users' password (NEXUS_DEMO_PASSWORD) in every child.
const demoPassword = "reliability-demo-password"

// Demo accounts seeded by nexus in development.
const (
	demoAdmin   = "admin@nexus-reussite.com"
	demoParent  = "parent@nexus-reussite.com"
	demoStudent = "eleve@nexus-reussite.com"
)

// startupTimeout bounds a child's start (migrations, demo data with bcrypt cost 12).
const startupTimeout = 60 * time.Second

// nexusProc is a running nexus child process.
type nexusProc struct {
	t    *testing.T
	cmd  *exec.Cmd
	URL  string // http://127.0.0.1:port
	Addr string // 127.0.0.1:port, the socket handed to the child
	logs *tailBuffer

	done     chan struct{} // closed when the process has exited
	exitCode int
	exitedAt time.Time
}

// baseEnv is the environment every child gets; tests add to it.
func baseEnv(port int) map[string]string {
	return map[string]string{
		"APP_ENV":             "development",
		"PORT":                strconv.Itoa(port),
		"NEXUS_DEMO_PASSWORD": demoPassword,
		"SECRET_KEY":          "5d0c2a9e71f4b3860e6d15a2c7b94f38e0a6d2c1",
		"JWT_SECRET_KEY":      "b7e13f08c4a95d26e1f0739ab84c5d62f1e0a937",
		"LOG_LEVEL":           "error",
		"SHUTDOWN_DELAY":      "1",
		// Load from one machine: clients are told apart by X-Forwarded-For from the
		// trusted loopback proxy, and the default rule is far above the load.
		"TRUSTED_PROXIES":   "127.0.0.1",
		"RATELIMIT_DEFAULT": "1000000 per hour",
		// The load tests start many sessions and questions at once from fresh addresses;
		// the abuse tests set the gates back to their defaults.
		"HASH_CONCURRENCY": "4096",
		"ARIA_CONCURRENCY": "4096",
		// The workloads book any hour, and many: the quota tests set their own.
		"BOOKING_HOURS":       "00:00-24:00",
		"BOOKING_MAX_ACTIVE":  "1000000",
		"PARENT_MAX_CHILDREN": "1000000",
	}
}

// startNexus runs the binary with env (see baseEnv) and waits until /ready answers 200.
// The test listens on a loopback port and hands the socket over as systemd socket
// activation does (file descriptor 3, LISTEN_FDS=1, LISTEN_PID the child), so the port is
// held from the start and no other process can take it. The process is killed at cleanup
// if still running.
func startNexus(t *testing.T, env map[string]string) *nexusProc {
	t.Helper()
	bin := nexusBinary(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	sock, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatalf("listener file: %v", err)
	}
	addr := ln.Addr().String()
	port := ln.Addr().(*net.TCPAddr).Port
	vars := baseEnv(port)
	for k, v := range env {
		vars[k] = v
	}
	vars["PORT"] = strconv.Itoa(port)
	vars["LISTEN_FDS"] = "1"
	// LISTEN_PID must be the child's process id: sh sets it to its own ($$), which exec
	// keeps for nexus.
	cmd := exec.Command("/bin/sh", "-c", `LISTEN_PID=$$ exec "$0"`, bin)
	cmd.ExtraFiles = []*os.File{sock}
	cmd.Dir = t.TempDir() // no stray .env file
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + cmd.Dir, "TMPDIR=" + cmd.Dir}
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	p := &nexusProc{t: t, cmd: cmd, Addr: addr, logs: &tailBuffer{max: 8 << 20}, done: make(chan struct{})}
	p.URL = "http://" + p.Addr
	cmd.Stdout, cmd.Stderr = p.logs, p.logs
	err = cmd.Start()
	// The child has its copy; closing this process's copies makes the socket the
	// child's alone, so that it closes when the child closes it.
	_ = sock.Close()
	_ = ln.Close()
	if err != nil {
		t.Fatalf("start nexus: %v", err)
	}
	go func() {
		err := cmd.Wait()
		p.exitedAt = time.Now()
		p.exitCode = 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			p.exitCode = ee.ExitCode()
		} else if err != nil {
			p.exitCode = -1
		}
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("nexus output (tail):\n%s", p.logs.Tail(20))
		}
	})
	if err := p.waitReady(startupTimeout); err != nil {
		t.Fatalf("nexus did not become ready: %v\n%s", err, p.logs.Tail(20))
	}
	return p
}

// waitReady polls /ready until 200, the process exits or d passes.
func (p *nexusProc) waitReady(d time.Duration) error {
	hc := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(d)
	for {
		select {
		case <-p.done:
			return fmt.Errorf("exited with code %d", p.exitCode)
		default:
		}
		resp, err := hc.Get(p.URL + "/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no 200 from /ready within %s (last: %v)", d, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// RSS is the child's resident set size in bytes, from /proc/<pid>/status (VmRSS).
func (p *nexusProc) RSS() (int64, error) {
	return rssOf(p.cmd.Process.Pid)
}

func rssOf(pid int) (int64, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			fields := strings.Fields(rest)
			if len(fields) != 2 || fields[1] != "kB" {
				return 0, fmt.Errorf("unexpected VmRSS line %q", line)
			}
			kb, err := strconv.ParseInt(fields[0], 10, 64)
			return kb << 10, err
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("no VmRSS in /proc status")
}

// Signal sends sig to the child.
func (p *nexusProc) Signal(sig syscall.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("signal %v: %v", sig, err)
	}
}

// Wait waits until the child exits (or ctx ends) and returns its exit code.
func (p *nexusProc) Wait(ctx context.Context) (int, error) {
	select {
	case <-p.done:
		return p.exitCode, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (w *tailBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b = append(w.b, p...)
	if over := len(w.b) - w.max; over > 0 {
		w.b = append(w.b[:0], w.b[over:]...)
	}
	return len(p), nil
}

// Lines returns the lines held that contain substr.
func (w *tailBuffer) Lines(substr string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, l := range bytes.Split(w.b, []byte("\n")) {
		if bytes.Contains(l, []byte(substr)) {
			out = append(out, string(l))
		}
	}
	return out
}

// Tail returns the last n lines, access-log lines left out.
func (w *tailBuffer) Tail(n int) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var lines [][]byte
	for _, l := range bytes.Split(bytes.TrimSpace(w.b), []byte("\n")) {
		if !bytes.Contains(l, []byte(`"msg":"http request"`)) {
			lines = append(lines, l)
		}
	}
	return string(bytes.Join(lines[max(0, len(lines)-n):], []byte("\n")))
}
