package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/assign"
	"github.com/countersign/countersign/internal/audit"
)

// nextRounds bounds how often Next reads the candidates again when others
// took every one it read before it could.
const nextRounds = 8

// nextCandidates is how many reviews Next tries from one read.
const nextCandidates = 8

// lease is how long a claim holds a review.
func (d *Dispatcher) lease() time.Duration {
	if d.ClaimLease > 0 {
		return d.ClaimLease
	}
	return countersign.DefaultClaimLease
}

// Claim holds review reviewID for caller for the claim lease, or renews
// the claim caller holds: until it lapses nobody else may decide it
// (Decide refuses them) or claim it. A review someone else holds is 409,
// naming them and until when; a closed one 409; a reviewer outside the
// task type's groups, or the person who submitted the document, 403.
// A new claim is recorded (review.claimed), and so is the lapse of the
// claim it takes over (review.claim_lapsed); a renewal is not.
func (d *Dispatcher) Claim(ctx context.Context, reviewID string, caller countersign.Principal, ch countersign.Channel) (*countersign.Review, error) {
	review, err := d.Store.GetReview(ctx, reviewID)
	if err != nil {
		return nil, d.notAReview(ctx, reviewID, caller, err)
	}
	if err := d.mayClaim(ctx, review, caller); err != nil {
		return nil, err
	}
	return d.claim(ctx, review, caller, ch)
}

// mayClaim refuses a claim the workflow would refuse the decision of: by a
// role that may not decide, a reviewer outside the groups, the submitter,
// someone who decided the review already, and, on an adjudication, someone
// without the adjudicator's role or who decided the document before
// (assign.Refusal).
func (d *Dispatcher) mayClaim(ctx context.Context, review *countersign.Review, caller countersign.Principal) error {
	if err := mayDecide(caller); err != nil {
		return err
	}
	if err := d.MayReview(caller, review.TaskType); err != nil {
		return err
	}
	c, err := d.reviewCase(ctx, review)
	if err != nil {
		return err
	}
	return assign.Refusal(caller, c)
}

// reviewCase reads what decides who may take review. The review groups
// are left out: MayReview holds reviewers to the task type's groups as
// configured now.
func (d *Dispatcher) reviewCase(ctx context.Context, review *countersign.Review) (assign.Case, error) {
	doc, err := d.Store.GetDocument(ctx, review.DocumentID)
	if err != nil {
		return assign.Case{}, err
	}
	decisions, err := d.Store.Decisions(ctx, review.DocumentID)
	if err != nil {
		return assign.Case{}, err
	}
	disputed, role, err := d.adjudication(ctx, review)
	if err != nil {
		return assign.Case{}, err
	}
	if disputed == "" {
		role = ""
	}
	return assign.Case{Review: review, Document: doc, Decisions: decisions, Adjudicator: role}, nil
}

// mayDecide refuses a caller whose role may not decide reviews, and so
// may not hold one either.
func mayDecide(caller countersign.Principal) error {
	if !caller.Role.CanDecide() {
		return countersign.Errorf(countersign.CodeForbidden, "%s (role %s) may not claim reviews: the reviewer, approver or admin role is needed", caller.User, caller.Role)
	}
	return nil
}

// decisionOf is user's decision on review reviewID among decisions, or nil
// (a person decides a review once).
func decisionOf(decisions []countersign.Decision, reviewID, user string) *countersign.Decision {
	for i := range decisions {
		if decisions[i].ReviewID == reviewID && decisions[i].Actor == user {
			return &decisions[i]
		}
	}
	return nil
}

// adjudication is, when review settles a disagreement, the review disputed
// and the role the policy leaves it to, as its review.opened event records
// them; "" when it settles none.
func (d *Dispatcher) adjudication(ctx context.Context, review *countersign.Review) (disputed string, role countersign.Role, err error) {
	events, err := d.Store.DocumentAudit(ctx, review.DocumentID)
	if err != nil {
		return "", "", err
	}
	for _, e := range events {
		if e.Type != countersign.EventReviewOpened {
			continue
		}
		var data struct {
			ReviewID    string           `json:"review_id"`
			Adjudicates string           `json:"adjudicates"`
			Adjudicator countersign.Role `json:"adjudicator"`
		}
		if json.Unmarshal(e.Data, &data) == nil && data.ReviewID == review.ID {
			return data.Adjudicates, data.Adjudicator, nil
		}
	}
	return "", "", nil
}

// claim takes review for caller, as read; see Claim.
func (d *Dispatcher) claim(ctx context.Context, review *countersign.Review, caller countersign.Principal, ch countersign.Channel) (*countersign.Review, error) {
	now := d.now()
	if review.Status != countersign.ReviewPending {
		return nil, countersign.Errorf(countersign.CodeConflict, "review %s is closed: there is nothing to claim", review.ID)
	}
	holder := review.Holder(now)
	if holder != "" && holder != caller.User {
		return nil, heldBy(review, holder)
	}
	if err := assignedElsewhere(review, caller, now); err != nil {
		return nil, err
	}
	claimed, err := d.Store.ClaimReview(ctx, countersign.Claim{
		ReviewID: review.ID, Person: caller.User, Previous: review.ClaimedBy, Now: now, Until: now.Add(d.lease()),
	})
	if errors.Is(err, countersign.ErrConflict) {
		// Taken, released or closed since it was read: say what it is now.
		if again, readErr := d.Store.GetReview(ctx, review.ID); readErr == nil {
			switch h := again.Holder(now); {
			case h == caller.User:
				return again, nil // their own click, twice
			case h != "":
				return nil, heldBy(again, h)
			}
		}
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	if holder == caller.User {
		return claimed, nil // renewed
	}
	if prev := review.ClaimedBy; prev != "" && prev != caller.User {
		err = d.recordLapse(ctx, review)
	}
	if err == nil {
		err = d.recordClaim(ctx, countersign.EventReviewClaimed, caller.User, ch, review, map[string]any{
			"review_id": review.ID, "role": caller.Role, "claimed_until": claimed.ClaimedUntil,
		})
	}
	if err != nil {
		// No claim without its event: give it back (if that fails too,
		// the lease lapses) and say it was not taken.
		_, _ = d.Store.ReleaseClaim(ctx, review.ID, caller.User)
		return nil, err
	}
	return claimed, nil
}

// Renew extends the claim caller holds on review reviewID by the claim
// lease: the web page keeps its viewer's claim while it is open. Unlike
// Claim it takes no claim: a review released, lapsed or closed meanwhile
// is 409, so an open page does not take back what an approver released.
func (d *Dispatcher) Renew(ctx context.Context, reviewID string, caller countersign.Principal) (*countersign.Review, error) {
	review, err := d.Store.GetReview(ctx, reviewID)
	if err != nil {
		return nil, d.notAReview(ctx, reviewID, caller, err)
	}
	now := d.now()
	if review.Holder(now) != caller.User {
		return nil, countersign.Errorf(countersign.CodeConflict, "%s no longer holds review %s: it was released, its claim lapsed, or it is closed; claim it again to go on with it", caller.User, review.ID)
	}
	return d.Store.ClaimReview(ctx, countersign.Claim{ReviewID: review.ID, Person: caller.User, Previous: caller.User, Now: now, Until: now.Add(d.lease())})
}

// heldBy is the refusal of a review holder holds.
func heldBy(r *countersign.Review, holder string) error {
	return countersign.Errorf(countersign.CodeConflict,
		"review %s is claimed by %s until %s: they decide it, or anyone once the claim lapses or an approver releases it (countersign review release %s)",
		r.ID, holder, r.ClaimedUntil.UTC().Format(time.RFC3339), r.ID)
}

// Release ends the claim on review reviewID: its holder's own, or, for an
// approver or admin, anyone's (a reviewer who left with it). A review
// nobody holds is 409; someone else's claim, for a reviewer, 403. The
// release is recorded (review.released).
func (d *Dispatcher) Release(ctx context.Context, reviewID string, caller countersign.Principal, ch countersign.Channel) (*countersign.Review, error) {
	review, err := d.Store.GetReview(ctx, reviewID)
	if err != nil {
		return nil, d.notAReview(ctx, reviewID, caller, err)
	}
	if err := d.MayReview(caller, review.TaskType); err != nil {
		return nil, err
	}
	holder := review.Holder(d.now())
	switch {
	case review.Status != countersign.ReviewPending:
		return nil, countersign.Errorf(countersign.CodeConflict, "review %s is closed: there is no claim to release", review.ID)
	case holder == "":
		return nil, countersign.Errorf(countersign.CodeConflict, "review %s is not claimed: there is nothing to release", review.ID)
	case holder != caller.User && !caller.Role.CanSupervise():
		return nil, countersign.Errorf(countersign.CodeForbidden, "review %s is claimed by %s: only they, an approver or an admin may release it", review.ID, holder)
	}
	released, err := d.Store.ReleaseClaim(ctx, review.ID, holder)
	if err != nil {
		return nil, err
	}
	err = d.recordClaim(ctx, countersign.EventReviewReleased, caller.User, ch, review, map[string]any{
		"review_id": review.ID, "holder": holder, "role": caller.Role,
	})
	return released, err
}

// Next claims for caller the best review they may take, and returns it:
// the one they hold already, else one assigned to them, else the most
// overdue, else the least confident
// (countersign.ReviewStore.ClaimCandidates), that nobody holds, of f's
// task types and kind, not of a document they submitted nor one they
// decided, not assigned to someone else unless overdue. Of several
// callers at once, each gets a different review. It returns nil when
// none is left.
func (d *Dispatcher) Next(ctx context.Context, caller countersign.Principal, ch countersign.Channel, f countersign.ReviewFilter) (*countersign.Review, error) {
	if err := mayDecide(caller); err != nil {
		return nil, err
	}
	refused := map[string]bool{} // reviews the caller may not take
	for round := range nextRounds {
		// Each round reads further down the queue, past the reviews the
		// caller may not take (an adjudication left to another role).
		f.Limit = nextCandidates*(round+1) + len(refused)
		candidates, err := d.Store.ClaimCandidates(ctx, f, caller.User, d.now())
		if err != nil {
			return nil, err
		}
		open := 0
		for i := range candidates {
			r := &candidates[i]
			if refused[r.ID] {
				continue
			}
			open++
			if err := d.mayClaim(ctx, r, caller); err != nil {
				if code := countersign.ErrorCode(err); code != countersign.CodeForbidden && code != countersign.CodeConflict {
					return nil, err
				}
				refused[r.ID] = true
				continue
			}
			claimed, err := d.claim(ctx, r, caller, ch)
			if errors.Is(err, countersign.ErrConflict) {
				continue // another caller took it first
			}
			return claimed, err
		}
		if open == 0 && len(candidates) < f.Limit {
			return nil, nil // none left that they may take
		}
	}
	return nil, countersign.Errorf(countersign.CodeConflict, "every review %s may take was taken by others meanwhile: try again", caller.User)
}

// lapsedBatch bounds the lapsed claims one round of the reconciler ends;
// the next round takes the rest.
const lapsedBatch = 500

// EndLapsedClaims records the lapse of every claim whose lease has passed
// (review.claim_lapsed) and ends it, so that the trail says when a claim
// lapsed, not only when someone took the review over; the reconciler runs
// it every round. A claim renewed or taken over between the two steps
// keeps its new holder: the lapse it records did happen. It returns how
// many claims it ended.
func (d *Dispatcher) EndLapsedClaims(ctx context.Context) (int, error) {
	lapsed, err := d.Store.LapsedClaims(ctx, d.now(), lapsedBatch)
	if err != nil {
		return 0, err
	}
	ended := 0
	var errs []error
	for i := range lapsed {
		r := &lapsed[i]
		if r.ClaimedUntil == nil {
			continue
		}
		if err := d.recordLapse(ctx, r); err != nil {
			errs = append(errs, err)
			continue
		}
		ok, err := d.Store.EndClaim(ctx, r.ID, r.ClaimedBy, *r.ClaimedUntil)
		if err != nil {
			errs = append(errs, err)
		} else if ok {
			ended++
		}
	}
	return ended, errors.Join(errs...)
}

// recordLapse records that review's claim lapsed, under an ID made from
// the claim (review, holder, lease end), so that the reconciler and a
// person taking the review over record it once between them.
func (d *Dispatcher) recordLapse(ctx context.Context, review *countersign.Review) error {
	var until int64
	if review.ClaimedUntil != nil {
		until = review.ClaimedUntil.UnixMicro()
	}
	id := fmt.Sprintf("%s/%s/%s/%d", countersign.EventReviewClaimLapsed, review.ID, review.ClaimedBy, until)
	return d.appendClaimEvent(ctx, id, countersign.EventReviewClaimLapsed, countersign.SystemActor, countersign.ChannelWorkflow, review, map[string]any{
		"review_id": review.ID, "holder": review.ClaimedBy, "claimed_until": review.ClaimedUntil,
	})
}

// recordClaim appends the audit event of a person's claim or release on
// review, under an ID of its own.
func (d *Dispatcher) recordClaim(ctx context.Context, event, actor string, ch countersign.Channel, review *countersign.Review, v map[string]any) error {
	return d.appendClaimEvent(ctx, fmt.Sprintf("%s/%s/%s", event, review.ID, uuid.NewString()), event, actor, ch, review, v)
}

// appendClaimEvent appends the audit event id of a claim on review.
func (d *Dispatcher) appendClaimEvent(ctx context.Context, id, event, actor string, ch countersign.Channel, review *countersign.Review, v map[string]any) error {
	data, err := audit.Canonical(v)
	if err != nil {
		return err
	}
	_, err = d.Store.AppendAudit(ctx, countersign.AuditEvent{
		ID: id, DocumentID: review.DocumentID, Type: event, Actor: actor, Channel: ch, At: d.now(), Data: data,
	})
	if err != nil {
		return fmt.Errorf("record %s of review %s: %w", event, review.ID, err)
	}
	return nil
}
