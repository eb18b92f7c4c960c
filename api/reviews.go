package api

import (
	"crypto/sha256"
	"encoding/hex"
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
	switch kind := countersign.ReviewKind(q.Get("kind")); kind {
	case "", countersign.ReviewGate, countersign.ReviewAudit:
		f.Kind = kind
	default:
		h.fail(w, r, countersign.Errorf(countersign.CodeBadRequest, "unknown kind %q: use review or audit", kind))
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

// replayDecision answers a retried request (same caller, same action, with
// an Idempotency-Key) on a review it already closed with the decision as
// recorded, as the first answer was. It reports whether it answered.
func (h *handlers) replayDecision(w http.ResponseWriter, r *http.Request, review *countersign.Review, caller countersign.Principal, action countersign.Action) bool {
	decisions, err := h.Store.Decisions(r.Context(), review.DocumentID)
	if err != nil {
		return false
	}
	for _, d := range decisions {
		if d.ReviewID != review.ID || d.Actor != caller.User || d.Action != action {
			continue
		}
		doc, err := h.Store.GetDocument(r.Context(), review.DocumentID)
		if err != nil {
			return false
		}
		writeJSON(w, http.StatusOK, DecisionResponse{Decision: d, Document: DocumentStatus{ID: doc.ID, Status: doc.Status}})
		return true
	}
	return false
}

// updateID makes a caller's Idempotency-Key into the update ID. Temporal
// deduplicates updates by ID alone, so the key is scoped to the caller and
// the review: the same key from someone else is a different request. With no
// key, every request is new.
func updateID(caller countersign.Principal, reviewID, key string) string {
	if key == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(caller.User + "\x00" + reviewID + "\x00" + key))
	return "decision-" + hex.EncodeToString(sum[:16])
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
	caller := principal(r)
	key := r.Header.Get("Idempotency-Key")
	if review.Status == countersign.ReviewClosed {
		if key != "" && h.replayDecision(w, r, review, caller, req.Action) {
			return
		}
		h.fail(w, r, countersign.Errorf(countersign.CodeConflict, "review %s is already closed: %s decided %s", review.ID, review.ClosedBy, review.Outcome))
		return
	}
	handle, err := h.Temporal.UpdateWorkflow(r.Context(), client.UpdateWorkflowOptions{
		UpdateID:   updateID(caller, review.ID, key),
		WorkflowID: workflows.ReviewWorkflowID(review.DocumentID),
		UpdateName: workflows.DecisionUpdate,
		Args: []any{workflows.DecisionRequest{
			ReviewID: review.ID,
			Action:   req.Action,
			Fields:   req.Fields,
			Reason:   req.Reason,
			Actor:    caller,
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
	if result.Decision.Actor != caller.User || result.Decision.Action != req.Action {
		h.fail(w, r, countersign.Errorf(countersign.CodeConflict,
			"Idempotency-Key was already used on review %s for another decision (%s by %s)", review.ID, result.Decision.Action, result.Decision.Actor))
		return
	}
	writeJSON(w, http.StatusOK, DecisionResponse{
		Decision: result.Decision,
		Document: DocumentStatus{ID: review.DocumentID, Status: result.Status},
	})
}
