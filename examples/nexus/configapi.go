package main

import (
	"net/http"
)

// handleConfig answers the public feature flags a client needs; never a secret.
func (a *app) handleConfig(w http.ResponseWriter, _ *http.Request) error {
	dialect := "sqlite"
	if a.db.driver == "pgx" {
		dialect = "postgresql"
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"environment": a.cfg.Env,
		"features": map[string]bool{
			"aria":            a.aria.configured(),
			"shared_state":    a.rdb != nil,
			"error_reporting": a.cfg.SentryDSN != "",
			"registration":    true,
		},
		"database":           dialect,
		"registration_roles": []string{roleStudent, roleParent},
		"grade_levels":       gradeLevels,
		"booking_formats":    bookingFormats,
		"group_capacity":     groupCapacity,
		"currency":           "TND",
		"token_lifetimes":    map[string]int{"access_seconds": int(accessTTL.Seconds()), "refresh_seconds": int(refreshTTL.Seconds())},
	})
	return nil
}
