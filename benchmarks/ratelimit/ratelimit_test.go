// Package ratelimitbench compares package ratelimit with the limiters a Go user would
// pick instead: go-limiter's and ulule/limiter's memory stores for a single window (harden
// through its middleware, whose default store is private to it), and go-redis/redis_rate
// for Redis. Run:
//
//	go test -run '^$' -bench . -benchtime=200ms ./ratelimit/
//
// Ratios are harden's ns/op divided by the peer's, from one run. (testing.Benchmark
// cannot run inside a benchmark, so they are not computed here.)
package ratelimitbench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
	"github.com/sethvargo/go-limiter"
	"github.com/sethvargo/go-limiter/memorystore"
	ulule "github.com/ulule/limiter/v3"
	ululemem "github.com/ulule/limiter/v3/drivers/store/memory"

	"github.com/nexus-reussite/harden/internal/testenv"
	"github.com/nexus-reussite/harden/ratelimit"
	"github.com/nexus-reussite/harden/ratelimit/redisstore"
	"github.com/nexus-reussite/harden/ratelimit/store"
)

const numKeys = 10_000

var keys = func() []string {
	k := make([]string, numKeys)
	for i := range k {
		k[i] = "ip:10.0." + strconv.Itoa(i/256) + "." + strconv.Itoa(i%256)
	}
	return k
}()

// perSecond is the single window of every peer and the tightest of threeWindows: high
// enough that the benchmarks measure admissions, low enough for go-limiter, whose
// refill after the first interval is interval/tokens tokens.
const perSecond = 30_000

var threeWindows = ratelimit.MustParseRule("100000000 per day;10000000 per hour;30000 per second")

// parallel runs take over the 10k keys from every goroutine, each starting elsewhere;
// take is given the index of the key in keys.
func parallel(b *testing.B, take func(ctx context.Context, i int) bool) {
	b.Helper()
	var start atomic.Int64
	var rejected atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		i := int(start.Add(7919)) % numKeys
		for pb.Next() {
			if !take(ctx, i) {
				rejected.Add(1)
			}
			if i++; i == numKeys {
				i = 0
			}
		}
	})
	b.ReportMetric(float64(rejected.Load())/float64(b.N), "rejected/op")
}

// byKey adapts a take function of a key string to parallel.
func byKey(take func(ctx context.Context, key string) bool) func(context.Context, int) bool {
	return func(ctx context.Context, i int) bool { return take(ctx, keys[i]) }
}

// hardenMemory is the rate-limit middleware on its default memory store with the three
// windows of threeWindows, one client address per key: the request's key is built from
// its address, counted and admitted or refused with a 429, with no response headers.
// It costs what the peers' store calls cost plus the middleware's own work.
func hardenMemory(b *testing.B, sliding bool) func(context.Context, int) bool {
	lim, err := ratelimit.New(ratelimit.Config{
		Rule: threeWindows, SlidingWindow: sliding, Headers: ratelimit.HeadersNone,
		DenyHandler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTooManyRequests) }),
	})
	if err != nil {
		b.Fatal(err)
	}
	h := lim.Handler(noContent)
	reqs := make([]*http.Request, numKeys)
	for i := range reqs {
		reqs[i] = httptest.NewRequest(http.MethodGet, "http://api.example.com/api/formulas", nil)
		reqs[i].RemoteAddr = "10.0." + strconv.Itoa(i/256) + "." + strconv.Itoa(i%256) + ":40000"
	}
	return func(_ context.Context, i int) bool {
		var w statusOnly
		h.ServeHTTP(&w, reqs[i])
		return w.status == http.StatusNoContent
	}
}

// statusOnly is a ResponseWriter that keeps the status; the middleware under test sets
// no headers on the responses it lets through.
type statusOnly struct{ status int }

func (*statusOnly) Header() http.Header         { return http.Header{} }
func (*statusOnly) Write(p []byte) (int, error) { return len(p), nil }
func (w *statusOnly) WriteHeader(code int)      { w.status = code }

func goLimiterMemory(b *testing.B) func(context.Context, string) bool {
	s, err := memorystore.New(&memorystore.Config{Tokens: perSecond, Interval: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close(context.Background()) })
	return func(ctx context.Context, key string) bool {
		_, _, _, ok, err := s.Take(ctx, key)
		if err != nil {
			b.Error(err)
		}
		return ok
	}
}

// goLimiterMemory3 enforces the three windows of threeWindows with one go-limiter store
// each, as a user of it would; windows after a rejecting one are not taken.
func goLimiterMemory3(b *testing.B) func(context.Context, string) bool {
	var stores []limiter.Store
	for _, l := range threeWindows {
		tokens := l.Count
		if l.Period == time.Second {
			tokens = perSecond
		}
		s, err := memorystore.New(&memorystore.Config{Tokens: tokens, Interval: l.Period})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = s.Close(context.Background()) })
		stores = append(stores, s)
	}
	return func(ctx context.Context, key string) bool {
		for _, s := range stores {
			_, _, _, ok, err := s.Take(ctx, key)
			if err != nil {
				b.Error(err)
			}
			if !ok {
				return false
			}
		}
		return true
	}
}

func ululeMemory(b *testing.B) func(context.Context, string) bool {
	l := ulule.New(ululemem.NewStore(), ulule.Rate{Period: time.Second, Limit: perSecond})
	return func(ctx context.Context, key string) bool {
		c, err := l.Get(ctx, key)
		if err != nil {
			b.Error(err)
		}
		return !c.Reached
	}
}

func BenchmarkMemory(b *testing.B) {
	b.Run("harden-middleware-fixed-3windows", func(b *testing.B) { parallel(b, hardenMemory(b, false)) })
	b.Run("harden-middleware-sliding-3windows", func(b *testing.B) { parallel(b, hardenMemory(b, true)) })
	b.Run("golimiter-1window", func(b *testing.B) { parallel(b, byKey(goLimiterMemory(b))) })
	b.Run("golimiter-3windows", func(b *testing.B) { parallel(b, byKey(goLimiterMemory3(b))) })
	b.Run("ulule-1window", func(b *testing.B) { parallel(b, byKey(ululeMemory(b))) })
}

// redisClient starts a private redis-server, so other traffic on a shared server does
// not skew the comparison. Both sides use the same client options; context timeouts
// are on, as harden's redisstore recommends.
func redisClient(b *testing.B) *redis.Client {
	srv := testenv.StartRedisServer(b)
	c := redis.NewClient(&redis.Options{Addr: srv.Addr(), ContextTimeoutEnabled: true, PoolSize: 64})
	b.Cleanup(func() { _ = c.Close() })
	return c
}

func hardenRedis(b *testing.B, c *redis.Client) func(context.Context, string) bool {
	s, err := redisstore.New(c, redisstore.Config{Prefix: "bench:", Timeout: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	return func(ctx context.Context, key string) bool {
		d, err := s.Take(ctx, key, threeWindows, store.FixedWindow, 1)
		if err != nil {
			b.Error(err)
		}
		return d.Allowed
	}
}

// redisRate enforces limits with redis_rate, one call (and round trip) per limit, as a
// user of it would for a multi-window rule; limits after a rejecting one are not asked.
func redisRate(b *testing.B, c *redis.Client, limits ...redis_rate.Limit) func(context.Context, string) bool {
	l := redis_rate.NewLimiter(c)
	return func(ctx context.Context, key string) bool {
		for _, limit := range limits {
			r, err := l.Allow(ctx, key, limit)
			if err != nil {
				b.Error(err)
				return false
			}
			if r.Allowed == 0 {
				return false
			}
		}
		return true
	}
}

var (
	rateOne   = []redis_rate.Limit{redis_rate.PerSecond(perSecond)}
	rateThree = []redis_rate.Limit{
		{Rate: 100_000_000, Burst: 100_000_000, Period: 24 * time.Hour},
		{Rate: 10_000_000, Burst: 10_000_000, Period: time.Hour},
		redis_rate.PerSecond(perSecond),
	}
)

// The Redis benchmarks keep 16 requests in flight per CPU, as a server would.
func redisParallel(b *testing.B, take func(context.Context, string) bool) {
	b.SetParallelism(16)
	parallel(b, byKey(take))
}

func BenchmarkRedis(b *testing.B) {
	c := redisClient(b)
	b.Run("harden-3windows", func(b *testing.B) { redisParallel(b, hardenRedis(b, c)) })
	b.Run("redis_rate-1limit", func(b *testing.B) { redisParallel(b, redisRate(b, c, rateOne...)) })
	b.Run("redis_rate-3limits", func(b *testing.B) { redisParallel(b, redisRate(b, c, rateThree...)) })
}
