package httpapi

import (
	"net/http"

	"github.com/nexus-reussite/harden/examples/nexus/internal/domain"
)

func (a *API) handleFormulas(w http.ResponseWriter, r *http.Request) error {
	fs, err := a.db.Formulas(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"formulas": fs, "count": len(fs)})
	return nil
}

func (a *API) handleFormula(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	f, err := a.db.Formula(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, f)
	return nil
}

// handleUpdateFormula replaces a formula (admin) and invalidates its cached responses.
func (a *API) handleUpdateFormula(w http.ResponseWriter, r *http.Request, _ *domain.Principal) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var f domain.Formula
	if err := decodeJSON(w, r, &f); err != nil {
		return err
	}
	if f.ID != 0 && f.ID != id {
		return domain.Invalid("id in the body differs from the URL")
	}
	f.ID = id
	if err := domain.ValidateFormula(&f); err != nil {
		return err
	}
	if err := a.db.UpdateFormula(r.Context(), &f, a.now()); err != nil {
		return err
	}
	if err := a.invalidateTags(r.Context(), tagFormulas); err != nil {
		a.log.ErrorContext(r.Context(), "formula cache invalidation", "err", err)
		return unavailable("formula saved but cached copies could not be invalidated; retry")
	}
	f.Currency = domain.Currency
	writeJSON(w, http.StatusOK, f)
	return nil
}
