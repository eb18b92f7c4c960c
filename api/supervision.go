package api

import (
	"net/http"

	"github.com/countersign/countersign/internal/dispatch"
	"github.com/countersign/countersign/internal/rest"
)

// veto overrides an auto-accepted document within its veto window, through
// the review workflow's veto update and its validator.
func (h *handlers) veto(w http.ResponseWriter, r *http.Request) {
	var req VetoRequest
	if err := h.decodeBody(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.inputLimits().check(req.Fields, req.Reason); err != nil {
		h.fail(w, r, err)
		return
	}
	decided, err := h.Dispatch.Veto(r.Context(), r.PathValue("id"), principal(r), channel(r), dispatch.Veto{Action: req.Action, Fields: req.Fields, Reason: req.Reason})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rest.WriteJSON(w, http.StatusOK, decisionResponse(decided))
}

// resetPolicy lifts a supervisor's tightening of a task type's policy.
func (h *handlers) resetPolicy(w http.ResponseWriter, r *http.Request) {
	var req ResetRequest
	if err := h.decodeBody(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.inputLimits().sizes.Check(nil, req.Reason); err != nil {
		h.fail(w, r, err)
		return
	}
	o, err := h.Dispatch.ResetPolicy(r.Context(), req.TaskType, principal(r), channel(r), req.Reason)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rest.WriteJSON(w, http.StatusOK, map[string]any{"override": o})
}
