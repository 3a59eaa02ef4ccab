package cachebench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/dgraph-io/ristretto/v2"
	gocache "github.com/go-redis/cache/v9"
	"github.com/maypok86/otter/v2"
	"github.com/nexus-reussite/harden/cache"
	"github.com/nexus-reussite/harden/cache/rediscache"
	"github.com/redis/go-redis/v9"
)

const nKeys = 1024

var (
	keys = func() []string {
		k := make([]string, nKeys)
		for i := range k {
			k[i] = fmt.Sprintf("formula:%d", i)
		}
		return k
	}()
	value = []byte(`{"name":"Groupe Réussite","type":"group","price":180,"hours":8}`)
	sink  []byte
)

// Memory Get hit: cache.Memory against otter configured alike (bounded by weight, per-entry
// expiry) and ristretto (bounded by cost, TTL). Byte values; reads of present keys.
func benchMemoryHarden(b *testing.B) {
	m, err := cache.NewMemory(cache.MemoryConfig{MaxBytes: 64 << 20})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	for _, k := range keys {
		_ = m.Set(ctx, k, value, time.Hour)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		v, ok, _ := m.Get(ctx, keys[i&(nKeys-1)])
		if !ok {
			b.Fatal("miss")
		}
		sink = v
	}
}

type otterEntry struct {
	b   []byte
	ttl time.Duration
}

func benchMemoryOtter(b *testing.B) {
	c := otter.Must(&otter.Options[string, otterEntry]{
		MaximumWeight: 64 << 20,
		Weigher:       func(k string, v otterEntry) uint32 { return uint32(len(k) + len(v.b) + 64) },
		ExpiryCalculator: otter.ExpiryWritingFunc(func(e otter.Entry[string, otterEntry]) time.Duration {
			return e.Value.ttl
		}),
	})
	defer c.StopAllGoroutines()
	for _, k := range keys {
		c.Set(k, otterEntry{b: value, ttl: time.Hour})
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		v, ok := c.GetIfPresent(keys[i&(nKeys-1)])
		if !ok {
			b.Fatal("miss")
		}
		sink = v.b
	}
}

func benchMemoryRistretto(b *testing.B) {
	c, err := ristretto.NewCache(&ristretto.Config[string, []byte]{NumCounters: 10 * nKeys, MaxCost: 64 << 20, BufferItems: 64})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	for _, k := range keys {
		c.SetWithTTL(k, value, int64(len(k)+len(value)), time.Hour)
	}
	c.Wait()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		v, ok := c.Get(keys[i&(nKeys-1)])
		if !ok {
			b.Fatal("miss")
		}
		sink = v
	}
}

func BenchmarkMemoryGetHit(b *testing.B) {
	b.Run("harden", benchMemoryHarden)
	b.Run("otter", benchMemoryOtter)
	b.Run("ristretto", benchMemoryRistretto)
}

func redisClient(b *testing.B) *redis.Client {
	url := os.Getenv("HARDEN_REDIS_URL")
	if url == "" {
		url = "redis://127.0.0.1:6379/0"
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		b.Fatal(err)
	}
	c := redis.NewClient(opt)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		if os.Getenv("HARDEN_REQUIRE_SERVICES") == "1" {
			b.Fatalf("redis unavailable: %v", err)
		}
		b.Skipf("redis unavailable (%v); start it or set HARDEN_REDIS_URL", err)
	}
	b.Cleanup(func() { _ = c.Close() })
	return c
}

// Two-level hit (local level): a typed Get through cache.Cache over rediscache.TwoLevel
// against go-redis/cache with its TinyLFU local cache; both decode into a []byte.
func BenchmarkTwoLevelGetHit(b *testing.B) {
	client := redisClient(b)
	ctx := context.Background()
	ns := fmt.Sprintf("bench:%d:", time.Now().UnixNano())
	b.Cleanup(func() {
		for _, k := range keys {
			client.Del(ctx, ns+"cache:k:"+k, "gc:"+ns+k)
		}
	})
	b.Run("harden", func(b *testing.B) {
		tl, err := rediscache.NewTwoLevel(client, rediscache.Config{Prefix: ns})
		if err != nil {
			b.Fatal(err)
		}
		defer tl.Close()
		c, _ := cache.New(tl, cache.Config{})
		for _, k := range keys {
			_ = c.Set(ctx, k, value, cache.Long)
		}
		var dst []byte
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			if ok, err := c.Get(ctx, keys[i&(nKeys-1)], &dst); !ok || err != nil {
				b.Fatal("miss", err)
			}
		}
	})
	b.Run("go-redis-cache", func(b *testing.B) {
		c := gocache.New(&gocache.Options{Redis: client, LocalCache: gocache.NewTinyLFU(nKeys*2, time.Minute)})
		for _, k := range keys {
			if err := c.Set(&gocache.Item{Ctx: ctx, Key: "gc:" + ns + k, Value: value, TTL: time.Hour}); err != nil {
				b.Fatal(err)
			}
		}
		var dst []byte
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			if err := c.Get(ctx, "gc:"+ns+keys[i&(nKeys-1)], &dst); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// HTTP: a cached GET against the same handler uncached, the handler standing for a 1 ms
// database query (target: at least 10x the throughput).
const formulasJSON = `[{"name":"Groupe Réussite","price":180},{"name":"Combo Révision","price":290},{"name":"Duo Sciences","price":400},{"name":"Grand Oral","price":390}]`

func formulasHandler(query time.Duration) http.Handler {
	body := []byte(formulasJSON)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if query > 0 {
			time.Sleep(query)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
}

type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}

// benchHTTP serves GET /api/formulas (and query) through h and returns ns/op. The request
// carries the pattern a router sets when it matches the route, as the cache sees it on a
// route, without the router's own cost.
func benchHTTP(b *testing.B, h http.Handler, query ...string) float64 {
	path := "/api/formulas"
	if len(query) > 0 {
		path += "?" + query[0]
	}
	req := httptest.NewRequest("GET", path, nil)
	req.Pattern = "GET /api/formulas"
	req.Header.Set("Accept-Encoding", "gzip, br")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		w := &discardWriter{h: http.Header{}}
		for pb.Next() {
			clear(w.h)
			h.ServeHTTP(w, req)
		}
	})
	return float64(b.Elapsed().Nanoseconds()) / float64(b.N)
}

func httpCached(b *testing.B, next http.Handler, tags ...string) http.Handler {
	return httpCachedConfig(b, next, cache.HTTPConfig{Tier: cache.Long, Tags: tags})
}

func httpCachedConfig(b *testing.B, next http.Handler, cfg cache.HTTPConfig) http.Handler {
	m, _ := cache.NewMemory(cache.MemoryConfig{})
	b.Cleanup(func() { _ = m.Close() })
	c, _ := cache.New(m, cache.Config{})
	hc, err := cache.NewHTTP(c, cfg)
	if err != nil {
		b.Fatal(err)
	}
	return hc.Handler(next)
}

// BenchmarkHTTP: x-vs-uncached is the uncached ns/op over the cached one (the throughput
// ratio; target at least 10).
func BenchmarkHTTP(b *testing.B) {
	var uncached float64
	b.Run("uncached", func(b *testing.B) { uncached = benchHTTP(b, formulasHandler(time.Millisecond)) })
	b.Run("cached", func(b *testing.B) {
		ns := benchHTTP(b, httpCached(b, formulasHandler(time.Millisecond), "formulas"))
		b.ReportMetric(uncached/ns, "x-vs-uncached")
	})
}

// varyHandler answers like next with Vary: Accept-Encoding, as a response behind a
// compressor does, so each hit selects its variant by the request's Accept-Encoding.
func varyHandler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Vary"] = []string{"Accept-Encoding"}
		next.ServeHTTP(w, r)
	})
}

// BenchmarkHTTPHit prices a hit against the handler answering by itself without any work
// ("direct"): x-vs-direct is direct ns/op over this one (1 would be a free cache). The
// response is 150 bytes of JSON; "tagged" checks one tag version per hit; "vary" selects
// a variant by Accept-Encoding on each hit; "query" keys on a declared query parameter.
func BenchmarkHTTPHit(b *testing.B) {
	var direct float64
	b.Run("direct", func(b *testing.B) { direct = benchHTTP(b, formulasHandler(0)) })
	b.Run("cached", func(b *testing.B) {
		b.ReportMetric(direct/benchHTTP(b, httpCached(b, formulasHandler(0))), "x-vs-direct")
	})
	b.Run("cached-tagged", func(b *testing.B) {
		b.ReportMetric(direct/benchHTTP(b, httpCached(b, formulasHandler(0), "formulas")), "x-vs-direct")
	})
	b.Run("cached-vary", func(b *testing.B) {
		b.ReportMetric(direct/benchHTTP(b, httpCached(b, varyHandler(formulasHandler(0)))), "x-vs-direct")
	})
	b.Run("cached-query", func(b *testing.B) {
		h := httpCachedConfig(b, formulasHandler(0), cache.HTTPConfig{Tier: cache.Long, Query: []string{"level", "page"}})
		b.ReportMetric(direct/benchHTTP(b, h, "level=terminale&page=2"), "x-vs-direct")
	})
}
