package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nexus-reussite/harden/benchmarks/stack"
)

// serveStack is the child side: it serves the stack on one loopback listener and its
// runtime figures on another, prints both addresses and serves until stdin closes.
func serveStack(name string, size int, profileDir string) error {
	h, err := stack.Build(name, stack.Payload(size), stack.Options{})
	if err != nil {
		return err
	}
	app, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	ctl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(app) }()
	go func() {
		_ = http.Serve(ctl, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			var ru syscall.Rusage
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
			cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
			_ = json.NewEncoder(w).Encode(childStats{Mallocs: ms.Mallocs, CPU: cpu})
		}))
	}()
	if profileDir != "" {
		f, err := os.Create(filepath.Join(profileDir, name+".pprof"))
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	fmt.Printf("%s %s\n", app.Addr(), ctl.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin)
	return nil
}

// childStats are the child's running totals: heap allocations and CPU time (user and
// system) spent by the process.
type childStats struct {
	Mallocs uint64        `json:"mallocs"`
	CPU     time.Duration `json:"cpu"`
}

// child is the parent's handle on a running stack process.
type child struct {
	cmd      *exec.Cmd
	stdin    io.WriteCloser
	app, ctl string
}

// The CPUs of -pin.
const serverCPU, generatorCPU = "0", "1"

// pinned returns the command that runs name with args, on cpu alone when pin is set
// (taskset execs it, so the process is the command's own).
func pinned(pin bool, cpu, name string, args ...string) *exec.Cmd {
	if pin {
		return exec.Command("taskset", append([]string{"-c", cpu, name}, args...)...)
	}
	return exec.Command(name, args...)
}

func startChild(name string, size int, profileDir string, pin bool) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	args := []string{"-serve", name, "-size", strconv.Itoa(size)}
	if profileDir != "" {
		args = append(args, "-cpuprofile", profileDir)
	}
	cmd := pinned(pin, serverCPU, exe, args...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		return nil, fmt.Errorf("stack %s did not start: %w", name, err)
	}
	addrs := strings.Fields(line)
	if len(addrs) != 2 {
		_ = cmd.Process.Kill()
		return nil, fmt.Errorf("stack %s printed %q", name, line)
	}
	return &child{cmd: cmd, stdin: stdin, app: addrs[0], ctl: addrs[1]}, nil
}

func (c *child) stats() (childStats, error) {
	var s childStats
	resp, err := http.Get("http://" + c.ctl + "/")
	if err != nil {
		return s, err
	}
	defer resp.Body.Close()
	err = json.NewDecoder(resp.Body).Decode(&s)
	return s, err
}

// peakRSS reads VmHWM (peak resident set) of the child in bytes.
func (c *child) peakRSS() (int64, error) {
	v, err := procStatus(c.cmd.Process.Pid, "VmHWM")
	if err != nil {
		return 0, err
	}
	kb, err := strconv.ParseInt(strings.TrimSuffix(v, " kB"), 10, 64)
	return kb * 1024, err
}

// procStatus returns the value of field key in /proc/<pid>/status, spaces trimmed.
func procStatus(pid int, key string) (string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			return strings.TrimSpace(v), nil
		}
	}
	return "", fmt.Errorf("%s not found in /proc/%d/status", key, pid)
}

func (c *child) stop() {
	_ = c.stdin.Close()
	done := make(chan struct{})
	go func() { _ = c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = c.cmd.Process.Kill()
		<-done
	}
}
