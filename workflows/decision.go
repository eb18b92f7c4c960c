package workflows

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/activities"
	"github.com/countersign/countersign/internal/provenance"
	"github.com/countersign/countersign/internal/schema"
)

// DecisionRequest is a reviewer's decision, as sent with DecisionUpdate by
// every channel (REST, CLI, Slack, web). The API, which authenticated
// Actor, vouches for the request with a signed Provenance envelope; the
// validator believes nothing it does not verify.
type DecisionRequest struct {
	ReviewID string                `json:"review_id"`
	Action   countersign.Action    `json:"action"`
	Fields   countersign.Fields    `json:"fields,omitempty"`
	Reason   string                `json:"reason,omitempty"`
	Actor    countersign.Principal `json:"actor"`
	Channel  countersign.Channel   `json:"channel"`
	// Approves, on an approval, names the correction approved (its
	// decision ID) when someone corrected the review before: an approval
	// stands for what its author saw, never for a correction made since.
	Approves string `json:"approves,omitempty"`
	// Provenance is the API's signed envelope of this request.
	Provenance *provenance.Envelope `json:"provenance,omitempty"`
}

// DecisionResult is what the update returns once the decision is recorded
// and the document finalized.
type DecisionResult struct {
	Decision countersign.Decision `json:"decision"`
	Status   countersign.Status   `json:"status"`
}

// decisionTurns takes the decisions on the open review one at a time. A
// decision the validator accepted waits for the turn, is checked again (the
// decision before it may have changed what it may do), and holds the turn
// until it is recorded or refused; one that closes the review closes it as
// it takes the turn, so the validator refuses any decision after it.
type decisionTurns struct {
	mu workflow.Mutex // the turn
	// current is the decision holding the turn: the validator refuses its
	// author a second decision, and another decision on a review it closes.
	current *DecisionRequest
	// accepted counts the decisions accepted and not yet answered, so the
	// SLA's clock lets every decision accepted in time have its turn
	// (awaitUntil).
	accepted int
	// opened says the open review's opening is recorded. A decision that
	// holds the turn before it is waits, so the audit log never shows a
	// decision before its review.
	opened bool
}

// release ends the current decision's turn.
func (t *decisionTurns) release() {
	t.current = nil
	t.mu.Unlock()
}

// decide is the DecisionUpdate handler; validateDecision has accepted the
// request. It records the decision in its turn (record) and, when the
// decision settles the gate, answers once the document is final, with its
// status.
func (w *review) decide(ctx workflow.Context, req DecisionRequest) (DecisionResult, error) {
	w.turns.accepted++
	defer func() { w.turns.accepted-- }()
	// Validators of concurrent updates may all have run before any handler:
	// check again.
	if err := w.checkDecision(req); err != nil {
		return DecisionResult{}, err
	}
	ctx = workflow.WithActivityOptions(ctx, activityOptions)
	result, settled, err := w.record(ctx, req)
	if err != nil || !settled {
		return result, err
	}
	if err := workflow.Await(ctx, func() bool { return w.status.Final() }); err != nil {
		return DecisionResult{}, err
	}
	result.Status = w.status
	return result, nil
}

// record takes the turn, checks req again, and records it on the open
// review: an audit's verdict (decideAudit, hotl.go), or a vote at the gate,
// which settles the gate review, waits for more people, or disputes it. It
// reports whether the decision settled the gate.
func (w *review) record(ctx workflow.Context, req DecisionRequest) (DecisionResult, bool, error) {
	if err := w.turns.mu.Lock(ctx); err != nil {
		return DecisionResult{}, false, err
	}
	defer w.turns.release()
	// The decision before this one may have changed what this one may do.
	if err := w.checkDecision(req); err != nil {
		return DecisionResult{}, false, err
	}
	r := w.open
	w.turns.current = &req
	fx, fields := w.tally(r, req)
	if fx != effectWait {
		w.open = nil
	}
	audit := r.Kind == countersign.ReviewAudit
	if err := workflow.Await(ctx, func() bool { return w.turns.opened || w.openingFailed(audit) }); err != nil {
		return DecisionResult{}, false, err
	}
	if !w.turns.opened {
		return DecisionResult{}, false, refuse(countersign.CodeConflict, "review %s could not be opened", r.ID)
	}
	d := w.newDecision(r, req, now(ctx))
	if audit {
		result, err := w.decideAudit(ctx, r, d)
		return result, false, err
	}
	d.ID = fmt.Sprintf("%s/%d", r.ID, len(w.gate.votes)+1)
	in := activities.DecisionInput{Step: w.step(), Decision: d, KeepOpen: fx != effectSettle}
	if n := w.in.Policy.Approvals(); w.v.gateNoticesSLAApprovals && n > 1 && w.gate.adjudicates == "" && fx != effectDispute && req.Action != countersign.ActionReject {
		in.Tally = &activities.Tally{Agreed: len(w.gate.votes) + 1, Required: n}
	}
	if err := workflow.ExecuteActivity(ctx, a.RecordDecision, in).Get(ctx, nil); err != nil {
		// The activity retries whatever a retry can fix, so this failure is
		// for good, and the store may hold part of the decision. Reopening
		// the review could contradict it: fail the document instead, loudly.
		w.gate.failed = fmt.Errorf("decision on review %s could not be recorded: %w", r.ID, err)
		w.open = nil
		return DecisionResult{}, false, err
	}
	w.gate.votes = append(w.gate.votes, vote{decision: d, fields: fields})
	w.gate.decisions = append(w.gate.decisions, d)
	result := DecisionResult{Decision: *d, Status: w.status}
	switch fx {
	case effectWait:
		return result, false, nil
	case effectDispute:
		w.gate.ended = gateDisputed
		return result, false, nil
	}
	w.gate.decided, w.gate.ended = d, gateSettled
	return result, true, nil
}

// openingFailed reports whether the open review could not be opened: a
// gate review's failure fails the document, an audit's fails what follows
// the outcome.
func (w *review) openingFailed(audit bool) bool {
	if audit {
		return w.after.failed != nil
	}
	return w.status.Final()
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

// validateDecision is the decision update's validator. It refuses, before
// the request reaches history, a decision over the size ceilings (413),
// one whose envelope does not prove who sent it, by someone outside the
// review groups or who submitted the document (403), an approval that does
// not name the correction it would approve (409), and whatever
// checkDecision refuses. The handler repeats only checkDecision: handlers
// run again on replay, validators do not, and histories from before the
// other checks hold decisions they would refuse. It reads state and never
// changes it.
func (w *review) validateDecision(ctx workflow.Context, req DecisionRequest) error {
	if err := checkSize(req.Fields, req.Reason); err != nil {
		return err
	}
	want, err := req.Claims(w.in.DocumentID, updateID(ctx))
	if err := checkProvenance(ctx, w.keys, req.Provenance, want, err); err != nil {
		return err
	}
	if err := w.checkGroups(req.Actor); err != nil {
		return err
	}
	if err := w.checkSubmitter(req.Actor); err != nil {
		return err
	}
	if err := w.checkDecision(req); err != nil {
		return err
	}
	return w.checkApproves(req)
}

// checkDecision refuses a decision that is not allowed (403), that comes
// too late or for another review (409), or that is invalid (422): the part
// of the validator the handler checks again in its turn. It reads state and
// never changes it.
func (w *review) checkDecision(req DecisionRequest) error {
	if !req.Actor.Role.CanDecide() {
		return refuse(countersign.CodeForbidden, "%s (role %s) may not decide reviews: the reviewer, approver or admin role is needed", req.Actor.User, orNone(string(req.Actor.Role)))
	}
	if err := w.checkOpen(req.ReviewID); err != nil {
		return err
	}
	if err := w.checkDuties(req); err != nil {
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
		if p, _ := w.gate.proposal(); p != nil && !(w.open != nil && w.open.Blind) {
			// It approves a correction on this review, which fits the schema
			// (validateDecision has checked it names it). A blind approval
			// approves the draft whatever was corrected, so the draft's
			// checks stand, and tell nobody whether someone corrected.
			return nil
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

// checkApproves refuses an approval that does not name the correction it
// would stand for. A correction recorded after the validator ran makes the
// approval one of the draft (votedFields), which disagrees with it.
func (w *review) checkApproves(req DecisionRequest) error {
	if !w.v.approvalsNameCorrections || req.Action != countersign.ActionApprove || w.open == nil || req.ReviewID != w.open.ID {
		return nil
	}
	p, id := w.gate.proposal()
	switch {
	case w.open.Blind && req.Approves != "":
		return refuse(countersign.CodeInvalid, "review %s is a blind review: nobody sees another's decision until it closes, so an approval approves the draft and names no correction (approves %s)", req.ReviewID, req.Approves)
	case w.open.Blind:
		return nil
	case p == nil && req.Approves != "":
		return refuse(countersign.CodeConflict, "approves names %s, but review %s has no correction to approve: approve the draft without it", req.Approves, req.ReviewID)
	case p != nil && req.Approves != id:
		return refuse(countersign.CodeConflict, "review %s was corrected (decision %s) since the draft: look at the correction and approve it by naming it (approves: %s), or correct it yourself", req.ReviewID, id, id)
	}
	return nil
}

// checkGroups refuses a reviewer outside the review groups the task type
// named when the review started.
func (w *review) checkGroups(actor countersign.Principal) error {
	if !actor.MayReviewIn(w.in.ReviewGroups) {
		return refuse(countersign.CodeForbidden, "%s is not in the review groups of %s (%s), so may not decide its reviews", actor.User, w.in.TaskType, strings.Join(w.in.ReviewGroups, ", "))
	}
	return nil
}

// checkSubmitter refuses a decision by whoever submitted the document:
// separation of duties, whatever their role.
func (w *review) checkSubmitter(actor countersign.Principal) error {
	if actor.User != "" && actor.User == w.in.SubmittedBy {
		return refuse(countersign.CodeForbidden, "%s submitted document %s, so may not decide it: separation of duties needs someone else", actor.User, w.in.DocumentID)
	}
	return nil
}

// checkDuties refuses, on the open gate review, a decision by someone who
// may not make it: the same person twice, whoever corrected it approving
// the correction, or, on an adjudication, someone without the
// adjudicator's role or who took part in the disagreement.
func (w *review) checkDuties(req DecisionRequest) error {
	if !w.v.gateNoticesSLAApprovals || w.open.Kind == countersign.ReviewAudit {
		return nil
	}
	user := req.Actor.User
	if w.gate.adjudicates != "" {
		role := w.in.Policy.AdjudicatorRole()
		if req.Actor.Role != role && req.Actor.Role != countersign.RoleAdmin {
			return refuse(countersign.CodeForbidden, "review %s settles a disagreement, which the policy leaves to the %s role; %s has the %s role", w.open.ID, role, user, req.Actor.Role)
		}
		for _, d := range w.gate.decisions {
			if d.Actor == user {
				return refuse(countersign.CodeForbidden, "%s decided review %s (%s), so may not settle the disagreement over it: the adjudicator must be someone else", user, d.ReviewID, d.Action)
			}
		}
		return nil
	}
	for _, v := range w.gate.votes {
		d := v.decision
		if d.Actor != user {
			continue
		}
		if d.Action == countersign.ActionCorrect && req.Action == countersign.ActionApprove {
			return refuse(countersign.CodeForbidden, "%s corrected review %s, so may not approve it too: a correction is approved by someone else", user, w.open.ID)
		}
		return refuse(countersign.CodeForbidden, "%s already decided review %s (%s), and nobody counts twice: it needs %d different people", user, w.open.ID, d.Action, w.in.Policy.Approvals())
	}
	if c := w.turns.current; c != nil && c.Actor.User == user {
		return refuse(countersign.CodeForbidden, "%s is already deciding review %s (%s), and nobody counts twice", user, w.open.ID, c.Action)
	}
	return nil
}

// checkOpen refuses a decision unless reviewID is the review waiting now.
func (w *review) checkOpen(reviewID string) error {
	switch t, c := w.gate.timedOut, w.turns.current; {
	case w.open != nil && reviewID == w.open.ID:
		return nil
	case slices.Contains(w.gate.disputed, reviewID):
		return refuse(countersign.CodeConflict, "review %s is closed: its decisions disagreed, and the document went to adjudication (%s)", reviewID, w.gate.adjudicationOf(reviewID))
	case t != nil && t.review == reviewID && t.action == countersign.TimeoutReject:
		return refuse(countersign.CodeConflict, "review %s timed out after %s with no decision, and the document is rejected", reviewID, countersign.FormatDuration(t.after))
	case w.open != nil:
		return refuse(countersign.CodeConflict, "review %s is not open; the open review of this document is %s", reviewID, w.open.ID)
	case w.gate.decided != nil && w.gate.decided.ReviewID == reviewID:
		return refuse(countersign.CodeConflict, "review %s is already closed: %s decided %s", reviewID, w.gate.decided.Actor, w.gate.decided.Action)
	case c != nil && c.ReviewID == reviewID:
		return refuse(countersign.CodeConflict, "review %s is already being decided: %s chose %s", reviewID, c.Actor.User, c.Action)
	case w.status.Final():
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
