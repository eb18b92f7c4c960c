package activities

import (
	"context"
	"encoding/json"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/assign"
	"github.com/countersign/countersign/internal/audit"
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
	kind := in.Review.Kind
	if kind == "" {
		kind = countersign.ReviewGate
	}
	a.logger().Info("review opened", "review", in.Review.ID, "kind", kind, "task_type", in.Review.TaskType, "confidence", in.Review.Confidence)
	if err := a.record(ctx, in.Step, countersign.EventReviewOpened, countersign.SystemActor, countersign.ChannelWorkflow, data); err != nil {
		return err
	}
	return a.assign(ctx, in.Step, in.Review.ID, in.Adjudicator, false)
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
	if err == nil && in.KeepOpen {
		// Four eyes: whoever decided cannot give the next approval, so a
		// review assigned to them goes to someone else.
		err = a.assign(ctx, in.Step, d.ReviewID, "", true)
	}
	if err == nil && a.Metrics != nil {
		// How long the review waited is worth a read, but not a retry.
		if r, err := a.Store.GetReview(ctx, d.ReviewID); err == nil {
			a.Metrics.Decided(ctx, r.TaskType, r.Kind, d.Action, d.At.Sub(r.CreatedAt))
		}
	}
	return err
}

// assign assigns review reviewID by its task type's assignment, if it has
// one: as the review opens (decided false), or, when someone decided it
// and more people must (decided true), away from an assignee who decided
// it. It records the assignment (review.assigned) under an ID made from
// the step's before it stores it, and stores whom the recorded event
// names, so a retried step keeps the assignee its first run picked.
// What keeps a review from being assigned (no task type version, nobody
// eligible) leaves it unassigned, open to every reviewer, rather than
// failing the document; only the store's errors are retried.
func (a *Activities) assign(ctx context.Context, step Step, reviewID string, adjudicator countersign.Role, decided bool) error {
	err := a.assignOnce(ctx, step, reviewID, adjudicator, decided)
	switch countersign.ErrorCode(err) {
	case countersign.CodeNotFound, countersign.CodeInvalid, countersign.CodeConflict, countersign.CodeForbidden:
		a.logger().Warn("review not assigned", "review", reviewID, "error", err)
		return nil
	}
	return err
}

func (a *Activities) assignOnce(ctx context.Context, step Step, reviewID string, adjudicator countersign.Role, decided bool) error {
	if a.TaskTypes == nil {
		return nil
	}
	tt, err := a.TaskTypes.Version(ctx, step.TaskTypeVersion)
	if err != nil {
		// The steps before this one read the same version; what they did
		// not stop at is not worth failing the review for here.
		a.logger().Warn("review not assigned: no task type version", "review", reviewID, "version", step.TaskTypeVersion, "error", err)
		return nil
	}
	if tt.Assignment == nil {
		return nil
	}
	review, err := a.Store.GetReview(ctx, reviewID)
	if err != nil || review.Status != countersign.ReviewPending {
		return err
	}
	doc, err := a.Store.GetDocument(ctx, review.DocumentID)
	if err != nil {
		return err
	}
	decisions, err := a.Store.Decisions(ctx, review.DocumentID)
	if err != nil {
		return err
	}
	previous := review.AssignedTo
	switch {
	case !decided && previous != "":
		return nil // assigned already, by this step's first run or by an approver
	case decided && (previous == "" || !decidedBy(decisions, previous)):
		return nil // its assignee has yet to decide
	}
	people, err := assign.Directory(ctx, a.Store, a.now())
	if err != nil {
		return err
	}
	c := assign.Case{Review: review, Document: doc, Decisions: decisions, Groups: tt.ReviewGroups, Adjudicator: adjudicator}
	choice, ok, err := assign.Pick(ctx, a.Store, people, tt.Name, tt.Assignment, c)
	if err != nil {
		return err
	}
	if !ok && previous == "" {
		a.logger().Info("review left unassigned: nobody eligible", "review", reviewID, "task_type", tt.Name)
		return nil
	}
	// Nobody else eligible after its assignee decided: it goes back to
	// everyone (To "") rather than stay with someone who cannot take it.
	data := map[string]any{"review_id": review.ID, "to": choice.To, "strategy": choice.Strategy}
	if previous != "" {
		data["previous"] = previous
	}
	if choice.Rule != nil {
		data["rule"] = *choice.Rule
	}
	if choice.Turn != nil {
		data["turn"] = *choice.Turn
	}
	if choice.Load != nil {
		data["load"] = *choice.Load
	}
	raw, err := audit.Canonical(data)
	if err != nil {
		return err
	}
	stored, err := a.Store.AppendAudit(ctx, countersign.AuditEvent{
		ID: step.EventID + "/assigned", DocumentID: review.DocumentID, Type: countersign.EventReviewAssigned,
		Actor: countersign.SystemActor, Channel: countersign.ChannelWorkflow, At: a.now(), Data: raw, TraceID: traceID(ctx),
	})
	if err != nil {
		return err
	}
	var recorded struct {
		To string `json:"to"`
	}
	if err := json.Unmarshal(stored.Data, &recorded); err != nil {
		return err
	}
	_, err = a.Store.AssignReview(ctx, countersign.Assign{ReviewID: review.ID, To: recorded.To, Previous: previous})
	if err == nil {
		a.logger().Info("review assigned", "review", review.ID, "to", recorded.To, "strategy", choice.Strategy)
	}
	return err
}

// decidedBy reports whether user decided any of decisions.
func decidedBy(decisions []countersign.Decision, user string) bool {
	for _, x := range decisions {
		if x.Actor == user {
			return true
		}
	}
	return false
}
