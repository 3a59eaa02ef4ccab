package redisstore_test

import (
	"log"
	"net/http"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/nexus-reussite/harden/ratelimit"
	"github.com/nexus-reussite/harden/ratelimit/redisstore"
)

// Example enforces one limit across every instance of an application: each instance
// builds the same store and limiter, and the counts live in Redis under the
// application's prefix. It needs a Redis server, so go test compiles it without running
// it; TestLimitSharedThroughRedis runs the same flow.
func Example() {
	opt, err := redis.ParseURL(os.Getenv("REDIS_URL")) // e.g. redis://127.0.0.1:6379/0
	if err != nil {
		log.Fatal(err)
	}
	store, err := redisstore.New(redis.NewClient(opt), redisstore.Config{
		Prefix:  "myapp:ratelimit:", // required: services on one Redis never share counts
		Timeout: 100 * time.Millisecond,
	})
	if err != nil {
		log.Fatal(err)
	}
	lim, err := ratelimit.New(ratelimit.Config{
		Rule:  ratelimit.MustParseRule("2 per minute;100 per day"),
		Store: store,
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/hello", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("hello")) })
	log.Fatal(http.ListenAndServe(":8080", lim.Handler(mux)))
}
