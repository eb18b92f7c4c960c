package api

import (
	"net/http"

	"github.com/countersign/countersign/internal/dispatch"
	"github.com/countersign/countersign/internal/rest"
)

// escalate records a person's escalation of a document to an incident and
// sends it to the configured incident target (see dispatch.Dispatcher.Escalate).
func (h *handlers) escalate(w http.ResponseWriter, r *http.Request) {
	var req EscalateRequest
	if err := h.decodeBody(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.inputLimits().check(nil, req.Reason); err != nil {
		h.fail(w, r, err)
		return
	}
	id := r.PathValue("id")
	out, err := h.Dispatch.Escalate(r.Context(), id, principal(r), channel(r),
		dispatch.Escalation{Reason: req.Reason, Severity: req.Severity}, r.Header.Get("Idempotency-Key"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	inc := IncidentDelivery{Configured: out.Incident.Configured, Delivered: out.Incident.Delivered, Status: out.Incident.Status, Error: out.Incident.Error}
	switch {
	case !inc.Configured:
		inc.Message = "recorded; no incident target is configured (--webhook-url), so nothing was sent"
	case inc.Delivered:
		inc.Message = "recorded and sent to the incident target"
	default:
		inc.Message = "recorded, but the incident target did not take it: " + inc.Error
	}
	rest.WriteJSON(w, http.StatusOK, EscalateResponse{DocumentID: id, EventID: out.EventID, Incident: inc})
}
