package redischeck_test

import (
	"context"
	"fmt"
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
		Timeout: time.Second,
		Checks:  []health.Check{redischeck.Ping("redis", rdb)},
	})
	if err != nil {
		panic(err)
	}
	rep := h.Run(context.Background())
	fmt.Println(rep.Status, rep.Checks[0].ComponentType)
	// Output: fail datastore
}
