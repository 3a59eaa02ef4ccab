package cache_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nexus-reussite/harden/cache"
)

func TestGetOrLoadStampede(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, reg := newCache(t, cache.Config{})
		var loads atomic.Int64
		release := make(chan struct{})
		load := func(ctx context.Context) ([]formula, error) {
			loads.Add(1)
			<-release
			return []formula{{"Duo Sciences", 400}}, nil
		}
		const callers = 1000
		results := make([][]formula, callers)
		errs := make([]error, callers)
		var wg sync.WaitGroup
		for i := range callers {
			wg.Go(func() {
				results[i], errs[i] = cache.GetOrLoad(context.Background(), c, "formulas", cache.Long, load)
			})
		}
		synctest.Wait() // all 1000 callers are waiting on the one load
		close(release)
		wg.Wait()
		if n := loads.Load(); n != 1 {
			t.Fatalf("%d loads for %d concurrent misses, want 1", n, callers)
		}
		for i := range callers {
			if errs[i] != nil || len(results[i]) != 1 || results[i][0].Price != 400 {
				t.Fatalf("caller %d got %v, %v", i, results[i], errs[i])
			}
		}
		// Each caller decoded its own copy.
		results[0][0].Price = 1
		if results[1][0].Price != 400 {
			t.Fatal("callers share one value")
		}
		if got := counter(t, reg, "harden_cache_misses_total", "long"); got != callers {
			t.Fatalf("misses = %v", got)
		}
		v, err := cache.GetOrLoad(context.Background(), c, "formulas", cache.Long, load)
		if err != nil || v[0].Price != 400 || loads.Load() != 1 {
			t.Fatalf("after the load: %v, %v, loads=%d", v, err, loads.Load())
		}
		if got := counter(t, reg, "harden_cache_hits_total", "long"); got != 1 {
			t.Fatalf("hits = %v", got)
		}
	})
}

func TestGetOrLoadStaleWhileRevalidate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, reg := newCache(t, cache.Config{Jitter: -1, StaleWhileRevalidate: time.Minute, StaleIfError: -1,
			Tiers: cache.Tiers{Short: 10 * time.Minute}})
		ctx := context.Background()
		var version atomic.Int64
		load := func(ctx context.Context) (int64, error) {
			time.Sleep(time.Second) // a slow query
			return version.Add(1), nil
		}
		if v, _ := cache.GetOrLoad(ctx, c, "k", cache.Short, load); v != 1 {
			t.Fatalf("first load = %d", v)
		}
		time.Sleep(10*time.Minute + 30*time.Second) // stale, inside the window
		start := time.Now()
		v, err := cache.GetOrLoad(ctx, c, "k", cache.Short, load)
		if err != nil || v != 1 || time.Since(start) != 0 {
			t.Fatalf("stale read = %d, %v after %v; want the old value at once", v, err, time.Since(start))
		}
		if v, _ := cache.GetOrLoad(ctx, c, "k", cache.Short, load); v != 1 {
			t.Fatalf("second stale read = %d", v)
		}
		synctest.Wait()
		time.Sleep(time.Second) // the background load completes
		synctest.Wait()
		if n := version.Load(); n != 2 {
			t.Fatalf("%d loads, want exactly one background refresh", n)
		}
		if v, _ := cache.GetOrLoad(ctx, c, "k", cache.Short, load); v != 2 {
			t.Fatalf("after refresh = %d, want 2", v)
		}
		if got := counter(t, reg, "harden_cache_stale_served_total", "short"); got != 2 {
			t.Fatalf("stale served = %v, want 2", got)
		}
		// Past the stale window the caller waits for a load.
		time.Sleep(10*time.Minute + time.Minute)
		start = time.Now()
		if v, _ := cache.GetOrLoad(ctx, c, "k", cache.Short, load); v != 3 || time.Since(start) != time.Second {
			t.Fatalf("after the window = %d in %v; want a synchronous load", v, time.Since(start))
		}
	})
}

func TestGetOrLoadStaleIfError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, reg := newCache(t, cache.Config{Jitter: -1, StaleWhileRevalidate: -1, StaleIfError: 5 * time.Minute,
			Tiers: cache.Tiers{Short: 10 * time.Minute}})
		ctx := context.Background()
		fail := errors.New("database down")
		var broken atomic.Bool
		load := func(ctx context.Context) (string, error) {
			if broken.Load() {
				return "", fail
			}
			return "good", nil
		}
		_, _ = cache.GetOrLoad(ctx, c, "k", cache.Short, load)
		broken.Store(true)
		time.Sleep(10*time.Minute + 4*time.Minute)
		v, err := cache.GetOrLoad(ctx, c, "k", cache.Short, load)
		if err != nil || v != "good" {
			t.Fatalf("inside stale-if-error = %q, %v; want the stale value", v, err)
		}
		if counter(t, reg, "harden_cache_load_errors_total", "short") != 1 || counter(t, reg, "harden_cache_stale_served_total", "short") != 1 {
			t.Fatal("load error or stale serve not counted")
		}
		time.Sleep(time.Minute)
		if _, err := cache.GetOrLoad(ctx, c, "k", cache.Short, load); !errors.Is(err, fail) {
			t.Fatalf("past stale-if-error: %v, want the loader's error", err)
		}
		broken.Store(false)
		if v, err := cache.GetOrLoad(ctx, c, "k", cache.Short, load); v != "good" || err != nil {
			t.Fatalf("after recovery = %q, %v", v, err)
		}
	})
}

func TestGetOrLoadCallerCancelDoesNotFailOthers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _ := newCache(t, cache.Config{})
		load := func(ctx context.Context) (string, error) {
			select {
			case <-time.After(time.Second):
				return "loaded", nil
			case <-ctx.Done():
				return "", ctx.Err()
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		var wg sync.WaitGroup
		var patient string
		wg.Go(func() { patient, _ = cache.GetOrLoad(context.Background(), c, "k", cache.Short, load) })
		if _, err := cache.GetOrLoad(ctx, c, "k", cache.Short, load); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("impatient caller: %v", err)
		}
		wg.Wait()
		if patient != "loaded" {
			t.Fatalf("patient caller got %q", patient)
		}
	})
}

func TestGetOrLoadTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _ := newCache(t, cache.Config{LoadTimeout: time.Second})
		load := func(ctx context.Context) (string, error) {
			<-ctx.Done()
			return "", ctx.Err()
		}
		if _, err := cache.GetOrLoad(context.Background(), c, "k", cache.Short, load); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("load past LoadTimeout: %v", err)
		}
	})
}

func TestGetOrLoadPanic(t *testing.T) {
	c, _ := newCache(t, cache.Config{})
	_, err := cache.GetOrLoad(context.Background(), c, "k", cache.Short, func(context.Context) (int, error) { panic("boom") })
	var pe *cache.LoaderPanicError
	if !errors.As(err, &pe) || pe.Value != "boom" {
		t.Fatalf("panicking loader: %v", err)
	}
	v, err := cache.GetOrLoad(context.Background(), c, "k", cache.Short, func(context.Context) (int, error) { return 7, nil })
	if err != nil || v != 7 {
		t.Fatalf("after a panic = %d, %v", v, err)
	}
}

func TestGetOrLoadTags(t *testing.T) {
	c, _ := newCache(t, cache.Config{})
	ctx := context.Background()
	var loads atomic.Int64
	load := func(context.Context) (int64, error) { return loads.Add(1), nil }
	for range 3 {
		_, _ = cache.GetOrLoad(ctx, c, "list", cache.Long, load, cache.Tags("formulas"))
	}
	if loads.Load() != 1 {
		t.Fatalf("%d loads before invalidation", loads.Load())
	}
	_ = c.InvalidateTags(ctx, "formulas")
	if v, _ := cache.GetOrLoad(ctx, c, "list", cache.Long, load, cache.Tags("formulas")); v != 2 {
		t.Fatalf("after invalidation = %d, want a reload", v)
	}
	if _, err := cache.GetOrLoad(ctx, c, "k", cache.Tier(0), load); !errors.Is(err, cache.ErrInvalidConfig) {
		t.Fatalf("tier 0: %v", err)
	}
}

func TestGetOrLoadAbsorbsStoreErrors(t *testing.T) {
	c, err := cache.New(failingStore{}, cache.Config{})
	if err != nil {
		t.Fatal(err)
	}
	v, err := cache.GetOrLoad(context.Background(), c, "k", cache.Short, func(context.Context) (string, error) { return "v", nil })
	if err != nil || v != "v" {
		t.Fatalf("over a failing store = %q, %v", v, err)
	}
}

type failingStore struct{}

var errStore = errors.New("store down")

func (failingStore) Get(context.Context, string) ([]byte, bool, error) { return nil, false, errStore }
func (failingStore) Set(context.Context, string, []byte, time.Duration) error {
	return errStore
}
func (failingStore) Delete(context.Context, ...string) error { return errStore }

func TestEvictionsCountedByTier(t *testing.T) {
	m := newMemory(t, cache.MemoryConfig{MaxBytes: 32 << 10})
	reg := newRegistry()
	c, err := cache.New(m, cache.Config{Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 500 {
		_ = c.Set(context.Background(), string(rune('a'+i%26))+time.Duration(i).String(), make([]byte, 500), cache.Medium)
	}
	waitFor(t, func() bool { return counter(t, reg, "harden_cache_evictions_total", "medium") > 100 }, "evictions counted")
}
