package activities

import (
	"context"

	"github.com/countersign/countersign"
)

// OpenReviewInput is a review the workflow opens for a person.
type OpenReviewInput struct {
	Step   Step                `json:"step"`
	Review *countersign.Review `json:"review"`
	// Adjudicates names the disputed review this one settles, decided by
	// the Adjudicator role.
	Adjudicates string           `json:"adjudicates,omitempty"`
	Adjudicator countersign.Role `json:"adjudicator,omitempty"`
}

// OpenReview puts the review in the queue, marks the document as awaiting
// review and records it.
func (a *Activities) OpenReview(ctx context.Context, in OpenReviewInput) error {
	if err := a.Store.OpenReview(ctx, in.Review); err != nil {
		return retryable(err)
	}
	data := map[string]any{
		"review_id":  in.Review.ID,
		"due_at":     in.Review.DueAt,
		"confidence": in.Review.Confidence,
		"reasons":    in.Review.Reasons,
	}
	if in.Adjudicates != "" {
		data["adjudicates"], data["adjudicator"] = in.Adjudicates, in.Adjudicator
	}
	// An audit or a veto concerns a document that is already accepted; only
	// the human gate holds a document back.
	if kind := in.Review.Kind; kind != "" && kind != countersign.ReviewGate {
		data["kind"] = kind
	} else {
		status := countersign.StatusAwaitingReview
		if err := a.Store.UpdateDocument(ctx, in.Step.DocumentID, countersign.DocumentUpdate{Status: &status}); err != nil {
			return retryable(err)
		}
	}
	a.logger().Info("review opened", "review", in.Review.ID, "kind", in.Review.Kind, "task_type", in.Review.TaskType, "confidence", in.Review.Confidence)
	return a.record(ctx, in.Step, countersign.EventReviewOpened, countersign.SystemActor, countersign.ChannelWorkflow, data)
}

// DecisionInput is a decision the workflow accepted.
type DecisionInput struct {
	Step     Step                  `json:"step"`
	Decision *countersign.Decision `json:"decision"`
	// KeepOpen leaves the review open: more people must decide it.
	KeepOpen bool `json:"keep_open,omitempty"`
	// Tally counts, when the policy asks for more than one person, the
	// agreeing decisions with this one.
	Tally *Tally `json:"tally,omitempty"`
}

// Tally is how many people agree on a review so far, of how many needed.
type Tally struct {
	Agreed   int `json:"agreed"`
	Required int `json:"required"`
}

// RecordDecision stores the decision, closes its review unless it waits for
// more decisions, and records who decided what, through which channel.
func (a *Activities) RecordDecision(ctx context.Context, in DecisionInput) error {
	d := in.Decision
	if err := a.Store.RecordDecision(ctx, d, !in.KeepOpen); err != nil {
		return retryable(err)
	}
	data := map[string]any{
		"review_id":   d.ReviewID,
		"decision_id": d.ID,
		"action":      d.Action,
		"fields":      d.Fields,
		"reason":      d.Reason,
		"role":        d.Role,
		"at":          d.At,
	}
	if in.Tally != nil {
		data["approvals"] = in.Tally
	}
	err := a.record(ctx, in.Step, countersign.EventDecisionRecorded, d.Actor, d.Channel, data)
	if err == nil && a.Metrics != nil {
		// How long the review waited is worth a read, but not a retry.
		if r, err := a.Store.GetReview(ctx, d.ReviewID); err == nil {
			a.Metrics.Decided(ctx, r.TaskType, r.Kind, d.Action, d.At.Sub(r.CreatedAt))
		}
	}
	return err
}
