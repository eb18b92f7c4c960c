package api

import (
	"errors"
	"net/http"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/rest"
	"github.com/countersign/countersign/workflows"
)

// VetoRequest is the body of POST /v1/documents/{id}/veto.
type VetoRequest struct {
	Action countersign.Action `json:"action"`
	Fields countersign.Fields `json:"fields,omitempty"`
	Reason string             `json:"reason,omitempty"`
}

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
	doc, err := h.Store.GetDocument(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	update := workflows.VetoRequest{Action: req.Action, Fields: req.Fields, Reason: req.Reason, Actor: principal(r), Channel: channel(r)}
	id := newUpdateID("veto")
	claims, err := update.Claims(doc.ID, id)
	if update.Provenance, err = attest(h.Signer, claims, err, h.Now()); err != nil {
		h.fail(w, r, err)
		return
	}
	handle, err := h.Temporal.UpdateWorkflow(r.Context(), client.UpdateWorkflowOptions{
		UpdateID:     id,
		WorkflowID:   workflows.ReviewWorkflowID(doc.ID),
		UpdateName:   workflows.VetoUpdate,
		Args:         []any{update},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		var result workflows.DecisionResult
		if err = handle.Get(r.Context(), &result); err == nil {
			rest.WriteJSON(w, http.StatusOK, DecisionResponse{Decision: result.Decision, Document: DocumentStatus{ID: doc.ID, Status: result.Status}})
			return
		}
	}
	if isNotFound(err) {
		closeIfAbandoned(r.Context(), h.Store, h.Temporal, doc.ID)
		err = countersign.Errorf(countersign.CodeConflict, "document %s is %s and its review has ended: the veto window is closed; only an audit can correct it now", doc.ID, doc.Status)
	}
	h.fail(w, r, temporalError(err, "veto of document "+doc.ID))
}

// ResetRequest is the body of POST /v1/policy/reset.
type ResetRequest struct {
	TaskType string `json:"task_type"`
	Reason   string `json:"reason"`
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
	if _, err := h.Starter.TaskTypes.Get(req.TaskType); err != nil {
		h.fail(w, r, err)
		return
	}
	update := workflows.ResetRequest{Reason: req.Reason, Actor: principal(r), Channel: channel(r)}
	id := newUpdateID("reset")
	claims, err := update.Claims(req.TaskType, id)
	if update.Provenance, err = attest(h.Signer, claims, err, h.Now()); err != nil {
		h.fail(w, r, err)
		return
	}
	handle, err := h.Temporal.UpdateWorkflow(r.Context(), client.UpdateWorkflowOptions{
		UpdateID:     id,
		WorkflowID:   workflows.SupervisorWorkflowID(req.TaskType),
		UpdateName:   workflows.ResetUpdate,
		Args:         []any{update},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	var o countersign.PolicyOverride
	if err == nil {
		err = handle.Get(r.Context(), &o)
	}
	if isNotFound(err) {
		err = countersign.Errorf(countersign.CodeConflict, "the policy of %s is not tightened: no audit has reached its supervisor yet", req.TaskType)
	}
	if err != nil {
		h.fail(w, r, temporalError(err, "reset of the policy of "+req.TaskType))
		return
	}
	rest.WriteJSON(w, http.StatusOK, map[string]any{"override": o})
}

// isNotFound reports whether Temporal has no such workflow running.
func isNotFound(err error) bool {
	var nf *serviceerror.NotFound
	return errors.As(err, &nf)
}
