package cache_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nexus-reussite/harden/cache"
	"github.com/nexus-reussite/harden/cache/storetest"
)

func newMemory(t testing.TB, cfg cache.MemoryConfig) *cache.Memory {
	t.Helper()
	m, err := cache.NewMemory(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

func TestMemoryConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) cache.Store { return newMemory(t, cache.MemoryConfig{}) })
}

func TestMemoryConformanceByEntries(t *testing.T) {
	storetest.Run(t, func(t *testing.T) cache.Store { return newMemory(t, cache.MemoryConfig{MaxEntries: 10000}) })
}

func TestMemoryTTLIsExact(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMemory(t, cache.MemoryConfig{})
		ctx := context.Background()
		const ttl = 1500 * time.Millisecond // not a whole second: nothing is rounded
		if err := m.Set(ctx, "k", []byte("v"), ttl); err != nil {
			t.Fatal(err)
		}
		time.Sleep(ttl - time.Nanosecond)
		if _, ok, _ := m.Get(ctx, "k"); !ok {
			t.Fatal("entry gone 1ns before its TTL")
		}
		time.Sleep(time.Nanosecond)
		if _, ok, _ := m.Get(ctx, "k"); ok {
			t.Fatal("entry still present at its TTL")
		}
		if err := m.Set(ctx, "forever", []byte("v"), 0); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Hour) // the store ticks each second: keep fake time short
		if _, ok, _ := m.Get(ctx, "forever"); !ok {
			t.Fatal("entry without TTL expired")
		}
	})
}

func TestMemoryBoundedByBytes(t *testing.T) {
	const maxBytes = 64 << 10
	m := newMemory(t, cache.MemoryConfig{MaxBytes: maxBytes})
	var evicted atomic.Int64
	m.NotifyEvictions(func(string, []byte) { evicted.Add(1) })
	ctx := context.Background()
	v := make([]byte, 1000)
	for i := range 1000 { // ~1 MB written into 64 KiB
		if err := m.Set(ctx, fmt.Sprint("k", i), v, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, func() bool { return m.Len()*(1000+64) <= maxBytes*11/10 }, "size bound")
	waitFor(t, func() bool { return evicted.Load() > 800 }, "eviction notifications")
	if err := m.Set(ctx, "huge", make([]byte, maxBytes), time.Hour); !errors.Is(err, cache.ErrTooLarge) {
		t.Fatalf("Set of a value larger than the store: %v, want ErrTooLarge", err)
	}
}

func TestMemoryBoundedByEntries(t *testing.T) {
	m := newMemory(t, cache.MemoryConfig{MaxEntries: 100})
	ctx := context.Background()
	for i := range 1000 {
		_ = m.Set(ctx, fmt.Sprint("k", i), []byte("v"), time.Hour)
	}
	waitFor(t, func() bool { return m.Len() <= 110 }, "entry bound")
}

func TestMemoryClose(t *testing.T) {
	m, err := cache.NewMemory(cache.MemoryConfig{})
	if err != nil {
		t.Fatal(err)
	}
	_ = m.Set(context.Background(), "k", []byte("v"), time.Hour)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := m.Get(context.Background(), "k"); ok {
		t.Fatal("entry survives Close")
	}
	if err := m.Set(context.Background(), "k", []byte("v"), time.Hour); !errors.Is(err, cache.ErrClosed) {
		t.Fatalf("Set after Close: %v", err)
	}
	_ = m.Close()
}

func TestMemoryConfigErrors(t *testing.T) {
	for _, cfg := range []cache.MemoryConfig{{MaxBytes: -1}, {MaxEntries: -1}, {MaxBytes: 10, MaxEntries: 10}} {
		if _, err := cache.NewMemory(cfg); !errors.Is(err, cache.ErrInvalidConfig) {
			t.Errorf("NewMemory(%+v) = %v, want ErrInvalidConfig", cfg, err)
		}
	}
}

// waitFor polls cond: the store's eviction runs on its own goroutines.
func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
