package redisstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/nexus-reussite/harden/ratelimit"
	"github.com/nexus-reussite/harden/ratelimit/redisstore"
)

// Example runs against the Redis server of HARDEN_REDIS_URL (default
// redis://127.0.0.1:6379/0), under a key prefix of its own that it deletes afterwards.
func Example() {
	url := os.Getenv("HARDEN_REDIS_URL")
	if url == "" {
		url = "redis://127.0.0.1:6379/0"
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		panic(err)
	}
	client := redis.NewClient(opt)
	defer client.Close()
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix := "harden:example:" + hex.EncodeToString(b[:]) + ":"

	store, err := redisstore.New(client, redisstore.Config{Prefix: prefix, Timeout: time.Second})
	if err != nil {
		panic(err)
	}
	lim, err := ratelimit.New(ratelimit.Config{Rule: ratelimit.MustParseRule("2 per minute;100 per day"), Store: store})
	if err != nil {
		panic(err)
	}
	h := lim.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for range 3 {
		r := httptest.NewRequest("GET", "/", nil)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(w.Code, w.Header().Get("X-RateLimit-Remaining"))
	}
	ctx := context.Background()
	var keys []string
	for it := client.Scan(ctx, 0, prefix+"*", 1000).Iterator(); it.Next(ctx); {
		keys = append(keys, it.Val())
	}
	fmt.Println(len(keys), "key for both windows")
	client.Del(ctx, keys...)
	// Output:
	// 200 1
	// 200 0
	// 429 0
	// 1 key for both windows
}
