package main

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// handleLive answers while the process serves HTTP.
func (a *app) handleLive(w http.ResponseWriter, _ *http.Request) {
	writeHealth(w, http.StatusOK, map[string]any{"status": "pass"})
}

// handleReady answers 503 while draining or when the database does not answer.
func (a *app) handleReady(w http.ResponseWriter, r *http.Request) {
	if a.draining.Load() {
		writeHealth(w, http.StatusServiceUnavailable, map[string]any{"status": "fail", "output": "shutting down"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := a.db.PingContext(ctx); err != nil {
		writeHealth(w, http.StatusServiceUnavailable, map[string]any{"status": "fail", "output": "database unavailable"})
		return
	}
	writeHealth(w, http.StatusOK, map[string]any{"status": "pass"})
}

// handleHealth reports each dependency.
func (a *app) handleHealth(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	checks := map[string]any{}
	status, code := "pass", http.StatusOK
	if err := a.db.PingContext(ctx); err != nil {
		checks["database"] = map[string]string{"status": "fail"}
		status, code = "fail", http.StatusServiceUnavailable
	} else {
		checks["database"] = map[string]string{"status": "pass"}
	}
	if a.rdb != nil {
		if err := a.rdb.Ping(ctx).Err(); err != nil {
			checks["redis"] = map[string]string{"status": "fail"}
			status, code = "fail", http.StatusServiceUnavailable
		} else {
			checks["redis"] = map[string]string{"status": "pass"}
		}
	}
	if a.draining.Load() {
		status, code = "fail", http.StatusServiceUnavailable
	}
	writeHealth(w, code, map[string]any{"status": status, "checks": checks})
}

func writeHealth(w http.ResponseWriter, code int, body map[string]any) {
	b, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/health+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}
