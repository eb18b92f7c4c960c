package activities

import (
	"context"
	"time"

	"github.com/countersign/countersign"
)

// The human gate's own steps, beside opening a review and recording a
// decision (review.go): closing a review whose decisions disagree, and the
// SLA's timeout.

// DisputeInput closes a gate review whose decisions disagree and names the
// adjudication review that settles them.
type DisputeInput struct {
	Step     Step   `json:"step"`
	ReviewID string `json:"review_id"`
	// Decisions are the IDs of the decisions that disagree.
	Decisions []string `json:"decisions"`
	// Disagreement says who decided what, in words.
	Disagreement string           `json:"disagreement"`
	Adjudication string           `json:"adjudication"`
	Adjudicator  countersign.Role `json:"adjudicator"`
	At           time.Time        `json:"at"`
}

// Dispute takes the disputed review off the queue, without an outcome of its
// own, and records the disagreement.
func (a *Activities) Dispute(ctx context.Context, in DisputeInput) error {
	if err := a.Store.CloseReviews(ctx, in.Step.DocumentID, in.At, countersign.SystemActor); err != nil {
		return retryable(err)
	}
	a.logger().Info("review disputed", "review", in.ReviewID, "adjudication", in.Adjudication)
	return a.record(ctx, in.Step, countersign.EventReviewDisputed, countersign.SystemActor, countersign.ChannelWorkflow, map[string]any{
		"review_id":    in.ReviewID,
		"decisions":    in.Decisions,
		"disagreement": in.Disagreement,
		"adjudication": in.Adjudication,
		"adjudicator":  in.Adjudicator,
	})
}

// TimeoutInput is a review the SLA's timeout caught open.
type TimeoutInput struct {
	Step     Step                      `json:"step"`
	ReviewID string                    `json:"review_id"`
	After    time.Duration             `json:"after"`
	Action   countersign.TimeoutAction `json:"action"`
	// Approvals counts the agreeing decisions recorded before the timeout,
	// of Required, when the policy asks for more than one.
	Approvals int       `json:"approvals,omitempty"`
	Required  int       `json:"required,omitempty"`
	At        time.Time `json:"at"`
}

// TimeOut records that a review timed out and, when the action rejects,
// takes it off the queue; the workflow then finalizes the document. A held
// review stays in the queue.
func (a *Activities) TimeOut(ctx context.Context, in TimeoutInput) error {
	if in.Action == countersign.TimeoutReject {
		if err := a.Store.CloseReviews(ctx, in.Step.DocumentID, in.At, countersign.SystemActor); err != nil {
			return retryable(err)
		}
	}
	data := map[string]any{"review_id": in.ReviewID, "after": countersign.FormatDuration(in.After), "action": in.Action}
	if in.Required > 1 {
		data["approvals"] = map[string]int{"agreed": in.Approvals, "required": in.Required}
	}
	a.logger().Info("review timed out", "review", in.ReviewID, "after", in.After, "action", in.Action)
	return a.record(ctx, in.Step, countersign.EventReviewTimedOut, countersign.SystemActor, countersign.ChannelWorkflow, data)
}
