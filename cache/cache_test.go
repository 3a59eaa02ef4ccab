package cache_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nexus-reussite/harden/cache"
)

type formula struct {
	Name  string `json:"name"`
	Price int    `json:"price"`
}

func TestSetGetValues(t *testing.T) {
	c, reg := newCache(t, cache.Config{})
	ctx := context.Background()
	in := []formula{{"Groupe Réussite", 180}, {"Combo Révision", 290}}
	if err := c.Set(ctx, "formulas", in, cache.Long); err != nil {
		t.Fatal(err)
	}
	var out []formula
	if ok, err := c.Get(ctx, "formulas", &out); !ok || err != nil {
		t.Fatalf("Get = %v, %v", ok, err)
	}
	if fmt.Sprint(out) != fmt.Sprint(in) {
		t.Fatalf("got %v, want %v", out, in)
	}
	if err := c.Set(ctx, "raw", []byte{0, 1, 2}, cache.Short); err != nil {
		t.Fatal(err)
	}
	var raw []byte
	if ok, _ := c.Get(ctx, "raw", &raw); !ok || string(raw) != "\x00\x01\x02" {
		t.Fatalf("raw = %q, %v", raw, ok)
	}
	if err := c.Set(ctx, "s", "text", cache.Short); err != nil {
		t.Fatal(err)
	}
	var s string
	if ok, _ := c.Get(ctx, "s", &s); !ok || s != "text" {
		t.Fatalf("string = %q, %v", s, ok)
	}
	if ok, err := c.Get(ctx, "absent", &s); ok || err != nil {
		t.Fatalf("absent = %v, %v", ok, err)
	}
	if got := counter(t, reg, "harden_cache_hits_total", "long"); got != 1 {
		t.Fatalf("long hits = %v, want 1", got)
	}
	if got := counter(t, reg, "harden_cache_misses_total", ""); got != 1 {
		t.Fatalf("misses = %v, want 1", got)
	}
	if err := c.Delete(ctx, "s", "raw"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := c.Get(ctx, "s", &s); ok {
		t.Fatal("deleted key still found")
	}
}

func TestSetErrors(t *testing.T) {
	c, _ := newCache(t, cache.Config{})
	ctx := context.Background()
	if err := c.Set(ctx, "k", 1, cache.Tier(9)); !errors.Is(err, cache.ErrInvalidConfig) {
		t.Errorf("unknown tier: %v", err)
	}
	if err := c.Set(ctx, "k", make(chan int), cache.Short); !errors.Is(err, cache.ErrCodec) {
		t.Errorf("unencodable value: %v", err)
	}
	if err := c.Set(ctx, "k", 1, cache.Short, cache.Tags("")); !errors.Is(err, cache.ErrInvalidConfig) {
		t.Errorf("empty tag: %v", err)
	}
	_ = c.Set(ctx, "k", "not json", cache.Short)
	var n int
	if _, err := c.Get(ctx, "k", &n); !errors.Is(err, cache.ErrCodec) {
		t.Errorf("decode into wrong type: %v", err)
	}
}

func TestCorruptEntryIsAMiss(t *testing.T) {
	store := newMemory(t, cache.MemoryConfig{})
	c, err := cache.New(store, cache.Config{Namespace: "ns:"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, raw := range [][]byte{nil, {1}, {9, 1, 2, 3}, make([]byte, 40)} {
		_ = store.Set(ctx, "ns:k:k", raw, time.Hour)
		var v string
		ok, err := c.Get(ctx, "k", &v)
		if ok || !errors.Is(err, cache.ErrCorrupt) {
			t.Errorf("corrupt %q: Get = %v, %v; want miss with ErrCorrupt", raw, ok, err)
		}
		got, err := cache.GetOrLoad(ctx, c, "k", cache.Short, func(context.Context) (string, error) { return "fresh", nil })
		if err != nil || got != "fresh" {
			t.Errorf("GetOrLoad over corrupt entry = %q, %v", got, err)
		}
		_ = store.Delete(ctx, "ns:k:k")
	}
}

func TestNamespacesAreIsolated(t *testing.T) {
	store := newMemory(t, cache.MemoryConfig{})
	a, _ := cache.New(store, cache.Config{Namespace: "a:"})
	b, _ := cache.New(store, cache.Config{Namespace: "b:"})
	ctx := context.Background()
	_ = a.Set(ctx, "k", "from a", cache.Short)
	var v string
	if ok, _ := b.Get(ctx, "k", &v); ok {
		t.Fatal("namespace b sees a's key")
	}
	if ok, _ := a.Get(ctx, "k", &v); !ok || v != "from a" {
		t.Fatalf("a = %q, %v", v, ok)
	}
	if _, ok, _ := store.Get(ctx, "a:k:k"); !ok {
		t.Fatal("key not stored under its namespace")
	}
}

func TestTags(t *testing.T) {
	c, _ := newCache(t, cache.Config{})
	ctx := context.Background()
	_ = c.Set(ctx, "f1", "one", cache.Long, cache.Tags("formulas"))
	_ = c.Set(ctx, "f2", "two", cache.Long, cache.Tags("formulas", "home"))
	_ = c.Set(ctx, "u1", "user", cache.Long, cache.Tags("users"))
	_ = c.Set(ctx, "plain", "x", cache.Long)
	if err := c.InvalidateTags(ctx, "formulas"); err != nil {
		t.Fatal(err)
	}
	var v string
	for _, k := range []string{"f1", "f2"} {
		if ok, _ := c.Get(ctx, k, &v); ok {
			t.Errorf("%s survives invalidation of its tag", k)
		}
	}
	for _, k := range []string{"u1", "plain"} {
		if ok, _ := c.Get(ctx, k, &v); !ok {
			t.Errorf("%s lost by invalidation of another tag", k)
		}
	}
	_ = c.Set(ctx, "f1", "one again", cache.Long, cache.Tags("formulas"))
	if ok, _ := c.Get(ctx, "f1", &v); !ok || v != "one again" {
		t.Fatalf("re-set after invalidation = %q, %v", v, ok)
	}
	// Invalidating a tag nothing carries yet is harmless.
	if err := c.InvalidateTags(ctx, "never-used"); err != nil {
		t.Fatal(err)
	}
}

func TestTierTTLs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _ := newCache(t, cache.Config{Jitter: -1, StaleWhileRevalidate: -1, StaleIfError: -1,
			Tiers: cache.Tiers{Short: 90 * time.Second}})
		ctx := context.Background()
		want := map[cache.Tier]time.Duration{cache.Short: 90 * time.Second, cache.Medium: 2 * time.Hour}
		for tier, ttl := range want {
			if got := c.TTL(tier); got != ttl {
				t.Fatalf("TTL(%v) = %v, want %v", tier, got, ttl)
			}
		}
		_ = c.Set(ctx, "s", "v", cache.Short)
		_ = c.Set(ctx, "m", "v", cache.Medium)
		var v string
		time.Sleep(90*time.Second - time.Nanosecond)
		if ok, _ := c.Get(ctx, "s", &v); !ok {
			t.Fatal("short entry gone before 90s")
		}
		time.Sleep(time.Nanosecond)
		if ok, _ := c.Get(ctx, "s", &v); ok {
			t.Fatal("short entry alive at 90s")
		}
		time.Sleep(2*time.Hour - 90*time.Second - time.Nanosecond)
		if ok, _ := c.Get(ctx, "m", &v); !ok {
			t.Fatal("medium entry gone before 2h")
		}
		time.Sleep(time.Nanosecond)
		if ok, _ := c.Get(ctx, "m", &v); ok {
			t.Fatal("medium entry alive at 2h")
		}
	})
}

func TestJitterSpreadsExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _ := newCache(t, cache.Config{Jitter: 0.2, StaleWhileRevalidate: -1, StaleIfError: -1})
		ctx := context.Background()
		const n = 200
		for i := range n {
			_ = c.Set(ctx, fmt.Sprint(i), "v", cache.Short)
		}
		alive := func() int {
			k := 0
			for i := range n {
				var v string
				if ok, _ := c.Get(ctx, fmt.Sprint(i), &v); ok {
					k++
				}
			}
			return k
		}
		ttl := cache.DefaultShortTTL
		time.Sleep(ttl*8/10 - time.Nanosecond)
		if got := alive(); got != n {
			t.Fatalf("%d of %d alive before 80%% of the TTL; jitter must stay within 20%%", got, n)
		}
		time.Sleep(ttl / 10)
		if got := alive(); got == 0 || got == n {
			t.Fatalf("%d of %d alive at 90%% of the TTL; expiries are not spread", got, n)
		}
		time.Sleep(ttl / 10)
		if got := alive(); got != 0 {
			t.Fatalf("%d alive after the full TTL", got)
		}
	})
}

func TestConfigErrors(t *testing.T) {
	store := newMemory(t, cache.MemoryConfig{})
	for _, cfg := range []cache.Config{
		{Jitter: 1},
		{LoadTimeout: -1},
		{Tiers: cache.Tiers{Long: -time.Second}},
	} {
		if _, err := cache.New(store, cfg); !errors.Is(err, cache.ErrInvalidConfig) {
			t.Errorf("New(%+v) = %v, want ErrInvalidConfig", cfg, err)
		}
	}
	if _, err := cache.New(nil, cache.Config{}); !errors.Is(err, cache.ErrInvalidConfig) {
		t.Errorf("nil store: %v", err)
	}
	_, reg := newCache(t, cache.Config{})
	if _, err := cache.New(store, cache.Config{Registerer: reg}); !errors.Is(err, cache.ErrInvalidConfig) {
		t.Errorf("second cache on one registerer: %v", err)
	}
}
