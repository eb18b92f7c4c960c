package api

import (
	"net/http"
	"strconv"

	"go.temporal.io/sdk/client"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/workflows"
)

func (h *handlers) listReviews(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := countersign.ReviewFilter{TaskType: q.Get("task_type"), Cursor: q.Get("cursor")}
	switch status := q.Get("status"); status {
	case "", string(countersign.ReviewPending):
		f.Status = countersign.ReviewPending
	case string(countersign.ReviewClosed):
		f.Status = countersign.ReviewClosed
	case "all":
	default:
		h.fail(w, r, countersign.Errorf(countersign.CodeBadRequest, "unknown status %q: use pending, closed or all", status))
		return
	}
	if limit := q.Get("limit"); limit != "" {
		n, err := strconv.Atoi(limit)
		if err != nil || n < 1 {
			h.fail(w, r, countersign.Errorf(countersign.CodeBadRequest, "limit must be a positive whole number, not %q", limit))
			return
		}
		f.Limit = n
	}
	page, err := h.Store.ListReviews(r.Context(), f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if page.Reviews == nil {
		page.Reviews = []countersign.Review{}
	}
	writeJSON(w, http.StatusOK, ReviewList{Reviews: page.Reviews, NextCursor: page.NextCursor})
}

// decide sends the decision to the review's workflow as an update. The
// workflow's validator has the last word: a decision it refuses never enters
// history, and its refusal comes back with its code (403, 409 or 422).
func (h *handlers) decide(w http.ResponseWriter, r *http.Request) {
	var req DecisionRequest
	if err := h.decodeBody(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	review, err := h.Store.GetReview(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if review.Status == countersign.ReviewClosed {
		h.fail(w, r, countersign.Errorf(countersign.CodeConflict, "review %s is already closed: %s decided %s", review.ID, review.ClosedBy, review.Outcome))
		return
	}
	handle, err := h.Temporal.UpdateWorkflow(r.Context(), client.UpdateWorkflowOptions{
		UpdateID:   r.Header.Get("Idempotency-Key"),
		WorkflowID: workflows.ReviewWorkflowID(review.DocumentID),
		UpdateName: workflows.DecisionUpdate,
		Args: []any{workflows.DecisionRequest{
			ReviewID: review.ID,
			Action:   req.Action,
			Fields:   req.Fields,
			Reason:   req.Reason,
			Actor:    principal(r),
			Channel:  channel(r),
		}},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		h.fail(w, r, temporalError(err, "decision on review "+review.ID))
		return
	}
	var result workflows.DecisionResult
	if err := handle.Get(r.Context(), &result); err != nil {
		h.fail(w, r, temporalError(err, "decision on review "+review.ID))
		return
	}
	writeJSON(w, http.StatusOK, DecisionResponse{
		Decision: result.Decision,
		Document: DocumentStatus{ID: review.DocumentID, Status: result.Status},
	})
}
