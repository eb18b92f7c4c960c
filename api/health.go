package api

import (
	"context"
	"net/http"
	"time"

	"github.com/countersign/countersign"
)

// healthz answers 200 while the process serves HTTP.
func (h *handlers) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 once the service can do its work: the store answers and
// a worker polls the review task queue.
func (h *handlers) readyz(w http.ResponseWriter, r *http.Request) {
	if h.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		if err := h.Ready(ctx); err != nil {
			writeError(w, countersign.Errorf(countersign.CodeUnavailable, "not ready: %v", err))
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
