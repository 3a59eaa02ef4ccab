package httpapi

import (
	"bytes"
	_ "embed"
	"html/template"
	"net/http"
	"strconv"

	"github.com/nexus-reussite/harden/security"

	"github.com/nexus-reussite/harden/examples/nexus/internal/auth"
	"github.com/nexus-reussite/harden/examples/nexus/internal/domain"
	"github.com/nexus-reussite/harden/examples/nexus/internal/store"
)

//go:embed web/index.html
var indexHTML string

var indexTemplate = template.Must(template.New("index").Parse(indexHTML))

// handleIndex serves the small HTML client: a login form and the formulas list. Its one
// script and one style element carry the request's CSP nonce.
func (a *API) handleIndex(w http.ResponseWriter, r *http.Request) error {
	var buf bytes.Buffer
	if err := indexTemplate.Execute(&buf, struct{ Nonce string }{security.Nonce(r.Context())}); err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
	return nil
}

// handleConfig answers the public feature flags a client needs; never a secret.
func (a *API) handleConfig(w http.ResponseWriter, _ *http.Request) error {
	dialect := "sqlite"
	if a.db.Driver() == store.Postgres {
		dialect = "postgresql"
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"environment": a.cfg.Env,
		"features": map[string]bool{
			"aria":            a.aria.Configured(),
			"shared_state":    a.rdb != nil,
			"error_reporting": a.cfg.SentryDSN != "",
			"registration":    true,
		},
		"database":           dialect,
		"registration_roles": domain.RegistrationRoles,
		"grade_levels":       domain.GradeLevels,
		"booking_formats":    domain.BookingFormats,
		"group_capacity":     domain.GroupCapacity,
		"currency":           domain.Currency,
		"token_lifetimes":    map[string]int{"access_seconds": int(auth.AccessTTL.Seconds()), "refresh_seconds": int(auth.RefreshTTL.Seconds())},
	})
	return nil
}
