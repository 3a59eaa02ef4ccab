package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisServer is a redis-server process owned by one test, on a loopback port that stays
// the same across Kill and Start. It keeps nothing on disk.
type RedisServer struct {
	t    testing.TB
	port int
	args []string
	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// StartRedisServer starts a private redis-server, with args appended to its command line
// (for example "--cluster-enabled", "yes"). When the binary is missing the test is
// skipped (or fails under HARDEN_REQUIRE_SERVICES=1). The process is killed at cleanup.
//
// The port is chosen before redis-server binds it, so another process may take it in
// between; redis-server then exits, and StartRedisServer tries another port.
func StartRedisServer(t testing.TB, args ...string) *RedisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		Unavailable(t, "redis-server binary", "PATH", err)
	}
	s := &RedisServer{t: t, args: args}
	t.Cleanup(s.Kill)
	var err error
	for range 5 {
		s.port = freePort(t)
		if err = s.Start(); !errors.Is(err, errExited) {
			break
		}
	}
	if err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	return s
}

// Addr is host:port of the server.
func (s *RedisServer) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// URL is the redis:// URL of the server.
func (s *RedisServer) URL() string { return "redis://" + s.Addr() + "/0" }

// Client returns a new client of the server, closed at cleanup.
func (s *RedisServer) Client() *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: s.Addr()})
	s.t.Cleanup(func() { _ = c.Close() })
	return c
}

// errExited is returned by Start when the process ended before answering, which is what
// redis-server does when its port is taken.
var errExited = errors.New("redis-server exited")

// Start starts the process (again) and waits until it answers PING — it, and not another
// server that took the port: INFO must give the child's process id.
func (s *RedisServer) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return fmt.Errorf("redis-server on %s already running", s.Addr())
	}
	cmd := exec.Command("redis-server", append([]string{"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--protected-mode", "no", "--loglevel", "warning"}, s.args...)...)
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.cmd, s.done = cmd, done
	c := redis.NewClient(&redis.Options{Addr: s.Addr(), MaxRetries: -1})
	defer c.Close()
	own := "process_id:" + strconv.Itoa(cmd.Process.Pid) + "\r\n"
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-done:
			s.cmd, s.done = nil, nil
			return fmt.Errorf("%w on %s", errExited, s.Addr())
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		info, err := c.Info(ctx, "server").Result()
		cancel()
		if err == nil && strings.Contains(info, own) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redis-server on %s not ready: %v", s.Addr(), err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill sends SIGKILL and waits for the process to exit. Killing a stopped server is a no-op.
func (s *RedisServer) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.done
	s.cmd, s.done = nil, nil
}

// Restart kills the server and starts it again on the same port (with an empty dataset).
func (s *RedisServer) Restart() error {
	s.Kill()
	return s.Start()
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago. Nothing holds it
// once it is returned: another process, or an outgoing connection given it as its
// ephemeral port, may take it before redis-server binds it, which StartRedisServer
// notices (the process exits) and retries on another port.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
