package redischeck_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nexus-reussite/harden/health"
	"github.com/nexus-reussite/harden/health/redischeck"
	"github.com/nexus-reussite/harden/internal/testenv"
	"github.com/redis/go-redis/v9"
)

func TestPingSharedServer(t *testing.T) {
	c, _ := testenv.Redis(t)
	h, err := health.New(health.Config{
		Checks:    []health.Check{redischeck.Ping("redis", c)},
		Authorize: func(*http.Request) bool { return true },
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Diagnose(context.Background(), io.Discard); err != nil {
		t.Fatal(err)
	}
	h.Start(t.Context())
	w := httptest.NewRecorder()
	h.HealthHandler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/health", nil))
	if body := w.Body.String(); w.Code != 200 || !strings.Contains(body, `"redis":[{"componentType":"datastore","status":"pass"`) {
		t.Fatalf("%d %s", w.Code, body)
	}
}

// The check follows a private redis-server being killed and started again.
func TestPingServerKilledAndRestarted(t *testing.T) {
	srv := testenv.StartRedisServer(t)
	c := srv.Client()
	var flips []string
	h, err := health.New(health.Config{
		Timeout: time.Second,
		Checks:  []health.Check{redischeck.Ping("redis", c)},
		OnStatusChange: func(ch health.Change) {
			flips = append(flips, string(ch.From)+">"+string(ch.To))
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := h.Diagnose(ctx, io.Discard); err != nil {
		t.Fatalf("server up: %v", err)
	}
	srv.Kill()
	start := time.Now()
	if err := h.Diagnose(ctx, io.Discard); !errors.Is(err, health.ErrFailed) {
		t.Fatalf("server killed: %v", err)
	}
	if d := time.Since(start); d > 1500*time.Millisecond {
		t.Errorf("check ran %v past its 1s timeout", d)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	if err := h.Diagnose(ctx, io.Discard); err != nil {
		t.Fatalf("server restarted: %v", err)
	}
	if got := strings.Join(flips, " "); got != ">pass pass>fail fail>pass" {
		t.Errorf("status changes %q", got)
	}
}

// A cluster client pings every master; with none reachable the check fails.
func TestPingClusterUnreachable(t *testing.T) {
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}, MaxRetries: -1})
	defer c.Close()
	h, err := health.New(health.Config{Timeout: time.Second, Checks: []health.Check{redischeck.Ping("redis", c)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Diagnose(context.Background(), io.Discard); !errors.Is(err, health.ErrFailed) {
		t.Fatalf("Diagnose = %v", err)
	}
}

func TestPingNilClientRejected(t *testing.T) {
	var client *redis.Client
	var cluster *redis.ClusterClient
	var ring *redis.Ring
	for name, c := range map[string]redis.UniversalClient{"nil": nil, "nil *Client": client, "nil *ClusterClient": cluster, "nil *Ring": ring} {
		if _, err := health.New(health.Config{Checks: []health.Check{redischeck.Ping("redis", c)}}); !errors.Is(err, health.ErrInvalidConfig) {
			t.Errorf("%s: New = %v, want ErrInvalidConfig", name, err)
		}
	}
}
