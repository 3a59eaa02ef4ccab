package rediscache_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/nexus-reussite/harden/cache"
	"github.com/nexus-reussite/harden/cache/rediscache"
	"github.com/redis/go-redis/v9"
)

// Two instances of a service share Redis: an update on one is seen by the other, whose
// local copy is dropped by the invalidation message. (Needs the Redis server of
// HARDEN_REDIS_URL, default redis://127.0.0.1:6379/0.)
func ExampleTwoLevel() {
	url := os.Getenv("HARDEN_REDIS_URL")
	if url == "" {
		url = "redis://127.0.0.1:6379/0"
	}
	opt, _ := redis.ParseURL(url)
	client := redis.NewClient(opt)
	defer client.Close()
	ctx := context.Background()
	ns := fmt.Sprintf("example:%d:", time.Now().UnixNano())
	defer client.Del(ctx, ns+"k:greeting")

	instance := func() *cache.Cache {
		store, _ := rediscache.NewTwoLevel(client, rediscache.Config{Channel: ns + "invalidate"})
		_ = store.WaitSubscribed(ctx)
		c, _ := cache.New(store, cache.Config{Namespace: ns})
		return c
	}
	a, b := instance(), instance()

	_ = a.Set(ctx, "greeting", "bonjour", cache.Short)
	var v string
	_, _ = b.Get(ctx, "greeting", &v) // now in B's local level too
	fmt.Println("B:", v)

	_ = a.Set(ctx, "greeting", "salam", cache.Short)
	for deadline := time.Now().Add(time.Second); v != "salam" && time.Now().Before(deadline); {
		_, _ = b.Get(ctx, "greeting", &v)
	}
	fmt.Println("B:", v)
	// Output:
	// B: bonjour
	// B: salam
}
