package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/provenance"
	"github.com/countersign/countersign/internal/rest"
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
	// A reviewer's queue holds only the task types of their groups.
	p := principal(r)
	if f.TaskType != "" {
		if err := mayReview(h.taskTypes(), p, f.TaskType); err != nil {
			h.fail(w, r, err)
			return
		}
	} else if f.TaskTypes = h.reviewableBy(p); f.TaskTypes != nil && len(f.TaskTypes) == 0 {
		rest.WriteJSON(w, http.StatusOK, ReviewList{Reviews: []countersign.Review{}})
		return
	}
	page, err := h.Store.ListReviews(r.Context(), f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if page.Reviews == nil {
		page.Reviews = []countersign.Review{}
	}
	rest.WriteJSON(w, http.StatusOK, ReviewList{Reviews: page.Reviews, NextCursor: page.NextCursor})
}

// updateID makes a caller's Idempotency-Key into the update ID. Temporal
// deduplicates updates by ID alone, so the key is scoped to the caller and
// the review: the same key from someone else is a different request. With no
// key, every request is new.
func updateID(caller countersign.Principal, reviewID, key string) string {
	if key == "" {
		return newUpdateID("decision")
	}
	sum := sha256.Sum256([]byte(caller.User + "\x00" + reviewID + "\x00" + key))
	return "decision-" + hex.EncodeToString(sum[:16])
}

// decide sends the decision to the review's workflow through Decider.
func (h *handlers) decide(w http.ResponseWriter, r *http.Request) {
	req, err := parseDecision(http.MaxBytesReader(w, r.Body, h.MaxBodyBytes), h.inputLimits())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := Decider{Store: h.Store, Temporal: h.Temporal, TaskTypes: h.taskTypes(), Signer: h.Signer, Now: h.Now}
	resp, err := d.Decide(r.Context(), r.PathValue("id"), principal(r), channel(r), req, r.Header.Get("Idempotency-Key"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rest.WriteJSON(w, http.StatusOK, resp)
}

// Decider sends a person's decision on a review to the review's workflow as
// a DecisionUpdate. Every channel decides through it (REST, the web page), so
// the workflow's validator has the last word on each: a decision it refuses
// never enters history, and its refusal comes back with its code (403, 409
// or 422).
type Decider struct {
	Store    countersign.Store
	Temporal client.Client
	// TaskTypes, when set, holds reviewers to the review groups of the
	// review's task type.
	TaskTypes TaskTypeLookup
	// Signer signs each decision for the workflow's validator, which
	// refuses any it cannot verify.
	Signer *provenance.Signer
	// Now is the clock of the signatures (default time.Now).
	Now func() time.Time
}

func (d Decider) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// Decide decides the review with the given ID for caller, who came through
// ch. A caller's idempotency key, when not empty, makes a retry of the same
// decision answer the decision as recorded (see updateID). Errors are coded:
// 404 for an unknown review, 409 for a closed one or a reused key, and the
// validator's refusals with their codes.
func (d Decider) Decide(ctx context.Context, reviewID string, caller countersign.Principal, ch countersign.Channel, req DecisionRequest, key string) (*DecisionResponse, error) {
	review, err := d.Store.GetReview(ctx, reviewID)
	if err != nil {
		return nil, err
	}
	if err := mayReview(d.TaskTypes, caller, review.TaskType); err != nil {
		return nil, err
	}
	if review.Status == countersign.ReviewClosed {
		if key != "" {
			if replay := d.replay(ctx, review, caller, req.Action); replay != nil {
				return replay, nil
			}
		}
		if review.Outcome == "" {
			// Closed with no decision: timed out, disputed, or its document failed.
			return nil, countersign.Errorf(countersign.CodeConflict, "review %s is already closed without a decision (timed out, sent to adjudication, or its document failed): the document's trail says which", review.ID)
		}
		return nil, countersign.Errorf(countersign.CodeConflict, "review %s is already closed: %s decided %s", review.ID, review.ClosedBy, review.Outcome)
	}
	update := workflows.DecisionRequest{
		ReviewID: review.ID,
		Action:   req.Action,
		Fields:   req.Fields,
		Reason:   req.Reason,
		Approves: req.Approves,
		Actor:    caller,
		Channel:  ch,
	}
	id := updateID(caller, review.ID, key)
	claims, err := update.Claims(review.DocumentID, id)
	if update.Provenance, err = attest(d.Signer, claims, err, d.now()); err != nil {
		return nil, err
	}
	handle, err := d.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		UpdateID:     id,
		WorkflowID:   workflows.ReviewWorkflowID(review.DocumentID),
		UpdateName:   workflows.DecisionUpdate,
		Args:         []any{update},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		if isNotFound(err) {
			closeIfAbandoned(ctx, d.Store, d.Temporal, review.DocumentID)
		}
		return nil, temporalError(err, "decision on review "+review.ID)
	}
	var result workflows.DecisionResult
	if err := handle.Get(ctx, &result); err != nil {
		return nil, temporalError(err, "decision on review "+review.ID)
	}
	if result.Decision.Actor != caller.User || result.Decision.Action != req.Action {
		return nil, countersign.Errorf(countersign.CodeConflict,
			"Idempotency-Key was already used on review %s for another decision (%s by %s)", review.ID, result.Decision.Action, result.Decision.Actor)
	}
	return &DecisionResponse{
		Decision: result.Decision,
		Document: DocumentStatus{ID: review.DocumentID, Status: result.Status},
	}, nil
}

// replay is the answer to a retried request (same caller, same action, with
// an idempotency key) on a review it already closed: the decision as
// recorded, as the first answer was. It is nil when there is none.
func (d Decider) replay(ctx context.Context, review *countersign.Review, caller countersign.Principal, action countersign.Action) *DecisionResponse {
	decisions, err := d.Store.Decisions(ctx, review.DocumentID)
	if err != nil {
		return nil
	}
	for _, dec := range decisions {
		if dec.ReviewID != review.ID || dec.Actor != caller.User || dec.Action != action {
			continue
		}
		doc, err := d.Store.GetDocument(ctx, review.DocumentID)
		if err != nil {
			return nil
		}
		return &DecisionResponse{Decision: dec, Document: DocumentStatus{ID: doc.ID, Status: doc.Status}}
	}
	return nil
}
