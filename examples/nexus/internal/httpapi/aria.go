package httpapi

import (
	"net/http"
	"time"

	"github.com/nexus-reussite/harden/examples/nexus/internal/aria"
	"github.com/nexus-reussite/harden/examples/nexus/internal/domain"
)

// ARIA sends the last exchanges of a user with each question.
const ariaContext = 5

type ariaChatRequest struct {
	Message string `json:"message"`
}

// handleAriaChat asks ARIA a question, within the user's daily quota, and records the
// answer.
func (a *API) handleAriaChat(w http.ResponseWriter, r *http.Request, p *domain.Principal) error {
	if !a.aria.Configured() {
		return unavailable("assistant not configured")
	}
	var req ariaChatRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	q, err := domain.AriaQuestion(req.Message)
	if err != nil {
		return err
	}
	ctx := r.Context()
	now := a.now()
	asked, err := a.db.AriaQuestionsSince(ctx, p.UserID, now.Add(-domain.AriaQuotaWindow))
	if err != nil {
		return err
	}
	if err := domain.CheckAriaQuota(asked); err != nil {
		return err
	}
	history, err := a.db.AriaHistory(ctx, p.UserID, ariaContext)
	if err != nil {
		return err
	}
	answer, err := a.aria.Complete(ctx, aria.Conversation(history, q))
	if err != nil {
		a.log.WarnContext(ctx, "aria upstream", "err", err)
		return &httpError{status: http.StatusBadGateway, msg: "the assistant is unavailable right now"}
	}
	it := domain.Interaction{Question: q, Answer: answer, Model: a.aria.Model(), CreatedAt: time.Unix(now.Unix(), 0).UTC()}
	if err := a.db.AddInteraction(ctx, p.UserID, &it); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, it)
	return nil
}

func (a *API) handleAriaHistory(w http.ResponseWriter, r *http.Request, p *domain.Principal) error {
	items, err := a.db.AriaHistory(r.Context(), p.UserID, 50)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"interactions": items})
	return nil
}
