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
	development := true                                // Cache-Status is off by default: it tells clients what others asked for
	formulas, _ := cache.NewHTTP(c, cache.HTTPConfig{
		Tier: cache.Long, Tags: []string{"formulas"}, Query: []string{"level"},
		CacheStatus: func(*http.Request) bool { return development },
	})

	listFormulas := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `[{"name":"Grand Oral","level":%q}]`, r.URL.Query().Get("level"))
	})
	mux := http.NewServeMux()
	mux.Handle("GET /api/formulas", formulas.Handler(listFormulas))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	get := func(path string, header ...string) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		if len(header) == 2 {
			req.Header.Set(header[0], header[1])
		}
		resp, _ := http.DefaultClient.Do(req)
		resp.Body.Close()
		fmt.Println(path, resp.StatusCode, resp.Header.Get("Cache-Status"))
	}
	get("/api/formulas?level=terminale")
	get("/api/formulas?level=terminale")
	get("/api/formulas?level=terminale&utm_source=mail") // an undeclared parameter
	get("/api/formulas?level=terminale", "Cookie", "session=alice")
	_ = c.InvalidateTags(context.Background(), "formulas") // after an admin update
	get("/api/formulas?level=terminale")
	// Output:
	// /api/formulas?level=terminale 200 harden; fwd=uri-miss; stored
	// /api/formulas?level=terminale 200 harden; hit; ttl=86400
	// /api/formulas?level=terminale&utm_source=mail 200 harden; fwd=bypass; detail=query
	// /api/formulas?level=terminale 200 harden; fwd=bypass; detail=credentials
	// /api/formulas?level=terminale 200 harden; fwd=uri-miss; stored
}
