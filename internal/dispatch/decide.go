package dispatch

import (
	"context"
	"errors"
	"strings"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/workflows"
)

// Decision is what a person decided on a review, from any channel.
type Decision struct {
	Action countersign.Action
	// Fields are a correction's changed fields, nil for one removed.
	Fields countersign.Fields
	Reason string
	// Approves, on an approval of a review someone corrected, names that
	// correction (its decision ID): an approval stands only for what its
	// author saw.
	Approves string
}

// Decided is a decision or veto as the workflow recorded it, and where its
// document stands after it.
type Decided struct {
	Decision   countersign.Decision
	DocumentID string
	Status     countersign.Status
}

// Decide sends caller's decision on the review with the given ID, made
// through ch, to the review's workflow as a DecisionUpdate. Every channel
// decides through it (REST, the web page, Slack), so the workflow's
// validator has the last word on each: a decision it refuses never enters
// history, and its refusal comes back with its code (403, 409 or 422).
//
// A caller's idempotency key, when not empty, makes a retry of the same
// decision answer the decision as recorded. Errors are coded: 404 for an
// unknown review, 403 for a reviewer outside its task type's review groups,
// 409 for a closed review or a reused key, and the validator's refusals
// with their codes.
func (d *Dispatcher) Decide(ctx context.Context, reviewID string, caller countersign.Principal, ch countersign.Channel, dec Decision, key string) (*Decided, error) {
	review, err := d.Store.GetReview(ctx, reviewID)
	if err != nil {
		return nil, d.notAReview(ctx, reviewID, caller, err)
	}
	if err := d.MayReview(caller, review.TaskType); err != nil {
		return nil, err
	}
	if review.Status == countersign.ReviewClosed {
		if key != "" {
			if replay := d.replay(ctx, review, caller, dec.Action); replay != nil {
				return replay, nil
			}
		}
		if review.Outcome == "" {
			// Closed with no decision: timed out, disputed, or its document failed.
			return nil, countersign.Errorf(countersign.CodeConflict, "review %s is already closed without a decision (timed out, sent to adjudication, or its document failed): the document's trail says which", review.ID)
		}
		return nil, countersign.Errorf(countersign.CodeConflict, "review %s is already closed: %s decided %s", review.ID, review.ClosedBy, review.Outcome)
	}
	holder := review.Holder(d.now())
	if holder != "" && holder != caller.User && !d.decided(ctx, review, caller) {
		return nil, heldBy(review, holder)
	}
	if err := d.checkComparison(ctx, nil, review.DocumentID, dec.Action, dec.Fields, dec.Approves); err != nil {
		return nil, err
	}
	update := workflows.DecisionRequest{
		ReviewID: review.ID,
		Action:   dec.Action,
		Fields:   dec.Fields,
		Reason:   dec.Reason,
		Approves: dec.Approves,
		Actor:    caller,
		Channel:  ch,
	}
	id := decisionUpdateID(caller, review.ID, key)
	claims, err := update.Claims(review.DocumentID, id)
	if update.Provenance, err = d.attest(claims, err); err != nil {
		return nil, err
	}
	var result workflows.DecisionResult
	if err := d.update(ctx, workflows.ReviewWorkflowID(review.DocumentID), workflows.DecisionUpdate, id, update, &result); err != nil {
		if isNotFound(err) {
			d.closeIfAbandoned(ctx, review.DocumentID)
		}
		return nil, temporalError(err, "decision on review "+review.ID)
	}
	if result.Decision.Actor != caller.User || result.Decision.Action != dec.Action {
		return nil, countersign.Errorf(countersign.CodeConflict,
			"Idempotency-Key was already used on review %s for another decision (%s by %s)", review.ID, result.Decision.Action, result.Decision.Actor)
	}
	if holder == caller.User && !result.Status.Final() {
		// The review stays open for more people (approvals): the decider's
		// claim ends with their decision, which records it, so that the
		// next person may take it.
		// Failing that, the lease lapses: the decision stands either way.
		_, _ = d.Store.ReleaseClaim(ctx, review.ID, caller.User)
	}
	return &Decided{Decision: result.Decision, DocumentID: review.DocumentID, Status: result.Status}, nil
}

// decided reports whether caller has a decision on review already: a
// retry of it (a lost answer) goes to the workflow, which answers it as
// recorded, whoever holds the review since.
func (d *Dispatcher) decided(ctx context.Context, review *countersign.Review, caller countersign.Principal) bool {
	decisions, err := d.Store.Decisions(ctx, review.DocumentID)
	return err == nil && decisionOf(decisions, review.ID, caller.User) != nil
}

// replay is the answer to a retried request (same caller, same action, with
// an idempotency key) on a review it already closed: the decision as
// recorded, as the first answer was. It is nil when there is none.
func (d *Dispatcher) replay(ctx context.Context, review *countersign.Review, caller countersign.Principal, action countersign.Action) *Decided {
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
		return &Decided{Decision: dec, DocumentID: doc.ID, Status: doc.Status}
	}
	return nil
}

// Review is the review with the given ID, for caller to see before they
// decide it: 404 for an unknown one (naming a document's reviews when the
// ID is a document's, as Decide does), 403 for a reviewer outside its task
// type's review groups.
func (d *Dispatcher) Review(ctx context.Context, reviewID string, caller countersign.Principal) (*countersign.Review, error) {
	review, err := d.Store.GetReview(ctx, reviewID)
	if err != nil {
		return nil, d.notAReview(ctx, reviewID, caller, err)
	}
	if err := d.MayReview(caller, review.TaskType); err != nil {
		return nil, err
	}
	return review, nil
}

// notAReview is the error for a review ID that names no review. A
// document's ID given for one of its reviews' is the usual slip, so when
// id is a document the caller may review, it names the document's reviews
// (the pending ones first); otherwise the store's error stands.
func (d *Dispatcher) notAReview(ctx context.Context, id string, caller countersign.Principal, err error) error {
	if !errors.Is(err, countersign.ErrNotFound) {
		return err
	}
	doc, docErr := d.Store.GetDocument(ctx, id)
	if docErr != nil || d.MayReview(caller, doc.TaskType) != nil {
		return err
	}
	reviews, revErr := d.Store.ReviewsForDocument(ctx, id)
	if revErr != nil || len(reviews) == 0 {
		return countersign.Errorf(countersign.CodeNotFound, "review %s not found: %s is a document (%s), which no person was asked to review", id, id, doc.Status)
	}
	var pending, closed []string
	for _, r := range reviews {
		if r.Status == countersign.ReviewPending {
			pending = append(pending, r.ID)
		} else {
			closed = append(closed, r.ID+" (closed)")
		}
	}
	return countersign.Errorf(countersign.CodeNotFound, "review %s not found: %s is a document; its reviews are %s", id, id, strings.Join(append(pending, closed...), ", "))
}
