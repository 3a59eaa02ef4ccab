package servicetest

import (
	"errors"
	"net"
	"strconv"
	"syscall"
	"testing"
	"time"
)

func TestRefusingPort(t *testing.T) {
	port := RefusingPort(t)
	_, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial: %v, want connection refused", err)
	}
	if ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
		ln.Close()
		t.Fatal("another socket could take the port")
	}
}

// TestRedisServerThroughProxy: a private redis-server answers, through a proxy too;
// killing it or cutting the proxy makes it unreachable, and both come back.
func TestRedisServerThroughProxy(t *testing.T) {
	s := StartRedisServer(t)
	c := s.Client()
	if err := c.Set(t.Context(), "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	s.Kill()
	if err := c.Ping(t.Context()).Err(); err == nil {
		t.Fatal("killed server answers")
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Exists(t.Context(), "k").Result(); err != nil || n != 0 {
		t.Fatalf("restarted server: exists %d, %v; want an empty server", n, err)
	}

	p := StartProxy(t, s.Addr())
	conn, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ping := func(c net.Conn) error {
		_ = c.SetDeadline(time.Now().Add(2 * time.Second))
		if _, err := c.Write([]byte("PING\r\n")); err != nil {
			return err
		}
		buf := make([]byte, 7)
		_, err := c.Read(buf)
		if err == nil && string(buf) != "+PONG\r\n" {
			err = errors.New("answer " + strconv.Quote(string(buf)))
		}
		return err
	}
	if err := ping(conn); err != nil {
		t.Fatalf("through the proxy: %v", err)
	}
	p.Cut()
	if err := ping(conn); err == nil {
		t.Fatal("a cut connection still answers")
	}
	if c2, err := net.Dial("tcp", p.Addr()); err == nil {
		if ping(c2) == nil {
			t.Fatal("a new connection answers while cut")
		}
		c2.Close()
	}
	p.Restore()
	c3, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c3.Close()
	if err := ping(c3); err != nil {
		t.Fatalf("after restore: %v", err)
	}
}

// TestRedisServerPortTaken: a server whose port another redis-server holds reports that
// it exited, rather than taking the other server's answers for its own.
func TestRedisServerPortTaken(t *testing.T) {
	first := StartRedisServer(t)
	second := &RedisServer{t: t, port: first.port}
	t.Cleanup(second.Kill)
	if err := second.Start(); !errors.Is(err, errExited) {
		t.Fatalf("start on a taken port: %v", err)
	}
	if err := first.Client().Ping(t.Context()).Err(); err != nil {
		t.Fatal(err)
	}
}
