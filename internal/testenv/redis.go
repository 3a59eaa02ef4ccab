package testenv

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisURL returns the shared Redis server's URL.
func RedisURL() string { return envOr(EnvRedisURL, DefaultRedisURL) }

// Redis returns a client of the shared Redis server and a key prefix of the test's own
// ("harden:test:<random>:"). Keys under the prefix are deleted when the test ends; nothing
// else on the server is touched.
func Redis(t testing.TB) (*redis.Client, string) {
	t.Helper()
	opt, err := redis.ParseURL(RedisURL())
	if err != nil {
		t.Fatalf("%s: %v", EnvRedisURL, err)
	}
	c := redis.NewClient(opt)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		Unavailable(t, "redis at "+opt.Addr, EnvRedisURL, err)
	}
	prefix := RandomName("harden:test:") + ":"
	t.Cleanup(func() {
		DeletePrefix(context.Background(), c, prefix)
		_ = c.Close()
	})
	return c, prefix
}

// DeletePrefix removes every key that starts with prefix, using SCAN (never KEYS).
func DeletePrefix(ctx context.Context, c redis.UniversalClient, prefix string) {
	iter := c.Scan(ctx, 0, prefix+"*", 500).Iterator()
	var batch []string
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == 500 {
			c.Del(ctx, batch...)
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		c.Del(ctx, batch...)
	}
}
