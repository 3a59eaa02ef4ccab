package redischeck_test

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/nexus-reussite/harden/health"
	"github.com/nexus-reussite/harden/health/redischeck"
	"github.com/redis/go-redis/v9"
)

func ExamplePing() {
	// Nothing listens on port 1: the check fails within its timeout.
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	defer rdb.Close()
	h, err := health.New(health.Config{
		Timeout:        time.Second,
		Checks:         []health.Check{redischeck.Ping("redis", rdb)},
		OnStatusChange: func(c health.Change) { fmt.Println(c.Check, c.To) },
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(h.Diagnose(context.Background(), io.Discard))
	// Output:
	// redis fail
	// health: failed: redis
}
