package api

import (
	"net/http"

	"github.com/countersign/countersign/internal/dispatch"
	"github.com/countersign/countersign/internal/rest"
)

// EscalateRequest is the body of POST /v1/documents/{id}/escalate.
type EscalateRequest struct {
	Reason   string `json:"reason"`
	Severity int    `json:"severity,omitempty"`
}

// EscalateResponse answers POST /v1/documents/{id}/escalate: the audit
// event that records the escalation and how the incident target took it.
type EscalateResponse struct {
	DocumentID string           `json:"document_id"`
	EventID    string           `json:"event_id"`
	Incident   IncidentDelivery `json:"incident"`
}

// IncidentDelivery is how the incident.escalated webhook went.
type IncidentDelivery struct {
	// Configured is false when no webhook is configured: the escalation
	// is recorded, and nothing is sent.
	Configured bool   `json:"configured"`
	Delivered  bool   `json:"delivered"`
	Status     int    `json:"status,omitempty"`
	Error      string `json:"error,omitempty"`
	Message    string `json:"message"`
}

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
