package workflows

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
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

// gateEnd is how the gate review under way ended.
type gateEnd int

const (
	gateOpen     gateEnd = iota
	gateSettled          // enough people agreed, or the adjudicator decided
	gateDisputed         // the decisions disagreed: adjudication follows
	gateTimedOut         // the SLA's timeout rejected the document
)

// vote is a decision recorded on the gate review under way, with the fields
// it stands for (nil for a rejection).
type vote struct {
	decision *countersign.Decision
	fields   countersign.Fields
}

// effect is what a decision does to the gate review it is made on.
type effect int

const (
	effectSettle  effect = iota // it closes the review and the document is final
	effectWait                  // it counts; more people must decide
	effectDispute               // it disagrees with an earlier one: adjudication
)

// humanGate opens a review and waits, durably and for as long as it takes
// or the policy's SLA allows, for the decisions that close it. When the
// people deciding it disagree, an adjudication review settles it.
func (w *review) humanGate(ctx workflow.Context) error {
	w.gateV = workflow.GetVersion(ctx, gateChange, workflow.DefaultVersion, 1) >= 1
	w.namedApprovals = w.gateV && workflow.GetVersion(ctx, approvesChange, workflow.DefaultVersion, 1) >= 1
	r := w.newGateReview(ctx, w.route.Reasons)
	if err := w.openGate(ctx, r, ""); err != nil {
		return err
	}
	w.slipGold(ctx, r)
	for {
		if err := w.awaitGate(ctx, r); err != nil {
			return err
		}
		if w.gateErr != nil || w.ended != gateDisputed {
			return w.gateErr
		}
		next, err := w.adjudicate(ctx, r)
		if err != nil {
			return err
		}
		r = next
	}
}

// newGateReview is the next gate review of the document, for reasons.
func (w *review) newGateReview(ctx workflow.Context, reasons []string) *countersign.Review {
	w.reviews++
	opened := now(ctx)
	r := &countersign.Review{
		ID:         countersign.ReviewID(w.in.DocumentID, w.reviews),
		DocumentID: w.in.DocumentID,
		TaskType:   w.in.TaskType,
		Status:     countersign.ReviewPending,
		CreatedAt:  opened,
		DueAt:      opened.Add(w.in.Policy.ReviewDue),
		Reasons:    reasons,
	}
	if w.confidence != nil {
		r.Confidence = w.confidence.Overall
	}
	return r
}

// openGate opens gate review r, which settles the disputed review
// adjudicates when that is set, and tells its reviewers.
func (w *review) openGate(ctx workflow.Context, r *countersign.Review, adjudicates string) error {
	w.gate, w.votes, w.ended, w.adjudicates = r, nil, gateOpen, adjudicates
	w.timedOut, w.heldSince = nil, nil
	w.gateOpenedAt = workflow.Now(ctx)
	// The review is in the queue as soon as the activity has stored it, which
	// is before the activity reports back: accept decisions from then on.
	w.open, w.opened = r, false
	in := activities.OpenReviewInput{Step: w.step(), Review: r}
	if adjudicates != "" {
		in.Adjudicates, in.Adjudicator = adjudicates, w.in.Policy.AdjudicatorRole()
	}
	if err := workflow.ExecuteActivity(ctx, a.OpenReview, in).Get(ctx, nil); err != nil {
		w.open = nil
		return err
	}
	w.opened, w.status = true, countersign.StatusAwaitingReview
	w.notify(ctx, countersign.NoticeOpened, r, w.in.Policy.Notify, "")
	w.owed = r.ID
	return nil
}

// adjudicate closes disputed review r, records the disagreement and opens
// the adjudication review whose one decision settles it.
func (w *review) adjudicate(ctx workflow.Context, r *countersign.Review) (*countersign.Review, error) {
	role := w.in.Policy.AdjudicatorRole()
	disagreement := votesSummary(w.votes, true)
	ids := make([]string, len(w.votes))
	for i, v := range w.votes {
		ids[i] = v.decision.ID
	}
	next := countersign.ReviewID(w.in.DocumentID, w.reviews+1)
	w.disputed = append(w.disputed, r.ID)
	in := activities.DisputeInput{Step: w.step(), ReviewID: r.ID, Decisions: ids, Disagreement: disagreement, Adjudication: next, Adjudicator: role, At: now(ctx)}
	if err := workflow.ExecuteActivity(ctx, a.Dispute, in).Get(ctx, nil); err != nil {
		return nil, err
	}
	w.closeNotice(ctx, r, "the decisions disagree ("+disagreement+"): sent to adjudication in review "+next)
	reasons := append([]string{fmt.Sprintf("adjudication of review %s, whose decisions disagree (%s): the decision of a person with the %s role settles it", r.ID, disagreement, role)}, w.route.Reasons...)
	adjudication := w.newGateReview(ctx, reasons)
	return adjudication, w.openGate(ctx, adjudication, r.ID)
}

// decide is the DecisionUpdate handler. The validator has accepted the
// request; decisions on a review are then taken one at a time. A decision
// that closes the review (the last approval needed, an adjudication, a
// disagreement) closes it at once, so a concurrent decision is refused; the
// handler records it and, when the document is final, returns its status.
func (w *review) decide(ctx workflow.Context, req DecisionRequest) (DecisionResult, error) {
	// Counted from acceptance to return, so the SLA's clock lets every
	// decision accepted in time have its turn (awaitUntil).
	w.inFlight++
	defer func() { w.inFlight-- }()
	// Validators of concurrent updates all ran before any handler: check again.
	if err := w.validateDecision(req); err != nil {
		return DecisionResult{}, err
	}
	ctx = workflow.WithActivityOptions(ctx, activityOptions)
	if err := workflow.Await(ctx, func() bool { return w.deciding == nil || w.gateErr != nil || w.done }); err != nil {
		return DecisionResult{}, err
	}
	// The decision before this one may have changed what this one may do.
	if err := w.validateDecision(req); err != nil {
		return DecisionResult{}, err
	}
	r := w.open
	w.deciding = &req
	fx, fields := w.tally(r, req)
	if fx != effectWait {
		w.open = nil
	}
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
	if audit {
		return w.decideAudit(ctx, r, d)
	}
	d.ID = fmt.Sprintf("%s/%d", r.ID, len(w.votes)+1)
	in := activities.DecisionInput{Step: w.step(), Decision: d, KeepOpen: fx != effectSettle}
	if n := w.in.Policy.Approvals(); w.gateV && n > 1 && w.adjudicates == "" && fx != effectDispute && req.Action != countersign.ActionReject {
		in.Tally = &activities.Tally{Agreed: len(w.votes) + 1, Required: n}
	}
	if err := workflow.ExecuteActivity(ctx, a.RecordDecision, in).Get(ctx, nil); err != nil {
		// The activity retries whatever a retry can fix, so this failure is
		// for good, and the store may hold part of the decision. Reopening
		// the review could contradict it: fail the document instead, loudly.
		w.gateErr = fmt.Errorf("decision on review %s could not be recorded: %w", r.ID, err)
		w.open, w.deciding = nil, nil
		return DecisionResult{}, err
	}
	w.votes = append(w.votes, vote{decision: d, fields: fields})
	w.gateDecisions = append(w.gateDecisions, d)
	w.deciding = nil
	switch fx {
	case effectWait:
		return DecisionResult{Decision: *d, Status: w.status}, nil
	case effectDispute:
		w.ended = gateDisputed
		return DecisionResult{Decision: *d, Status: w.status}, nil
	}
	w.decided, w.ended = d, gateSettled
	if err := workflow.Await(ctx, func() bool { return w.done }); err != nil {
		return DecisionResult{}, err
	}
	return DecisionResult{Decision: *d, Status: w.status}, nil
}

// tally says what req does to review r, and the fields it stands for. Until
// the policy's approvals are in, every decision must agree with those
// before it: all rejections, or approvals and corrections that leave the
// same fields (an approval approves the fields as the last correction left
// them). An audit's or an adjudication's one decision settles its review.
func (w *review) tally(r *countersign.Review, req DecisionRequest) (effect, countersign.Fields) {
	fields := w.votedFields(req)
	if !w.gateV || r.Kind == countersign.ReviewAudit || w.adjudicates != "" {
		return effectSettle, fields
	}
	for _, v := range w.votes {
		if !sameVote(v, req.Action, fields) {
			return effectDispute, fields
		}
	}
	if len(w.votes)+1 >= w.in.Policy.Approvals() {
		return effectSettle, fields
	}
	return effectWait, fields
}

// votedFields are the fields a decision stands for: the correction applied
// to the draft, the proposal it approves, or none for a rejection.
func (w *review) votedFields(req DecisionRequest) countersign.Fields {
	switch req.Action {
	case countersign.ActionCorrect:
		return corrected(w.draftFields(), req.Fields)
	case countersign.ActionApprove:
		if p, id := w.proposal(); p != nil && (!w.namedApprovals || req.Approves == id) {
			return p
		}
		// An approval of the draft: it disagrees with a correction made
		// since its author looked.
		return corrected(w.draftFields(), nil)
	}
	return nil
}

// corrected is countersign.Correct, and names countersign's Fields.Names,
// for workflow code.
//
// workflowcheck reports both because they range over maps: one to build a
// map, whose order is irrelevant, the other to collect names it then sorts.
// Neither result depends on the order of the range.
//
//workflowcheck:ignore
func corrected(draft, patch countersign.Fields) countersign.Fields {
	return countersign.Correct(draft, patch)
}

//workflowcheck:ignore
func names(f countersign.Fields) []string {
	return f.Names()
}

// proposal is the fields the last correction on the gate review under way
// left, which a later approval approves; nil when nobody corrected it.
func (w *review) proposal() (countersign.Fields, string) {
	for i := len(w.votes) - 1; i >= 0; i-- {
		if w.votes[i].decision.Action == countersign.ActionCorrect {
			return w.votes[i].fields, w.votes[i].decision.ID
		}
	}
	return nil, ""
}

func (w *review) draftFields() countersign.Fields {
	if w.draft.Failed() {
		return nil
	}
	return w.draft.Fields
}

// sameVote reports whether a decision with action and fields agrees with v.
func sameVote(v vote, action countersign.Action, fields countersign.Fields) bool {
	rejects := v.decision.Action == countersign.ActionReject
	if rejects || action == countersign.ActionReject {
		return rejects && action == countersign.ActionReject
	}
	return sameFields(v.fields, fields)
}

// sameFields reports whether two sets of fields hold the same values.
//
// workflowcheck reports reflect.DeepEqual, which ranges over maps; the
// answer does not depend on the order it visits them in.
//
//workflowcheck:ignore
func sameFields(x, y countersign.Fields) bool {
	return reflect.DeepEqual(x, y)
}

// votesSummary says who decided what, as "rita approved, anna corrected
// term_months" (with the fields changed when detail is set).
func votesSummary(votes []vote, detail bool) string {
	parts := make([]string, len(votes))
	for i, v := range votes {
		d := v.decision
		parts[i] = d.Actor + " " + pastTense(d.Action)
		if detail && d.Action == countersign.ActionCorrect {
			parts[i] += " " + strings.Join(names(d.Fields), ", ")
		}
	}
	return strings.Join(parts, ", ")
}

func pastTense(a countersign.Action) string {
	switch a {
	case countersign.ActionApprove:
		return "approved"
	case countersign.ActionCorrect:
		return "corrected"
	case countersign.ActionReject:
		return "rejected"
	}
	return string(a)
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
		if p, _ := w.proposal(); p != nil {
			// It approves a correction on this review, which fits the schema
			// (admitDecision has checked it names it).
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

// admitDecision is the decision update's validator: the envelope that
// proves who sent it, the review groups, the submitter check, the check that
// an approval names the correction it approves, then validateDecision. The
// first four are not repeated by the handler: handlers run again on replay,
// validators do not, and histories from before the checks hold decisions
// they would refuse.
func (w *review) admitDecision(ctx workflow.Context, req DecisionRequest) error {
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
	if err := w.validateDecision(req); err != nil {
		return err
	}
	return w.checkApproves(req)
}

// checkApproves refuses an approval that does not name the correction it
// would stand for. A correction recorded after the validator ran makes the
// approval one of the draft (votedFields), which disagrees with it.
func (w *review) checkApproves(req DecisionRequest) error {
	if !w.namedApprovals || req.Action != countersign.ActionApprove || w.open == nil || req.ReviewID != w.open.ID {
		return nil
	}
	p, id := w.proposal()
	switch {
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
	if !w.gateV || w.open.Kind == countersign.ReviewAudit {
		return nil
	}
	user := req.Actor.User
	if w.adjudicates != "" {
		role := w.in.Policy.AdjudicatorRole()
		if req.Actor.Role != role && req.Actor.Role != countersign.RoleAdmin {
			return refuse(countersign.CodeForbidden, "review %s settles a disagreement, which the policy leaves to the %s role; %s has the %s role", w.open.ID, role, user, req.Actor.Role)
		}
		for _, d := range w.gateDecisions {
			if d.Actor == user {
				return refuse(countersign.CodeForbidden, "%s decided review %s (%s), so may not settle the disagreement over it: the adjudicator must be someone else", user, d.ReviewID, d.Action)
			}
		}
		return nil
	}
	for _, v := range w.votes {
		d := v.decision
		if d.Actor != user {
			continue
		}
		if d.Action == countersign.ActionCorrect && req.Action == countersign.ActionApprove {
			return refuse(countersign.CodeForbidden, "%s corrected review %s, so may not approve it too: a correction is approved by someone else", user, w.open.ID)
		}
		return refuse(countersign.CodeForbidden, "%s already decided review %s (%s), and nobody counts twice: it needs %d different people", user, w.open.ID, d.Action, w.in.Policy.Approvals())
	}
	if w.deciding != nil && w.deciding.Actor.User == user {
		return refuse(countersign.CodeForbidden, "%s is already deciding review %s (%s), and nobody counts twice", user, w.open.ID, w.deciding.Action)
	}
	return nil
}

// checkOpen refuses a decision unless reviewID is the review waiting now.
func (w *review) checkOpen(reviewID string) error {
	switch {
	case w.open != nil && reviewID == w.open.ID:
		return nil
	case slices.Contains(w.disputed, reviewID):
		return refuse(countersign.CodeConflict, "review %s is closed: its decisions disagreed, and the document went to adjudication (%s)", reviewID, w.adjudicationOf(reviewID))
	case w.timedOut != nil && w.timedOut.review == reviewID && w.timedOut.action == countersign.TimeoutReject:
		return refuse(countersign.CodeConflict, "review %s timed out after %s with no decision, and the document is rejected", reviewID, countersign.FormatDuration(w.timedOut.after))
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

// adjudicationOf names the review that settles disputed review id.
func (w *review) adjudicationOf(id string) string {
	if w.gate != nil && w.adjudicates == id {
		return "review " + w.gate.ID
	}
	return "its next review"
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
