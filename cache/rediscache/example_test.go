package rediscache_test

import (
	"context"
	"fmt"

	"github.com/nexus-reussite/harden/cache"
	"github.com/nexus-reussite/harden/cache/rediscache"
	"github.com/redis/go-redis/v9"
)

// A service's cache on Redis, with an in-process level in front. A service reads its
// Redis address from its configuration (redis.ParseURL of REDIS_URL, say). The output is
// the same whether or not Redis answers: TwoLevel reads its own writes from its local
// level, and a failing Redis makes it serve from there rather than fail.
func ExampleTwoLevel() {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer client.Close()
	store, err := rediscache.NewTwoLevel(client, rediscache.Config{Prefix: "example:"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer store.Close()
	c, _ := cache.New(store, cache.Config{})
	defer c.Close()

	ctx := context.Background()
	_ = c.Set(ctx, "greeting", "bonjour", cache.Short)
	var v string
	found, _ := c.Get(ctx, "greeting", &v)
	fmt.Println(found, v)
	_ = c.Delete(ctx, "greeting")
	// Output: true bonjour
}

// Without a prefix, New refuses the configuration: the prefix is what keeps two services
// on one Redis apart.
func ExampleNewTwoLevel_prefixRequired() {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer client.Close()
	_, err := rediscache.NewTwoLevel(client, rediscache.Config{})
	fmt.Println(err != nil)
	// Output: true
}
