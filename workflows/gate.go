package workflows

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/activities"
	"github.com/countersign/countersign/internal/schema"
)

// DecisionRequest is a reviewer's decision, as sent with DecisionUpdate by
// every channel (REST, CLI, Slack, web). The caller has authenticated Actor.
type DecisionRequest struct {
	ReviewID string                `json:"review_id"`
	Action   countersign.Action    `json:"action"`
	Fields   countersign.Fields    `json:"fields,omitempty"`
	Reason   string                `json:"reason,omitempty"`
	Actor    countersign.Principal `json:"actor"`
	Channel  countersign.Channel   `json:"channel"`
}

// DecisionResult is what the update returns once the decision is recorded
// and the document finalized.
type DecisionResult struct {
	Decision countersign.Decision `json:"decision"`
	Status   countersign.Status   `json:"status"`
}

// humanGate opens a review and waits, durably and for as long as it takes,
// for the decision that closes it.
func (w *review) humanGate(ctx workflow.Context) error {
	w.reviews++
	opened := now(ctx)
	r := &countersign.Review{
		ID:         countersign.ReviewID(w.in.DocumentID, w.reviews),
		DocumentID: w.in.DocumentID,
		TaskType:   w.in.TaskType,
		Status:     countersign.ReviewPending,
		CreatedAt:  opened,
		DueAt:      opened.Add(w.in.Policy.ReviewDue),
		Reasons:    w.route.Reasons,
	}
	if w.confidence != nil {
		r.Confidence = w.confidence.Overall
	}
	// The review is in the queue as soon as the activity has stored it, which
	// is before the activity reports back: accept decisions from then on.
	w.open = r
	in := activities.OpenReviewInput{Step: w.step(), Review: r}
	if err := workflow.ExecuteActivity(ctx, a.OpenReview, in).Get(ctx, nil); err != nil {
		w.open = nil
		return err
	}
	w.opened, w.status = true, countersign.StatusAwaitingReview
	w.slipGold(ctx, r)
	if err := workflow.Await(ctx, func() bool { return w.decided != nil || w.gateErr != nil }); err != nil {
		return err
	}
	return w.gateErr
}

// decide is the DecisionUpdate handler. The validator has accepted the
// request; the handler closes the review at once, so a concurrent decision is
// refused, records the decision, and returns when the document is final.
func (w *review) decide(ctx workflow.Context, req DecisionRequest) (DecisionResult, error) {
	// Validators of concurrent updates all ran before any handler: check again.
	if err := w.validateDecision(req); err != nil {
		return DecisionResult{}, err
	}
	ctx = workflow.WithActivityOptions(ctx, activityOptions)
	r := w.open
	w.open, w.deciding = nil, &req
	// Record the decision only once the review's opening is recorded, so the
	// audit log never shows a decision before its review.
	audit := r.Kind == countersign.ReviewAudit
	if err := workflow.Await(ctx, func() bool { return w.opened || (w.done && !audit) || w.gateErr != nil }); err != nil {
		return DecisionResult{}, err
	}
	if !w.opened {
		w.deciding = nil
		return DecisionResult{}, refuse(countersign.CodeConflict, "review %s could not be opened", r.ID)
	}
	d := w.newDecision(r, req, now(ctx))
	if r.Kind == countersign.ReviewAudit {
		return w.decideAudit(ctx, r, d)
	}
	in := activities.DecisionInput{Step: w.step(), Decision: d}
	if err := workflow.ExecuteActivity(ctx, a.RecordDecision, in).Get(ctx, nil); err != nil {
		// The activity retries whatever a retry can fix, so this failure is
		// for good, and the store may hold part of the decision. Reopening
		// the review could contradict it: fail the document instead, loudly.
		w.gateErr = fmt.Errorf("decision on review %s could not be recorded: %w", r.ID, err)
		return DecisionResult{}, err
	}
	w.decided = d
	if err := workflow.Await(ctx, func() bool { return w.done }); err != nil {
		return DecisionResult{}, err
	}
	return DecisionResult{Decision: *d, Status: w.status}, nil
}

// newDecision is the decision req makes on review r.
func (w *review) newDecision(r *countersign.Review, req DecisionRequest, at time.Time) *countersign.Decision {
	return &countersign.Decision{
		ID:         r.ID + "/1",
		ReviewID:   r.ID,
		DocumentID: w.in.DocumentID,
		Action:     req.Action,
		Fields:     req.Fields,
		Reason:     strings.TrimSpace(req.Reason),
		Actor:      req.Actor.User,
		Role:       req.Actor.Role,
		Channel:    req.Channel,
		At:         at,
	}
}

// validateDecision refuses, before it reaches history, a decision that is
// not allowed (403), that comes too late or for another review (409), or that
// is invalid (422). It reads state and never changes it.
func (w *review) validateDecision(req DecisionRequest) error {
	if !req.Actor.Role.CanDecide() {
		return refuse(countersign.CodeForbidden, "%s (role %s) may not decide reviews: the reviewer, approver or admin role is needed", req.Actor.User, orNone(string(req.Actor.Role)))
	}
	if err := w.checkOpen(req.ReviewID); err != nil {
		return err
	}
	if err := checkReason(req.Reason); err != nil {
		return err
	}
	if w.open.Kind == countersign.ReviewAudit && req.Action == countersign.ActionReject {
		return refuse(countersign.CodeInvalid, "an audit confirms (approve) or corrects an output that already counts; it cannot reject it")
	}
	switch req.Action {
	case countersign.ActionApprove:
		if len(req.Fields) > 0 {
			return refuse(countersign.CodeInvalid, "approve takes no fields: to change fields, use correct")
		}
		if w.draft.Failed() {
			return refuse(countersign.CodeInvalid, "there is no draft to approve (%s): use correct with the fields", draftError(w.draft))
		}
		if err := w.checkFields(w.draft.Fields, nil); err != nil {
			return refuse(countersign.CodeInvalid, "the draft does not fit the task type, so it cannot be approved as it is; correct it: %v", err)
		}
	case countersign.ActionCorrect:
		return w.checkCorrection(req.Fields)
	case countersign.ActionReject:
		return checkRejection(req.Fields, req.Reason, "reject")
	default:
		return refuse(countersign.CodeInvalid, "unknown action %q: use approve, correct or reject", req.Action)
	}
	return nil
}

// checkReason refuses a reason the store could not keep.
func checkReason(reason string) error {
	if strings.ContainsRune(reason, 0) {
		return refuse(countersign.CodeInvalid, "the reason contains a NUL character")
	}
	return nil
}

// checkRejection refuses a rejection (what names it in the refusal) that
// carries fields or no reason.
func checkRejection(fields countersign.Fields, reason, what string) error {
	if len(fields) > 0 {
		return refuse(countersign.CodeInvalid, "reject takes no fields")
	}
	if strings.TrimSpace(reason) == "" {
		return refuse(countersign.CodeInvalid, "%s needs a reason", what)
	}
	return nil
}

// checkCorrection refuses a correction without fields, or whose fields,
// applied to the draft (none when it failed), do not fit the schema.
func (w *review) checkCorrection(fields countersign.Fields) error {
	if len(fields) == 0 {
		return refuse(countersign.CodeInvalid, "correct needs the corrected fields")
	}
	var draftFields countersign.Fields
	if !w.draft.Failed() {
		draftFields = w.draft.Fields
	}
	if err := w.checkFields(draftFields, fields); err != nil {
		return refuse(countersign.CodeInvalid, "corrected fields do not fit the task type: %v", err)
	}
	return nil
}

// checkOpen refuses a decision unless reviewID is the review waiting now.
func (w *review) checkOpen(reviewID string) error {
	switch {
	case w.open != nil && reviewID == w.open.ID:
		return nil
	case w.open != nil:
		return refuse(countersign.CodeConflict, "review %s is not open; the open review of this document is %s", reviewID, w.open.ID)
	case w.decided != nil && w.decided.ReviewID == reviewID:
		return refuse(countersign.CodeConflict, "review %s is already closed: %s decided %s", reviewID, w.decided.Actor, w.decided.Action)
	case w.deciding != nil && w.deciding.ReviewID == reviewID:
		return refuse(countersign.CodeConflict, "review %s is already being decided: %s chose %s", reviewID, w.deciding.Actor.User, w.deciding.Action)
	case w.done:
		return refuse(countersign.CodeConflict, "review %s is closed: the document is %s", reviewID, w.status)
	default:
		return refuse(countersign.CodeConflict, "document %s has no open review (status %s)", w.in.DocumentID, w.status)
	}
}

// checkFields validates draft fields, with a correction applied, against the
// pinned schema. The compiled schema is a cache of the input, not workflow
// state, so the validator may fill it.
//
// workflowcheck reports this function because the merge ranges over maps and
// JSON decoding allocates (which it traces to the garbage collector's
// goroutines). Neither can change what the workflow does: the merge builds a
// map, whose order is irrelevant, and validation has one answer for one
// input. Only validators and handler checks call it, and a refusal never
// enters history.
//
//workflowcheck:ignore
func (w *review) checkFields(draft, correction countersign.Fields) error {
	for name, value := range correction {
		if raw, err := json.Marshal(value); err != nil || bytes.Contains(raw, []byte(`\u0000`)) {
			return fmt.Errorf("%s: the value contains a NUL character", name)
		}
	}
	fields := countersign.Correct(draft, correction)
	if w.schema == nil {
		s, err := schema.Compile(w.in.Schema)
		if err != nil {
			return err
		}
		w.schema = s
	}
	return w.schema.Validate(fields)
}

// refuse builds a refusal whose type is the error code, so callers map it to
// the right HTTP status.
func refuse(code countersign.Code, format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), string(code), nil)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
