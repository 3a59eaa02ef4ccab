package cache_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/nexus-reussite/harden/cache"
)

func Example() {
	store, _ := cache.NewMemory(cache.MemoryConfig{MaxBytes: 32 << 20})
	defer store.Close()
	c, _ := cache.New(store, cache.Config{})
	defer c.Close()
	ctx := context.Background()

	loads := 0
	loadFormulas := func(ctx context.Context) ([]string, error) {
		loads++
		return []string{"Groupe Réussite", "Combo Révision"}, nil
	}
	for range 3 {
		list, _ := cache.GetOrLoad(ctx, c, "formulas", cache.Long, loadFormulas, cache.Tags("formulas"))
		fmt.Println(list, "loads:", loads)
	}
	_ = c.InvalidateTags(ctx, "formulas") // after an admin update
	list, _ := cache.GetOrLoad(ctx, c, "formulas", cache.Long, loadFormulas, cache.Tags("formulas"))
	fmt.Println(list, "loads:", loads)
	// Output:
	// [Groupe Réussite Combo Révision] loads: 1
	// [Groupe Réussite Combo Révision] loads: 1
	// [Groupe Réussite Combo Révision] loads: 1
	// [Groupe Réussite Combo Révision] loads: 2
}

func ExampleHTTPCache() {
	store, _ := cache.NewMemory(cache.MemoryConfig{})
	defer store.Close()
	c, _ := cache.New(store, cache.Config{Jitter: -1}) // exact TTLs, for a stable output
	rc, _ := cache.NewHTTP(c, cache.HTTPConfig{Tier: cache.Long, Tags: []string{"formulas"}})

	mux := http.NewServeMux()
	mux.Handle("GET /api/formulas", rc.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `[{"name":"Grand Oral","price":390}]`)
	})))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	for range 2 {
		resp, _ := http.Get(srv.URL + "/api/formulas")
		resp.Body.Close()
		fmt.Println(resp.StatusCode, resp.Header.Get("X-Cache"), resp.Header.Get("Cache-Status"))
	}
	_ = c.InvalidateTags(context.Background(), "formulas")
	resp, _ := http.Get(srv.URL + "/api/formulas")
	resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get("X-Cache"))
	// Output:
	// 200 MISS harden; fwd=uri-miss; stored
	// 200 HIT harden; hit; ttl=86400
	// 200 MISS
}

func ExampleParseTiers() {
	// The values of CACHE_TTL_SHORT, CACHE_TTL_MEDIUM, CACHE_TTL_LONG, CACHE_TTL_PERMANENT.
	tiers, err := cache.ParseTiers("600", "2h", "", "604800")
	fmt.Println(tiers.Short, tiers.Medium, tiers.Long, tiers.Permanent, err)
	// Output: 10m0s 2h0m0s 24h0m0s 168h0m0s <nil>
}

func ExampleParseCacheControl() {
	cc := cache.ParseCacheControl([]string{`public, MAX-AGE=60`, `no-cache="Set-Cookie"`})
	fmt.Println(cc.Public, cc.MaxAge, cc.NoCache)
	fmt.Println(cc)
	// Output:
	// true 60 true
	// no-cache, public, max-age=60
}
