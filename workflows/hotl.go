package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/activities"
	"github.com/countersign/countersign/internal/provenance"
)

// VetoRequest is a supervisor's override of an auto-accepted document:
// reject it (with a reason) or correct its fields.
type VetoRequest struct {
	Action  countersign.Action    `json:"action"`
	Fields  countersign.Fields    `json:"fields,omitempty"`
	Reason  string                `json:"reason,omitempty"`
	Actor   countersign.Principal `json:"actor"`
	Channel countersign.Channel   `json:"channel"`
	// Provenance is the API's signed envelope of this request.
	Provenance *provenance.Envelope `json:"provenance,omitempty"`
}

// oversight is the supervision of a final document: its veto window and
// its audit. The pipeline opens them (vetoWindow, auditReview); the veto
// handler and the decision handler record them (veto, decideAudit).
type oversight struct {
	vetoUntil  *time.Time            // the veto window is open until then
	vetoing    *VetoRequest          // the veto being recorded
	vetoed     *countersign.Decision // the veto that amended the document
	audited    *countersign.Decision // the audit's verdict
	correction bool                  // the audit corrected the document, and the pipeline delivers the correction (deliverAfterPersonAsActivity)
	failed     error                 // a veto or an audit that could not be recorded: the review fails
}

// drawAudit decides whether an auto-accepted document is audited, by the
// stratified draw of the DrawAudit activity.
func (w *review) drawAudit(ctx workflow.Context) error {
	rate := w.in.Policy.AuditSampleRate
	if rate <= 0 || w.route.Outcome != countersign.OutcomeAutoAccept {
		return nil
	}
	in := activities.DrawInput{DocumentID: w.in.DocumentID, TaskType: w.in.TaskType, Confidence: w.confidence.Overall, Rate: rate}
	var draw activities.DrawResult
	if err := w.storeStep(ctx, a.DrawAudit, in).Get(ctx, &draw); err != nil {
		return err
	}
	if draw.Sampled {
		w.route.Outcome = countersign.OutcomeAutoAcceptWithAudit
		w.route.Reasons = append(w.route.Reasons, fmt.Sprintf("drawn for a post-hoc audit: document %d of band %s, audit sample rate %g", draw.N, draw.Stratum, rate))
	}
	return nil
}

// vetoWindow holds the accepted document back from delivery until the
// window ends or a supervisor vetoes it.
func (w *review) vetoWindow(ctx workflow.Context) error {
	until := now(ctx).Add(w.in.Policy.VetoWindow)
	w.after.vetoUntil = &until
	if _, err := workflow.AwaitWithTimeout(ctx, w.in.Policy.VetoWindow, func() bool { return w.after.vetoing != nil }); err != nil {
		return err
	}
	// A veto the validator let in before the window closed is recorded.
	w.after.vetoUntil = nil
	if w.after.vetoing == nil {
		return nil
	}
	if err := workflow.Await(ctx, func() bool { return w.after.vetoed != nil || w.after.failed != nil }); err != nil {
		return err
	}
	return w.after.failed
}

// veto is the VetoUpdate handler: it records the supervisor's decision as a
// veto review closed at once, amends the final record, and returns it.
func (w *review) veto(ctx workflow.Context, req VetoRequest) (DecisionResult, error) {
	// A veto the validator let in while Finalize was recording the
	// document waits for the window to open (or for the document to turn
	// out not to be auto-accepted, which checkVeto then refuses). No
	// history recorded before this wait existed has such a veto: the
	// validator refused it, so none replays otherwise.
	if w.windowPending() {
		if err := workflow.Await(ctx, func() bool { return !w.windowPending() || w.after.failed != nil }); err != nil {
			return DecisionResult{}, err
		}
	}
	if err := w.checkVeto(req); err != nil {
		return DecisionResult{}, err
	}
	ctx = workflow.WithActivityOptions(ctx, activityOptions)
	w.after.vetoing = &req
	r := w.newReview(countersign.ReviewVeto, now(ctx), 0, []string{"vetoed by " + req.Actor.User + " within the veto window"})
	d := w.newDecision(r, DecisionRequest{ReviewID: r.ID, Action: req.Action, Fields: req.Fields, Reason: req.Reason, Actor: req.Actor, Channel: req.Channel}, r.CreatedAt)
	result, _, err := w.amend(ctx, r, d, activities.AmendVeto)
	if err != nil {
		w.after.failed = fmt.Errorf("veto of %s could not be recorded: %w", w.in.DocumentID, err)
		return DecisionResult{}, err
	}
	w.after.vetoed = d
	return result, nil
}

// amend opens review r (a veto's, or reuses an audit's), records decision
// d on it, and applies it to the final record.
// It returns the result and the fields the decision changed.
func (w *review) amend(ctx workflow.Context, r *countersign.Review, d *countersign.Decision, kind string) (DecisionResult, []string, error) {
	if r.Kind == countersign.ReviewVeto {
		if err := workflow.ExecuteActivity(ctx, a.OpenReview, activities.OpenReviewInput{Step: w.step(), Review: r}).Get(ctx, nil); err != nil {
			return DecisionResult{}, nil, err
		}
	}
	if err := workflow.ExecuteActivity(ctx, a.RecordDecision, activities.DecisionInput{Step: w.step(), Decision: d}).Get(ctx, nil); err != nil {
		return DecisionResult{}, nil, err
	}
	var result activities.FinalizeResult
	in := activities.AmendInput{Step: w.step(), Kind: kind, Draft: w.draft, Decision: d, Base: w.final}
	if err := workflow.ExecuteActivity(ctx, a.Amend, in).Get(ctx, &result); err != nil {
		return DecisionResult{}, nil, err
	}
	w.status = result.Status
	return DecisionResult{Decision: *d, Status: result.Status}, result.Changed, nil
}

// validateVeto is the veto update's validator: the size ceilings, the
// envelope and the submitter check (see validateDecision), then checkVeto,
// which the handler checks again.
func (w *review) validateVeto(ctx workflow.Context, req VetoRequest) error {
	if err := checkSize(req.Fields, req.Reason); err != nil {
		return err
	}
	want, err := req.Claims(w.in.DocumentID, updateID(ctx))
	if err := checkProvenance(ctx, w.keys, req.Provenance, want, err); err != nil {
		return err
	}
	if err := w.checkSubmitter(req.Actor); err != nil {
		return err
	}
	return w.checkVeto(req)
}

// checkVeto refuses a veto from someone who is not a supervisor (403),
// outside the veto window (409), or that is invalid (422).
func (w *review) checkVeto(req VetoRequest) error {
	if !req.Actor.Role.CanSupervise() {
		return refuse(countersign.CodeForbidden, "%s (role %s) may not veto: a veto needs the approver or admin role", req.Actor.User, orNone(string(req.Actor.Role)))
	}
	switch {
	case w.after.vetoed != nil || w.after.vetoing != nil:
		return refuse(countersign.CodeConflict, "document %s is already vetoed", w.in.DocumentID)
	case w.after.vetoUntil == nil && w.status == countersign.StatusAccepted && w.in.Policy.VetoWindow > 0 && w.route != nil &&
		(w.route.Outcome == countersign.OutcomeAutoAccept || w.route.Outcome == countersign.OutcomeAutoAcceptWithAudit):
		return refuse(countersign.CodeConflict, "the veto window of document %s has closed and its outcome was delivered; only an audit can correct it now", w.in.DocumentID)
	case w.after.vetoUntil == nil && !w.windowPending():
		return refuse(countersign.CodeConflict, "document %s is not in a veto window (status %s): only auto-accepted documents of a policy with a veto_window can be vetoed", w.in.DocumentID, w.status)
	}
	if err := checkReason(req.Reason); err != nil {
		return err
	}
	switch req.Action {
	case countersign.ActionReject:
		return checkRejection(req.Fields, req.Reason, "a veto that rejects")
	case countersign.ActionCorrect:
		return w.checkCorrection(req.Fields)
	default:
		return refuse(countersign.CodeInvalid, "a veto can reject or correct (got %q); to let the document through, do nothing", req.Action)
	}
}

// windowPending is whether the document's veto window is about to open:
// its route auto-accepts it under a policy with a veto window, and
// Finalize has not returned yet (from the route on: the audit draw, the
// route's record and Finalize). Finalize commits the accepted document to
// the store before the workflow hears of it, so a supervisor who vetoes
// the moment the document shows accepted reaches the workflow before the
// window opens; the veto is let in and waits for it.
//
// The waiting handler wakes when this turns false, which it does as
// Finalize's result sets the status, a step before vetoWindow sets
// vetoUntil. It relies on nothing blocking between the two (finalize
// returns, pipeline calls deliverAndAudit, which opens the window at
// once), so that it next runs with the window open; a blocking step put
// between them would make the veto be refused as too late.
func (w *review) windowPending() bool {
	return w.after.vetoUntil == nil && !w.status.Final() && w.after.failed == nil &&
		w.in.Policy.VetoWindow > 0 && w.v.deliveryAndAudits && !w.in.Gold && w.route != nil &&
		(w.route.Outcome == countersign.OutcomeAutoAccept || w.route.Outcome == countersign.OutcomeAutoAcceptWithAudit)
}

// auditReview opens a post-hoc audit of an auto-accepted document and waits
// for it. The output already counts; the auditor confirms or corrects it.
func (w *review) auditReview(ctx workflow.Context) error {
	r := w.newReview(countersign.ReviewAudit, now(ctx), w.in.Policy.ReviewDue, w.route.Reasons)
	w.open, w.turns.opened = r, false
	if err := workflow.ExecuteActivity(ctx, a.OpenReview, activities.OpenReviewInput{Step: w.step(), Review: r}).Get(ctx, nil); err != nil {
		w.open, w.after.failed = nil, err
		return err
	}
	w.turns.opened = true
	if err := workflow.Await(ctx, func() bool { return w.after.audited != nil || w.after.failed != nil }); err != nil {
		return err
	}
	// The correction is the document's now, whatever came of the report
	// to the supervisor after it.
	if w.after.correction {
		if err := w.deliver(ctx, activities.WebhookCorrectedAfterAudit); err != nil {
			return errors.Join(w.after.failed, err)
		}
	}
	return w.after.failed
}

// decideAudit records an audit verdict, amends the document when the
// auditor corrected it, tells the submitting system (in runs with
// deliverAfterPersonAsActivity, auditReview does, once this has
// answered), and reports the outcome to the task type's supervisor.
func (w *review) decideAudit(ctx workflow.Context, r *countersign.Review, d *countersign.Decision) (DecisionResult, error) {
	result, changed, err := w.amend(ctx, r, d, activities.AmendAudit)
	if err != nil {
		w.after.failed = fmt.Errorf("audit of %s could not be recorded: %w", w.in.DocumentID, err)
		return DecisionResult{}, err
	}
	escaped := len(changed) > 0
	if escaped {
		// The document's first delivery asked the version already.
		if w.deliverVersion(ctx); w.v.deliverAfterPersonAsActivity {
			w.after.correction = true
		} else if err := w.deliver(ctx, activities.WebhookCorrectedAfterAudit); err != nil {
			w.after.failed = err
			return DecisionResult{}, err
		}
	}
	if w.in.Policy.Supervision != nil {
		o := countersign.AuditOutcome{
			DocumentID: w.in.DocumentID,
			TaskType:   w.in.TaskType,
			Confidence: w.confidence.Overall,
			Threshold:  w.in.Policy.AutoAcceptThreshold,
			Escaped:    escaped,
			Fields:     changed,
			Auditor:    d.Actor,
			At:         d.At,
		}
		if err := workflow.ExecuteActivity(ctx, a.ReportAudit, o).Get(ctx, nil); err != nil {
			w.after.failed = err
			return DecisionResult{}, err
		}
	}
	w.after.audited = d
	return result, nil
}
