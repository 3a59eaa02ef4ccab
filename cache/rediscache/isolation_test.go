package rediscache_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
	"time"

	"github.com/nexus-reussite/harden/cache"
	"github.com/nexus-reussite/harden/cache/rediscache"
	"github.com/nexus-reussite/harden/internal/testenv"
	"github.com/redis/go-redis/v9"
)

// service is one instance of a service's cache: a TwoLevel under the service's prefix and
// a Cache with the default namespace.
type service struct {
	tl *rediscache.TwoLevel
	c  *cache.Cache
}

func newService(t *testing.T, client redis.UniversalClient, prefix string) service {
	t.Helper()
	tl := newTwoLevel(t, client, prefix, rediscache.Config{LocalTTL: time.Hour})
	return service{tl: tl, c: newCache(t, tl)}
}

// heldLocally reports whether the instance's local level holds the entry of key.
func (s service) heldLocally(key string) bool {
	_, ok, _ := s.tl.Local().Get(context.Background(), cache.DefaultNamespace+"k:"+key)
	return ok
}

// checkNoCrossTalk runs two services, each with two instances, that use the same cache
// keys: neither reads the other's entries, and an invalidation by one never reaches the
// other's local level. Redis delivers messages to a subscriber in the order they were
// published, so once a later message of its own service has reached an instance, a
// message of the other service published before it would have too.
func checkNoCrossTalk(t *testing.T, billing, billing2, shop, shop2 service) {
	t.Helper()
	ctx := context.Background()
	if err := billing.c.Set(ctx, "greeting", "billing", cache.Long); err != nil {
		t.Fatal(err)
	}
	if v, ok := getString(shop.c, "greeting"); ok {
		t.Fatalf("shop reads billing's entry %q", v)
	}
	_ = shop.c.Set(ctx, "greeting", "shop", cache.Long)
	_ = shop.c.Set(ctx, "marker", "shop", cache.Long)
	if v, _ := getString(billing.c, "greeting"); v != "billing" {
		t.Fatalf("billing reads %q", v)
	}
	if v, _ := getString(shop2.c, "greeting"); v != "shop" {
		t.Fatalf("the second shop instance reads %q", v)
	}
	if !shop.heldLocally("greeting") || !shop.heldLocally("marker") {
		t.Fatal("shop's local level lost its entries")
	}

	_ = billing.c.Delete(ctx, "greeting")
	eventually(t, 2*time.Second, "billing's invalidation reaches billing's other instance", func() bool {
		return !billing2.heldLocally("greeting")
	})
	_ = shop2.c.Delete(ctx, "marker")
	eventually(t, 2*time.Second, "shop's invalidation reaches shop", func() bool { return !shop.heldLocally("marker") })
	if !shop.heldLocally("greeting") {
		t.Fatal("billing's invalidation dropped shop's entry")
	}
	if v, _ := getString(shop.c, "greeting"); v != "shop" {
		t.Fatalf("shop reads %q after billing's delete", v)
	}
}

// TestServicesIsolatedOnOneDB: two services on one Redis database, each with its own
// prefix and the default channel and namespace.
func TestServicesIsolatedOnOneDB(t *testing.T) {
	client, prefix := testenv.Redis(t)
	checkNoCrossTalk(t,
		newService(t, client, prefix+"billing:"), newService(t, client, prefix+"billing:"),
		newService(t, client, prefix+"shop:"), newService(t, client, prefix+"shop:"))
}

// TestServicesIsolatedAcrossDBs: two services on different database numbers of one Redis
// server. Keys cannot meet there, but pub/sub channels are shared by every database: the
// default channel carries the prefix, so invalidations do not cross either.
func TestServicesIsolatedAcrossDBs(t *testing.T) {
	client, prefix := testenv.Redis(t)
	opt := *client.Options()
	opt.DB = (opt.DB + 1) % 16
	other := redis.NewClient(&opt)
	t.Cleanup(func() {
		testenv.DeletePrefix(context.Background(), other, prefix)
		_ = other.Close()
	})
	checkNoCrossTalk(t,
		newService(t, client, prefix+"billing:"), newService(t, client, prefix+"billing:"),
		newService(t, other, prefix+"shop:"), newService(t, other, prefix+"shop:"))
}

// countKeys counts the keys under prefix (SCAN, never KEYS).
func countKeys(t *testing.T, c redis.UniversalClient, prefix string) int {
	t.Helper()
	n := 0
	iter := c.Scan(context.Background(), 0, prefix+"*", 500).Iterator()
	for iter.Next(context.Background()) {
		n++
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestHTTPMadeUpQueriesCreateNoKeys sends 1000 requests with made-up query strings to a
// cached route on Redis: the keys in Redis stay those of the one declared form.
func TestHTTPMadeUpQueriesCreateNoKeys(t *testing.T) {
	client, prefix := testenv.Redis(t)
	store, err := rediscache.NewStore(client, rediscache.StoreConfig{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	c := newCache(t, store)
	formulas, err := cache.NewHTTP(c, cache.HTTPConfig{
		Tier: cache.Long, Tags: []string{"formulas"}, Query: []string{"level"},
		CacheStatus: func(*http.Request) bool { return true }, // read below to tell hits from misses
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /api/formulas", formulas.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `[{"name":"Grand Oral","level":%q}]`, r.URL.Query().Get("level"))
	})))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	get := func(path string) string {
		t.Helper()
		resp, err := srv.Client().Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
		return resp.Header.Get("Cache-Status")
	}
	get("/api/formulas?level=terminale")
	if x := get("/api/formulas?level=terminale"); !regexp.MustCompile(`^harden; hit; ttl=[0-9]+$`).MatchString(x) {
		t.Fatalf("declared parameter not cached: %s", x)
	}
	before := countKeys(t, client, prefix)
	for i := range 1000 {
		junk := []string{"?utm=%d", "?level=terminale&cb=%d", "?%d", "?lev%%65l=%d"}[i%4]
		if x := get("/api/formulas" + fmt.Sprintf(junk, i)); x != "harden; fwd=bypass; detail=query" {
			t.Fatalf("%s: Cache-Status %s", fmt.Sprintf(junk, i), x)
		}
	}
	if after := countKeys(t, client, prefix); after != before || before == 0 {
		t.Fatalf("keys under the prefix: %d before the made-up queries, %d after", before, after)
	}
}
