package health

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"
)

// Shutdown flips /ready to 503 at once, keeps serving for the delay, then stops.
func TestShutdownDrainsBeforeStopping(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := mustNew(t, Config{Checks: []Check{{Name: "db", Func: pass}}})
		h.Start(t.Context())
		if code := probe(h.ReadyHandler(), "/ready").Code; code != 200 {
			t.Fatalf("before shutdown: %d", code)
		}
		type stopped struct {
			at    time.Time
			ready int
		}
		stops := make(chan stopped, 1)
		stop := func(context.Context) error {
			stops <- stopped{time.Now(), probe(h.ReadyHandler(), "/ready").Code}
			return errors.New("stop result")
		}
		begin := time.Now()
		result := make(chan error)
		go func() { result <- h.Shutdown(context.Background(), 15*time.Second, stop) }()
		synctest.Wait()
		if !h.Draining() {
			t.Fatal("not draining right after Shutdown began")
		}
		if code := probe(h.ReadyHandler(), "/ready").Code; code != 503 {
			t.Errorf("/ready during the delay: %d", code)
		}
		if code := probe(h.LiveHandler(), "/live").Code; code != 200 {
			t.Errorf("/live during the delay: %d", code)
		}
		time.Sleep(15*time.Second - time.Nanosecond)
		synctest.Wait()
		select {
		case <-stops:
			t.Fatal("stopped before the delay ended")
		default:
		}
		if err := <-result; err == nil || err.Error() != "stop result" {
			t.Errorf("Shutdown returned %v, want stop's error", err)
		}
		st := <-stops
		if d := st.at.Sub(begin); d != 15*time.Second {
			t.Errorf("stopped after %v, want 15s", d)
		}
		if st.ready != 503 {
			t.Errorf("/ready when stop ran: %d", st.ready)
		}
	})
}

// A context ending during the delay stops at once.
func TestShutdownContextCutsDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := mustNew(t, Config{})
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		begin := time.Now()
		var stopCtxErr error
		err := h.Shutdown(ctx, time.Minute, func(ctx context.Context) error { stopCtxErr = ctx.Err(); return nil })
		if err != nil || time.Since(begin) != 2*time.Second || !errors.Is(stopCtxErr, context.DeadlineExceeded) {
			t.Errorf("err %v after %v, stop saw %v", err, time.Since(begin), stopCtxErr)
		}
		h.Drain() // idempotent
		if !h.Draining() {
			t.Error("Drain undone")
		}
	})
}

// With a real server: after Drain, /ready is 503 while every other route keeps serving;
// Shutdown then closes the listener and lets the in-flight request finish.
func TestDrainRealServer(t *testing.T) {
	h := mustNew(t, Config{Checks: []Check{{Name: "db", Func: pass}}})
	entered, release := make(chan struct{}), make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		_, _ = io.WriteString(w, "finished")
	})
	mux.HandleFunc("GET /fast", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") })
	srv := httptest.NewUnstartedServer(h.Handler(mux))
	shutdownBegan := make(chan struct{})
	srv.Config.RegisterOnShutdown(func() { close(shutdownBegan) })
	srv.Start()
	defer srv.Close()
	client := srv.Client()
	get := func(path string) (int, string, error) {
		resp, err := client.Get(srv.URL + path)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), err
	}
	mustGet := func(path string, want int) {
		t.Helper()
		code, body, err := get(path)
		if err != nil || code != want {
			t.Fatalf("GET %s: %d %q %v, want %d", path, code, body, err, want)
		}
	}

	mustGet("/ready", 503) // not started
	h.Start(t.Context())
	mustGet("/ready", 200)

	type outcome struct {
		code int
		body string
		err  error
	}
	slow := make(chan outcome)
	go func() {
		code, body, err := get("/slow")
		slow <- outcome{code, body, err}
	}()
	<-entered

	h.Drain()
	mustGet("/ready", 503)
	mustGet("/health", 503)
	mustGet("/live", 200)
	mustGet("/fast", 200)

	stopped := make(chan error)
	go func() { stopped <- h.Shutdown(context.Background(), 0, srv.Config.Shutdown) }()
	<-shutdownBegan
	if _, _, err := get("/fast"); err == nil {
		t.Error("listener still accepts after Shutdown began")
	}
	select {
	case err := <-stopped:
		t.Fatalf("Shutdown returned (%v) with a request in flight", err)
	default:
	}
	close(release)
	if o := <-slow; o.err != nil || o.code != 200 || o.body != "finished" {
		t.Errorf("in-flight request: %+v", o)
	}
	if err := <-stopped; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}
