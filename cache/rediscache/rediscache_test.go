package rediscache_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nexus-reussite/harden/cache"
	"github.com/nexus-reussite/harden/cache/rediscache"
	"github.com/nexus-reussite/harden/cache/storetest"
	"github.com/nexus-reussite/harden/internal/testenv"
	"github.com/redis/go-redis/v9"
)

func TestStoreConformance(t *testing.T) {
	client, prefix := testenv.Redis(t)
	storetest.Run(t, func(t *testing.T) cache.Store {
		s, err := rediscache.NewStore(client, rediscache.StoreConfig{Prefix: prefix + t.Name() + ":"})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestTwoLevelConformance(t *testing.T) {
	client, prefix := testenv.Redis(t)
	storetest.Run(t, func(t *testing.T) cache.Store {
		return newTwoLevel(t, client, prefix+t.Name()+":", rediscache.Config{})
	})
}

// newTwoLevel starts a TwoLevel under prefix (and so on its own channel) and waits until
// it listens.
func newTwoLevel(t *testing.T, client redis.UniversalClient, prefix string, cfg rediscache.Config) *rediscache.TwoLevel {
	t.Helper()
	cfg.Prefix = prefix
	tl, err := rediscache.NewTwoLevel(client, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tl.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := tl.WaitSubscribed(ctx); err != nil {
		t.Fatalf("subscription: %v", err)
	}
	return tl
}

func newCache(t *testing.T, s cache.Store) *cache.Cache {
	t.Helper()
	c, err := cache.New(s, cache.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// eventually polls cond for up to d.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func getString(c *cache.Cache, key string) (string, bool) {
	var v string
	ok, _ := c.Get(context.Background(), key, &v)
	return v, ok
}

func TestStoreTTLAndRounding(t *testing.T) {
	client, prefix := testenv.Redis(t)
	s, _ := rediscache.NewStore(client, rediscache.StoreConfig{Prefix: prefix})
	ctx := context.Background()
	if err := s.Set(ctx, "k", []byte("v"), 1500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	pttl := client.PTTL(ctx, prefix+"k").Val()
	if pttl <= time.Second || pttl > 1500*time.Millisecond {
		t.Fatalf("PTTL = %v, want just under 1.5s (milliseconds kept)", pttl)
	}
	_, ttl, ok, err := s.GetWithTTL(ctx, "k")
	if err != nil || !ok || ttl <= time.Second || ttl > 1500*time.Millisecond {
		t.Fatalf("GetWithTTL ttl=%v ok=%v err=%v", ttl, ok, err)
	}
	if err := s.Set(ctx, "tiny", []byte("v"), time.Microsecond); err != nil {
		t.Fatal(err)
	}
	if err := s.Set(ctx, "forever", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	if got := client.TTL(ctx, prefix+"forever").Val(); got != -1 {
		t.Fatalf("TTL of a no-expiry entry = %v", got)
	}
	if _, ttl, ok, _ := s.GetWithTTL(ctx, "forever"); !ok || ttl != 0 {
		t.Fatalf("GetWithTTL(forever) = %v, %v", ttl, ok)
	}
}

func TestStoreUnavailable(t *testing.T) {
	srv := testenv.StartRedisServer(t)
	client := srv.Client()
	s, _ := rediscache.NewStore(client, rediscache.StoreConfig{Prefix: "app:"})
	srv.Kill()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, _, err := s.Get(ctx, "k"); !errors.Is(err, rediscache.ErrUnavailable) {
		t.Fatalf("Get with redis down: %v", err)
	}
	if err := s.Set(ctx, "k", nil, time.Second); !errors.Is(err, rediscache.ErrUnavailable) {
		t.Fatalf("Set with redis down: %v", err)
	}
	if err := s.Delete(ctx, "k"); !errors.Is(err, rediscache.ErrUnavailable) {
		t.Fatalf("Delete with redis down: %v", err)
	}
}

func TestTwoInstancesInvalidate(t *testing.T) {
	client, prefix := testenv.Redis(t)
	a := newCache(t, newTwoLevel(t, client, prefix, rediscache.Config{LocalTTL: time.Hour}))
	b := newCache(t, newTwoLevel(t, client, prefix, rediscache.Config{LocalTTL: time.Hour}))
	ctx := context.Background()

	if err := a.Set(ctx, "k", "v1", cache.Long); err != nil {
		t.Fatal(err)
	}
	if v, ok := getString(b, "k"); !ok || v != "v1" {
		t.Fatalf("B reads %q, %v; want v1 from Redis", v, ok)
	}
	// B now holds v1 in its local level for up to an hour; A's update must reach it.
	if err := a.Set(ctx, "k", "v2", cache.Long); err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Second, "B sees A's update", func() bool { v, _ := getString(b, "k"); return v == "v2" })

	_ = a.Delete(ctx, "k")
	eventually(t, time.Second, "B sees A's delete", func() bool { _, ok := getString(b, "k"); return !ok })

	// Tags: the nexus flow — GET /api/formulas cached on both, admin PUT on A.
	var loadsA, loadsB atomic.Int64
	list := func(n *atomic.Int64) func(context.Context) ([]string, error) {
		return func(context.Context) ([]string, error) { n.Add(1); return []string{"Groupe Réussite"}, nil }
	}
	for range 3 {
		_, _ = cache.GetOrLoad(ctx, a, "formulas", cache.Long, list(&loadsA), cache.Tags("formulas"))
		_, _ = cache.GetOrLoad(ctx, b, "formulas", cache.Long, list(&loadsB), cache.Tags("formulas"))
	}
	if loadsA.Load()+loadsB.Load() != 1 {
		t.Fatalf("loads before invalidation: A=%d B=%d, want one in total", loadsA.Load(), loadsB.Load())
	}
	if err := a.InvalidateTags(ctx, "formulas"); err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Second, "B reloads after A invalidates the tag", func() bool {
		before := loadsB.Load()
		_, _ = cache.GetOrLoad(ctx, b, "formulas", cache.Long, list(&loadsB), cache.Tags("formulas"))
		return loadsB.Load() > before
	})
}

func TestLocalTTLBoundsStaleness(t *testing.T) {
	client, prefix := testenv.Redis(t)
	a := newTwoLevel(t, client, prefix, rediscache.Config{})
	// B listens on another channel: it misses A's messages, as during a partition.
	b := newTwoLevel(t, client, prefix, rediscache.Config{Channel: prefix + "elsewhere", LocalTTL: 200 * time.Millisecond})
	ctx := context.Background()
	_ = a.Set(ctx, "k", []byte("v1"), time.Hour)
	if v, ok, _ := b.Get(ctx, "k"); !ok || string(v) != "v1" {
		t.Fatalf("B = %q, %v", v, ok)
	}
	_ = a.Set(ctx, "k", []byte("v2"), time.Hour)
	start := time.Now()
	eventually(t, 2*time.Second, "B's local copy expires", func() bool { v, _, _ := b.Get(ctx, "k"); return string(v) == "v2" })
	if time.Since(start) > time.Second {
		t.Fatalf("stale for %v with a 200ms LocalTTL", time.Since(start))
	}
}

func TestMalformedMessagesIgnored(t *testing.T) {
	client, prefix := testenv.Redis(t)
	tl := newTwoLevel(t, client, prefix, rediscache.Config{})
	ctx := context.Background()
	_ = tl.Set(ctx, "k", []byte("v"), time.Hour)
	for _, junk := range []string{"", "x", string(make([]byte, 100)), "\x01" + string(make([]byte, 17)) + "\xff\xff\xff\xff\xff"} {
		client.Publish(ctx, prefix+"cache:invalidate", junk)
	}
	// A well-formed message after the junk is still applied.
	other := newTwoLevel(t, client, prefix, rediscache.Config{})
	_ = other.Delete(ctx, "k")
	eventually(t, time.Second, "valid message applied after junk", func() bool {
		_, ok, _ := tl.Local().Get(ctx, "k")
		return !ok
	})
}

// TestRedisKilledMidTraffic kills the Redis server under two instances doing reads, loads
// and writes: no caller sees an error, and once Redis is back the instances share data and
// invalidations again.
func TestRedisKilledMidTraffic(t *testing.T) {
	srv := testenv.StartRedisServer(t)
	cfg := rediscache.Config{RetryInterval: 50 * time.Millisecond, OperationTimeout: 200 * time.Millisecond}
	ca, cb := srv.Client(), srv.Client()
	ta := newTwoLevel(t, ca, "app:", cfg)
	tb := newTwoLevel(t, cb, "app:", cfg)
	a, b := newCache(t, ta), newCache(t, tb)

	ctx, stop := context.WithCancel(context.Background())
	var ops, failures atomic.Int64
	var slowest atomic.Int64
	var wg sync.WaitGroup
	traffic := func(c *cache.Cache, id int) {
		defer wg.Done()
		for i := 0; ctx.Err() == nil; i++ {
			start := time.Now()
			key := fmt.Sprint("k", i%20)
			v, err := cache.GetOrLoad(context.Background(), c, key, cache.Short, func(context.Context) (string, error) {
				return "loaded", nil
			})
			if err != nil || v == "" {
				failures.Add(1)
				t.Errorf("instance %d GetOrLoad(%s) = %q, %v", id, key, v, err)
			}
			if err := c.Set(context.Background(), "w", fmt.Sprint(id, ":", i), cache.Short); err != nil {
				failures.Add(1)
				t.Errorf("instance %d Set: %v", id, err)
			}
			var s string
			if _, err := c.Get(context.Background(), "w", &s); err != nil {
				failures.Add(1)
				t.Errorf("instance %d Get: %v", id, err)
			}
			if d := time.Since(start); int64(d) > slowest.Load() {
				slowest.Store(int64(d))
			}
			ops.Add(1)
			time.Sleep(time.Millisecond)
		}
	}
	wg.Add(2)
	go traffic(a, 1)
	go traffic(b, 2)

	waitOps := func(n int64) {
		target := ops.Load() + n
		eventually(t, 10*time.Second, "traffic progresses", func() bool { return ops.Load() >= target })
	}
	waitOps(50)
	srv.Kill()
	waitOps(200) // traffic keeps flowing with Redis gone
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	waitOps(50)
	stop()
	wg.Wait()
	if failures.Load() != 0 {
		t.Fatalf("%d errors reached callers", failures.Load())
	}
	if d := time.Duration(slowest.Load()); d > 3*time.Second {
		t.Fatalf("slowest operation took %v while Redis was down", d)
	}

	// Recovery: writes reach Redis and invalidations reach the other instance again.
	bg := context.Background()
	eventually(t, 5*time.Second, "A's write lands in Redis", func() bool {
		_ = a.Set(bg, "after", "v1", cache.Long)
		n, _ := ca.Exists(bg, "app:cache:k:after").Result()
		return n == 1
	})
	eventually(t, 5*time.Second, "B reads A's write", func() bool { v, _ := getString(b, "after"); return v == "v1" })
	_ = a.Set(bg, "after", "v2", cache.Long)
	eventually(t, 5*time.Second, "B sees A's update after recovery", func() bool { v, _ := getString(b, "after"); return v == "v2" })
}

// TestWritesDuringPartitionAreAnnounced cuts instance A off Redis (a proxy between them)
// while B keeps its connection: A's write during the cut lands only locally, and on
// recovery the key is deleted from Redis and dropped from B, so B never keeps serving the
// value A replaced.
func TestWritesDuringPartitionAreAnnounced(t *testing.T) {
	shared, prefix := testenv.Redis(t)
	addr := shared.Options().Addr
	proxy := testenv.StartProxy(t, addr)
	ca := redis.NewClient(&redis.Options{Addr: proxy.Addr(), DB: shared.Options().DB, MaxRetries: -1})
	t.Cleanup(func() { _ = ca.Close() })
	cfg := rediscache.Config{RetryInterval: 50 * time.Millisecond, OperationTimeout: 200 * time.Millisecond, LocalTTL: time.Hour}
	ta := newTwoLevel(t, ca, prefix, cfg)
	tb := newTwoLevel(t, shared, prefix, cfg)
	ctx := context.Background()

	_ = ta.Set(ctx, "k", []byte("v1"), time.Hour)
	if v, ok, _ := tb.Get(ctx, "k"); string(v) != "v1" || !ok {
		t.Fatalf("B = %q, %v", v, ok)
	}
	proxy.Cut()
	if err := ta.Set(ctx, "k", []byte("v2"), time.Hour); err != nil {
		t.Fatalf("Set during the cut returned %v", err)
	}
	if v, _, err := ta.Get(ctx, "k"); string(v) != "v2" || err != nil {
		t.Fatalf("A reads its own write during the cut: %q, %v", v, err)
	}
	proxy.Restore()
	eventually(t, 5*time.Second, "B stops serving the replaced value", func() bool {
		v, _, _ := tb.Get(ctx, "k")
		return string(v) != "v1"
	})
	if n, _ := shared.Exists(ctx, prefix+"k").Result(); n != 0 {
		t.Fatal("the replaced value is still in Redis after recovery")
	}
}

func TestTwoLevelConfigErrors(t *testing.T) {
	client, _ := testenv.Redis(t)
	for _, cfg := range []rediscache.Config{{LocalTTL: -1}, {RetryInterval: -1}, {MaxPending: -1}} {
		cfg.Prefix = "app:"
		if _, err := rediscache.NewTwoLevel(client, cfg); !errors.Is(err, cache.ErrInvalidConfig) {
			t.Errorf("NewTwoLevel(%+v) = %v", cfg, err)
		}
	}
	if _, err := rediscache.NewTwoLevel(nil, rediscache.Config{Prefix: "app:"}); !errors.Is(err, cache.ErrInvalidConfig) {
		t.Error("nil client accepted")
	}
	if _, err := rediscache.NewStore(nil, rediscache.StoreConfig{Prefix: "app:"}); !errors.Is(err, cache.ErrInvalidConfig) {
		t.Error("nil client accepted by NewStore")
	}
}

// TestPrefixRequired: without a prefix, both constructors refuse, naming the field and why.
func TestPrefixRequired(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // never dialled
	t.Cleanup(func() { _ = client.Close() })
	_, errTwo := rediscache.NewTwoLevel(client, rediscache.Config{Channel: "app:invalidate"})
	_, errStore := rediscache.NewStore(client, rediscache.StoreConfig{})
	for field, err := range map[string]error{"Config.Prefix": errTwo, "StoreConfig.Prefix": errStore} {
		if !errors.Is(err, cache.ErrInvalidConfig) || !strings.Contains(err.Error(), field) || !strings.Contains(err.Error(), "services") {
			t.Errorf("%s empty: %v", field, err)
		}
	}
}

// TestStartedWithRedisUnreachable: an instance built while Redis is unreachable keeps a
// write of the outage in its local level only; once its subscription comes up it clears
// that level, as on any resubscription, since it may have missed other instances'
// messages meanwhile: it does not keep serving the outage's value.
func TestStartedWithRedisUnreachable(t *testing.T) {
	shared, prefix := testenv.Redis(t)
	proxy := testenv.StartProxy(t, shared.Options().Addr)
	proxy.Cut()
	ca := redis.NewClient(&redis.Options{Addr: proxy.Addr(), DB: shared.Options().DB, MaxRetries: -1})
	t.Cleanup(func() { _ = ca.Close() })
	cfg := rediscache.Config{RetryInterval: 50 * time.Millisecond, OperationTimeout: 200 * time.Millisecond, LocalTTL: time.Hour}
	cfg.Prefix = prefix
	ta, err := rediscache.NewTwoLevel(ca, cfg) // Redis need not answer yet
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ta.Close() })
	tb := newTwoLevel(t, shared, prefix, cfg)
	ctx := context.Background()

	if err := ta.Set(ctx, "k", []byte("outage"), time.Hour); err != nil {
		t.Fatalf("Set with Redis unreachable returned %v", err)
	}
	if err := tb.Set(ctx, "k", []byte("newer"), time.Hour); err != nil {
		t.Fatal(err)
	}
	proxy.Restore()
	if err := ca.Ping(ctx).Err(); err != nil {
		t.Fatalf("ping through the restored proxy: %v", err)
	}
	wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := ta.WaitSubscribed(wctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "A stops serving its outage write", func() bool {
		v, _, _ := ta.Get(ctx, "k")
		return string(v) != "outage"
	})
}
