package api

import (
	"net/http"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/audit"
)

func (h *handlers) documentAudit(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := h.Store.GetDocument(r.Context(), id); err != nil {
		h.fail(w, r, err)
		return
	}
	events, err := h.Store.DocumentAudit(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if events == nil {
		events = []countersign.AuditEvent{}
	}
	writeJSON(w, http.StatusOK, AuditEvents{Events: events})
}

// verifyAudit recomputes the whole chain. It answers 200 either way: "ok"
// says whether the chain holds, and "broken" names the first bad event.
func (h *handlers) verifyAudit(w http.ResponseWriter, r *http.Request) {
	report, err := audit.Verify(r.Context(), h.Store)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, report)
}
