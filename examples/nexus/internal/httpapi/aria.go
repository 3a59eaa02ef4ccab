package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/nexus-reussite/harden/examples/nexus/internal/aria"
	"github.com/nexus-reussite/harden/examples/nexus/internal/domain"
)

// ARIA sends the last exchanges of a user with each question.
const ariaContext = 5

// releaseTimeout bounds giving back an ARIA quota unit after a failed question.
const releaseTimeout = 5 * time.Second

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
	// The unit is taken before the paid upstream call, so concurrent questions never
	// make more calls than the quota allows; a call that fails gives it back.
	ok, err := a.db.ReserveAria(ctx, p.UserID, now)
	if err != nil {
		return err
	}
	if !ok {
		return domain.AriaQuotaExceeded(a.cfg.Quotas.AriaDaily, now)
	}
	answer, err := a.askAria(ctx, p.UserID, q)
	if err != nil {
		// The client may be gone: give the unit back on a context of its own.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
		defer cancel()
		if rerr := a.db.ReleaseAria(rctx, p.UserID, now); rerr != nil {
			a.log.ErrorContext(ctx, "aria quota release", "err", rerr)
		}
		return err
	}
	it := domain.Interaction{Question: q, Answer: answer, Model: a.aria.Model(), CreatedAt: time.Unix(now.Unix(), 0).UTC()}
	if err := a.db.AddInteraction(ctx, p.UserID, &it); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, it)
	return nil
}

// askAria sends the question with the user's last exchanges and returns the answer.
func (a *API) askAria(ctx context.Context, userID int64, q string) (string, error) {
	history, err := a.db.AriaHistory(ctx, userID, ariaContext)
	if err != nil {
		return "", err
	}
	answer, err := a.aria.Complete(ctx, aria.Conversation(history, q))
	if err != nil {
		a.log.WarnContext(ctx, "aria upstream", "err", err)
		return "", &httpError{status: http.StatusBadGateway, msg: "the assistant is unavailable right now"}
	}
	return answer, nil
}

func (a *API) handleAriaHistory(w http.ResponseWriter, r *http.Request, p *domain.Principal) error {
	items, err := a.db.AriaHistory(r.Context(), p.UserID, 50)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"interactions": items})
	return nil
}
