package stack

import (
	"bytes"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// replayConn is one keep-alive client connection held in memory: it hands the same
// request to the server n times, each only after the previous response was written (one
// request in flight, as wrk and the Go generator send them), then reads as closed. The
// server under test is a real http.Server: it parses each request, runs its per-request
// background read and aborts it with a past read deadline, clones and writes the response
// header and flushes one write per response, as on the wire; only the kernel and the
// client are missing.
type replayConn struct {
	mu       sync.Mutex
	wake     *sync.Cond
	req      []byte
	pending  []byte // the part of the current request not read yet
	left     int    // requests not handed out yet
	answered bool   // a response was written since the last request was handed out
	expired  bool   // the read deadline is in the past
	shut     bool
	refused  int           // responses whose status was not 200
	out      *bytes.Buffer // what the server wrote, when kept
	closed   chan struct{}
	once     sync.Once
}

// newReplayConn returns a connection that sends req n times; keep keeps the server's
// output (for tests; benchmarks drop it).
func newReplayConn(req []byte, n int, keep bool) *replayConn {
	c := &replayConn{req: req, left: n, answered: true, closed: make(chan struct{})}
	c.wake = sync.NewCond(&c.mu)
	if keep {
		c.out = new(bytes.Buffer)
	}
	return c
}

// Read hands out the next request once the previous one is answered, and io.EOF once
// every request is answered. A past read deadline ends a waiting Read with a timeout, as
// net/http relies on to stop its background read.
func (c *replayConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		switch {
		case c.shut:
			return 0, net.ErrClosed
		case len(c.pending) > 0:
			n := copy(p, c.pending)
			c.pending = c.pending[n:]
			return n, nil
		case c.expired:
			return 0, os.ErrDeadlineExceeded
		case c.answered && c.left == 0:
			return 0, io.EOF
		case c.answered:
			c.pending, c.answered = c.req, false
			c.left--
			continue
		}
		c.wake.Wait()
	}
}

// Write takes a response (net/http flushes once per response), counts it as refused
// unless its status is 200, and lets the next request through.
func (c *replayConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.shut {
		return 0, net.ErrClosed
	}
	if bytes.HasPrefix(p, []byte("HTTP/1.1 ")) && !bytes.HasPrefix(p, []byte("HTTP/1.1 200 ")) {
		c.refused++
	}
	if c.out != nil {
		c.out.Write(p)
	}
	c.answered = true
	c.wake.Broadcast()
	return len(p), nil
}

// Close ends the connection and reports it on closed.
func (c *replayConn) Close() error {
	c.mu.Lock()
	c.shut = true
	c.wake.Broadcast()
	c.mu.Unlock()
	c.once.Do(func() { close(c.closed) })
	return nil
}

// SetReadDeadline only tells a past deadline from none: the server under test sets no
// timeouts, and net/http uses a past deadline to stop its background read.
func (c *replayConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.expired = !t.IsZero() && !t.After(time.Now())
	c.wake.Broadcast()
	c.mu.Unlock()
	return nil
}

func (c *replayConn) SetDeadline(t time.Time) error    { return c.SetReadDeadline(t) }
func (c *replayConn) SetWriteDeadline(time.Time) error { return nil }

// The client stands behind the stacks' trusted loopback proxy.
func (c *replayConn) LocalAddr() net.Addr  { return loopback(8080) }
func (c *replayConn) RemoteAddr() net.Addr { return loopback(40000) }

func loopback(port int) net.Addr { return &net.TCPAddr{IP: net.ParseIP(LoopbackProxy), Port: port} }

// replayListener hands the connections sent on conns to an http.Server.
type replayListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newReplayListener() *replayListener {
	return &replayListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *replayListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *replayListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *replayListener) Addr() net.Addr { return loopback(8080) }

// serve sends n requests on a new connection and waits until the server closed it.
func (l *replayListener) serve(req []byte, n int, keep bool) *replayConn {
	c := newReplayConn(req, n, keep)
	l.conns <- c
	<-c.closed
	return c
}
