// Package stack builds the HTTP stacks the benchmarks and the load driver compare: the bare
// handler, gzip alone, the "peer stack" a Go user assembles today from popular libraries, and
// the harden stack with the same concerns and settings.
package stack

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// Payload returns a JSON document of about size bytes shaped like the reference backend's
// formulas list: repetitive enough to compress as real API responses do.
func Payload(size int) []byte {
	type formula struct {
		ID            int      `json:"id"`
		Name          string   `json:"name"`
		Type          string   `json:"type"`
		Level         string   `json:"level"`
		Price         float64  `json:"price"`
		HoursPerMonth int      `json:"hours_per_month"`
		MaxStudents   int      `json:"max_students"`
		Features      []string `json:"features"`
	}
	var list []formula
	for i := 1; ; i++ {
		list = append(list, formula{
			ID: i, Name: fmt.Sprintf("Formule %d", i), Type: []string{"individual", "group", "workshop", "intensive"}[i%4],
			Level: []string{"seconde", "première", "terminale"}[i%3], Price: float64(150 + 10*i), HoursPerMonth: 4 + i%8,
			MaxStudents: 1 + i%6, Features: []string{"Suivi personnalisé", "Bilan mensuel", fmt.Sprintf("Séance %d", i)},
		})
		b, _ := json.Marshal(map[string]any{"formulas": list})
		if len(b) >= size {
			return b
		}
	}
}

// Handler serves body as application/json on every path, like a warm API endpoint.
func Handler(body []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
}

// Mux routes /api/formulas to h, as the stacks' inner router; the pattern gives metrics a
// bounded route label.
func Mux(h http.Handler) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /api/formulas", h)
	return mux
}
