package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/rest"
)

// healthz answers 200 while the process serves HTTP.
func (h *handlers) healthz(w http.ResponseWriter, r *http.Request) {
	rest.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// publicReason says why the service is not ready without naming hosts or
// users: the probe answers anyone.
func publicReason(err error) string {
	if errors.Is(err, countersign.ErrNoWorker) {
		return "no worker polls the review task queue"
	}
	return "a dependency (store or Temporal) does not answer; the server log says which"
}

// readyz answers 200 once the service can do its work: the store answers and
// a worker polls the review task queue.
func (h *handlers) readyz(w http.ResponseWriter, r *http.Request) {
	if h.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		if err := h.Ready(ctx); err != nil {
			h.fail(w, r, countersign.Conceal(countersign.CodeUnavailable, "not ready: "+publicReason(err), err))
			return
		}
	}
	rest.WriteJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
