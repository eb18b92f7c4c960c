package dispatch

import (
	"context"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/assign"
)

// Assign assigns review reviewID to the person to, for an approver or
// admin: a review assigned to someone away, or to be worked by someone
// else. The person must be able to decide it (a live API token with a
// role that decides, of the task type's review groups; not the
// submitter, not someone who decided it, the adjudicator's role on an
// adjudication): otherwise 422, saying why. The assignment is recorded
// (review.assigned, with the previous assignee), so the review's
// history keeps every assignee. Assigning it to whom it is assigned to
// changes nothing.
func (d *Dispatcher) Assign(ctx context.Context, reviewID, to string, caller countersign.Principal, ch countersign.Channel) (*countersign.Review, error) {
	if !caller.Role.CanSupervise() {
		return nil, countersign.Errorf(countersign.CodeForbidden, "%s (role %s) may not assign reviews: the approver or admin role is needed", caller.User, caller.Role)
	}
	if to == "" {
		return nil, countersign.Errorf(countersign.CodeInvalid, "name the person to assign review %s to", reviewID)
	}
	review, err := d.Store.GetReview(ctx, reviewID)
	if err != nil {
		return nil, d.notAReview(ctx, reviewID, caller, err)
	}
	if review.Status != countersign.ReviewPending {
		return nil, countersign.Errorf(countersign.CodeConflict, "review %s is closed: there is nothing to assign", review.ID)
	}
	if review.AssignedTo == to {
		return review, nil
	}
	c, err := d.reviewCase(ctx, review)
	if err != nil {
		return nil, err
	}
	if d.TaskTypes != nil {
		if tt, err := d.TaskTypes.Get(review.TaskType); err == nil {
			c.Groups = tt.ReviewGroups
		}
	}
	people, err := assign.Directory(ctx, d.Store, d.now())
	if err != nil {
		return nil, err
	}
	if err := people.Refusal(to, c); err != nil {
		return nil, countersign.Errorf(countersign.CodeInvalid, "review %s cannot be assigned to %s, who could not decide it: %s", review.ID, to, err.Error())
	}
	assigned, err := d.Store.AssignReview(ctx, countersign.Assign{ReviewID: review.ID, To: to, Previous: review.AssignedTo})
	if err != nil {
		return nil, err
	}
	data := map[string]any{"review_id": review.ID, "to": to, "role": caller.Role}
	if review.AssignedTo != "" {
		data["previous"] = review.AssignedTo
	}
	if err := d.recordClaim(ctx, countersign.EventReviewAssigned, caller.User, ch, review, data); err != nil {
		// No assignment without its event: give it back.
		_, _ = d.Store.AssignReview(ctx, countersign.Assign{ReviewID: review.ID, To: review.AssignedTo, Previous: to})
		return nil, err
	}
	return assigned, nil
}

// assignedElsewhere refuses caller's claim of a review assigned to
// someone else while it is not due: it is theirs until then. Approvers
// and admins may claim it (they may reassign it as well), and anyone
// eligible once it is overdue.
func assignedElsewhere(r *countersign.Review, caller countersign.Principal, now time.Time) error {
	if r.AssignedTo == "" || r.AssignedTo == caller.User || caller.Role.CanSupervise() || !now.Before(r.DueAt) {
		return nil
	}
	return countersign.Errorf(countersign.CodeConflict,
		"review %s is assigned to %s until it is due at %s: they take it, or anyone once it is overdue; an approver may reassign it (countersign review assign %s USER)",
		r.ID, r.AssignedTo, r.DueAt.UTC().Format(time.RFC3339), r.ID)
}
