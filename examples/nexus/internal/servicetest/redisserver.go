package servicetest

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

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// StartRedisServer starts a private redis-server, killed when the test ends. Without the
// redis-server binary the test is skipped (or fails under HARDEN_REQUIRE_SERVICES=1).
func StartRedisServer(t testing.TB) *RedisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		skipOrFail(t, "redis-server binary", "PATH", err)
	}
	s := &RedisServer{t: t}
	t.Cleanup(s.Kill)
	// The port is chosen before the process binds it, so another process may take it in
	// between: then redis-server exits and the next port is tried.
	var err error
	for range 5 {
		if s.port, err = unusedPort(); err != nil {
			break
		}
		if err = s.Start(); !errors.Is(err, errExited) {
			break
		}
	}
	if err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	return s
}

// unusedPort is a loopback port no socket held a moment ago.
func unusedPort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Addr is the server's host:port.
func (s *RedisServer) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// URL is the server's redis:// URL.
func (s *RedisServer) URL() string { return "redis://" + s.Addr() + "/0" }

// Client is a new client of the server, closed when the test ends.
func (s *RedisServer) Client() *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: s.Addr()})
	s.t.Cleanup(func() { _ = c.Close() })
	return c
}

// errExited is returned by Start when the process ended before answering, which is what
// redis-server does when its port is taken.
var errExited = errors.New("redis-server exited")

// Start starts the process (again, after Kill) and waits until it answers PING — it, and
// not another server on the port: the answer's process id must be the child's.
func (s *RedisServer) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return fmt.Errorf("redis-server on %s is running", s.Addr())
	}
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--protected-mode", "no", "--loglevel", "warning")
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.cmd, s.done = cmd, done

	c := redis.NewClient(&redis.Options{Addr: s.Addr(), MaxRetries: -1})
	defer c.Close()
	want := "process_id:" + strconv.Itoa(cmd.Process.Pid) + "\r\n"
	for deadline := time.Now().Add(10 * time.Second); ; {
		select {
		case <-done:
			s.cmd, s.done = nil, nil
			return fmt.Errorf("%w on %s", errExited, s.Addr())
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		info, err := c.Info(ctx, "server").Result()
		cancel()
		if err == nil && strings.Contains(info, want) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redis-server on %s not ready: %v", s.Addr(), err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill stops the process with SIGKILL and waits for it; killing a stopped server does
// nothing.
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
