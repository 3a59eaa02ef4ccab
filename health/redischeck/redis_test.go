package redischeck_test

import (
	"context"
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
	h, err := health.New(health.Config{Checks: []health.Check{redischeck.Ping("redis", c)}})
	if err != nil {
		t.Fatal(err)
	}
	rep := h.Run(context.Background())
	if rep.Status != health.StatusPass || rep.Checks[0].ComponentType != "datastore" {
		t.Fatalf("%+v", rep.Checks)
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
	if rep := h.Run(ctx); rep.Status != health.StatusPass {
		t.Fatalf("server up: %+v", rep.Checks)
	}
	srv.Kill()
	rep := h.Run(ctx)
	if rep.Status != health.StatusFail || rep.Checks[0].Err == nil {
		t.Fatalf("server killed: %+v", rep.Checks)
	}
	if d := rep.Checks[0].Duration; d > 1500*time.Millisecond {
		t.Errorf("check ran %v past its 1s timeout", d)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	if rep := h.Run(ctx); rep.Status != health.StatusPass {
		t.Fatalf("server restarted: %+v", rep.Checks)
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
	if rep := h.Run(context.Background()); rep.Status != health.StatusFail {
		t.Fatalf("%+v", rep.Checks)
	}
}

func TestPingNilClientRejected(t *testing.T) {
	var client *redis.Client
	var cluster *redis.ClusterClient
	for name, c := range map[string]redis.UniversalClient{"nil": nil, "nil *Client": client, "nil *ClusterClient": cluster} {
		if _, err := health.New(health.Config{Checks: []health.Check{redischeck.Ping("redis", c)}}); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}
