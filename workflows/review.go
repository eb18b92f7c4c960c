package workflows

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/activities"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/provenance"
	"github.com/countersign/countersign/internal/schema"
)

// ReviewInput starts the review of one document. The policy and the field
// schema are pinned here, at the start: a later edit of the task type never
// changes how a running review routes or what its validator accepts.
type ReviewInput struct {
	DocumentID      string              `json:"document_id"`
	TaskType        string              `json:"task_type"`
	TaskTypeVersion string              `json:"task_type_version"`
	Policy          countersign.Policy  `json:"policy"`
	Schema          json.RawMessage     `json:"schema"`
	SubmittedBy     string              `json:"submitted_by"`
	Channel         countersign.Channel `json:"channel"`
	// Gold says the document is a gold item: a known answer slipped into the
	// queue to measure reviewers, run under countersign.GoldPolicy.
	Gold bool `json:"gold,omitempty"`
	// ReviewGroups are the task type's review groups when the review
	// started: a reviewer outside them may not decide its reviews.
	ReviewGroups []string `json:"review_groups,omitempty"`
}

// ReviewResult is how a review ended.
type ReviewResult struct {
	Status  countersign.Status  `json:"status"`
	Outcome countersign.Outcome `json:"outcome"`
}

// ReviewState is what StateQuery returns: where the review stands.
type ReviewState struct {
	Status     countersign.Status    `json:"status"`
	Route      *countersign.Route    `json:"route,omitempty"`
	OpenReview *countersign.Review   `json:"open_review,omitempty"`
	Decision   *countersign.Decision `json:"decision,omitempty"`
	// VetoOpenUntil is when the veto window closes, while it is open.
	VetoOpenUntil *time.Time `json:"veto_open_until,omitempty"`
	// Votes are the decisions recorded on the open review so far, while it
	// waits for more people (approvals_required).
	Votes []countersign.Decision `json:"votes,omitempty"`
	// HeldSince is when the SLA's timeout put the document on hold; the
	// review stays open until a person decides it.
	HeldSince *time.Time `json:"held_since,omitempty"`
}

// a is the typed reference to the activities; workflows only take method
// values from it, never call them.
var a *activities.Activities

// activityOptions retry every step until it succeeds or fails for good: a
// store outage delays a review, it never loses one. The worker heartbeats
// each step while it runs (worker.New), so a step on a worker that died is
// retried elsewhere once the HeartbeatTimeout passes, not the minute an
// attempt may take.
var activityOptions = workflow.ActivityOptions{
	StartToCloseTimeout: time.Minute,
	HeartbeatTimeout:    heartbeatTimeout,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:    time.Second,
		BackoffCoefficient: 2,
		MaximumInterval:    time.Minute,
	},
}

// localOptions are activityOptions for a step run as a local activity
// (storeStep): the same timeout per attempt and the same retries, without
// end. The SDK bounds a local activity's retries by its
// ScheduleToCloseTimeout, which defaults to the StartToCloseTimeout: a
// minute of store outage would fail the document, so it is set to what
// stands for never (retries past a workflow task's timeout wait on a
// workflow timer). A local activity cannot heartbeat, and needs not: it
// runs in the worker that runs the workflow, so when that worker dies the
// workflow task times out and another worker runs the step again.
var localOptions = workflow.LocalActivityOptions{
	StartToCloseTimeout:    activityOptions.StartToCloseTimeout,
	ScheduleToCloseTimeout: 100 * 365 * 24 * time.Hour,
	RetryPolicy:            activityOptions.RetryPolicy,
}

// storeStep runs fn, a step that only reads and writes the store, with
// input in. In runs with localStoreSteps it is a
// local activity: run at once in the worker that runs the workflow and
// recorded with the workflow task, which saves the round trips through
// Temporal's server that an activity task costs (scheduled, polled,
// started, completed, then a new workflow task). Runs recorded before keep
// their activities.
//
// Only a step whose input is the same however often it runs may be one.
// A local activity runs before its workflow task is recorded; when that
// task is lost (its worker dies, or Temporal cannot store it) the
// workflow runs again from its last recorded task and runs the step again,
// with the input it computes then. An activity's input is fixed in history
// once scheduled. Every step appends its audit event under an ID made from
// its place in the run, and refuses the same ID with other data: so a step
// whose input holds the workflow's clock (a decision's time, a review's
// due time, the final record's) or depends on which of several people's
// updates came first (a decision) would be refused on its second run.
// A decision is worse off still: when the server refuses a workflow
// task's completion it aborts the task's updates for good, so a local
// RecordDecision in that task would leave a decision stored that the
// workflow never hears of (docs/operations.md, Benchmarks).
// Receive, DrawAudit and RecordRoute take only what history holds already
// (the start input, the confidence) and may be local. So may two steps
// that read their own step back (readBackStep): Score, which reads the
// task type's active calibration when it runs, which a person may change
// in between, and Finalize, whose input holds the workflow's clock. When
// its event is recorded already, Score answers with the confidence that
// event and the store hold, and Finalize, when the event records the same
// outcome, with the final record the store holds, not with one computed
// again. Deliver is tried once as a local activity, bounded, before the
// activity (deliver): its input holds the workflow's clock and a second
// run may post while the first still does, so it stores the delivery time
// only if none is stored, records the stored one, and takes the event
// another run of the step recorded, whatever the receiver answered that
// run, as its own. The rest stay activities (measured in make bench:
// docs/operations.md).
//
// A local activity is handed its input as it is, not a copy read from
// history as an activity is: it gets a copy made through JSON, as an
// activity's input is, so that it shares nothing with the workflow's
// state, which the workflow may change while the step runs.
func (w *review) storeStep(ctx workflow.Context, fn, in any) workflow.Future {
	if !w.v.localStoreSteps {
		return workflow.ExecuteActivity(ctx, fn, in)
	}
	return localStep(ctx, fn, in)
}

// readBackStep runs fn, a step that answers a second run with what its
// first stored (Score, Finalize), with input in: in runs with
// readBackSteps as a local activity, which may run again with other input
// after a lost workflow task (storeStep says why that is safe for these
// two); in runs recorded before, as an activity.
func (w *review) readBackStep(ctx workflow.Context, fn, in any) workflow.Future {
	if !w.v.readBackSteps {
		return workflow.ExecuteActivity(ctx, fn, in)
	}
	return localStep(ctx, fn, in)
}

// localStep runs fn with input in as a local activity (storeStep says
// what that saves, and when a step may be one).
func localStep(ctx workflow.Context, fn, in any) workflow.Future {
	copied, err := jsonCopy(in)
	if err != nil {
		f, settable := workflow.NewFuture(ctx)
		settable.SetError(temporal.NewNonRetryableApplicationError("copy the input of a step: "+err.Error(), "internal", err))
		return f
	}
	return workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(ctx, localOptions), fn, copied)
}

// jsonCopy is a copy of v, of v's type, through JSON.
//
// workflowcheck reports it because encoding/json ranges over maps and
// reflects. The copy is the same whatever the order (JSON writes a map's
// keys sorted), and it never enters history: a local activity's input is
// not recorded, only its result.
//
//workflowcheck:ignore
func jsonCopy(v any) (any, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	p := reflect.New(reflect.TypeOf(v))
	if err := json.Unmarshal(raw, p.Interface()); err != nil {
		return nil, err
	}
	return p.Elem().Interface(), nil
}

// extractTimeout bounds one extraction attempt; a model can be slow.
const extractTimeout = 5 * time.Minute

// heartbeatTimeout is how long a step may go without a heartbeat from its
// worker before Temporal counts the attempt lost and retries it on another.
// Changing it changes no command: histories replay.
const heartbeatTimeout = 10 * time.Second

// ReviewWorkflow takes one document through receive, draft, score, route,
// the human gate when the route asks for a person, finalize, and then
// delivery and supervision, recording every step in the audit log.
func (wf *Workflows) ReviewWorkflow(ctx workflow.Context, in ReviewInput) (ReviewResult, error) {
	w := &review{in: in, status: countersign.StatusProcessing, keys: wf.Provenance}
	if err := w.setup(ctx); err != nil {
		return ReviewResult{}, err
	}
	return w.run(ctx)
}

// review is the state of one review workflow. The pipeline's own products
// are fields here; what the update handlers share with the pipeline has one
// owner per concern: decision handling (turns), the human gate (gate), the
// notices (outbox) and what follows the outcome (after).
type review struct {
	in   ReviewInput
	keys *provenance.Verifier // verify the envelopes of people's updates
	v    versions             // the behaviours this run has

	events  int // audit events appended so far; numbers the next one
	reviews int // reviews opened so far; numbers the next one

	status     countersign.Status // final once the document is finalized or failed
	draft      *countersign.Draft
	confidence *countersign.Confidence
	rules      []countersign.RuleHit // policy rules that matched the draft
	route      *countersign.Route
	final      countersign.Fields  // the fields as finalized, which a veto or an audit amends
	open       *countersign.Review // the review waiting for a person: a gate review or an audit

	turns  decisionTurns // decisions on the open review, one at a time
	gate   gate          // the human gate's reviews and their decisions
	outbox outbox        // notices not yet sent
	after  oversight     // the veto window and the audit of the final document

	schema *schema.Schema // compiled on first use by the validators
}

// setup checks the input and registers the query and the updates with their
// validators.
func (w *review) setup(ctx workflow.Context) error {
	if w.in.DocumentID == "" || w.in.TaskTypeVersion == "" {
		return temporal.NewNonRetryableApplicationError("review input needs a document ID and a task type version", string(countersign.CodeInvalid), nil)
	}
	if w.in.Policy.Mode != countersign.ModeHITL && w.in.Policy.Mode != countersign.ModeHOTL {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("unknown policy mode %q", w.in.Policy.Mode), string(countersign.CodeInvalid), nil)
	}
	w.turns.mu = workflow.NewMutex(ctx)
	if err := workflow.SetQueryHandler(ctx, StateQuery, w.state); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, DecisionUpdate, w.decide, workflow.UpdateHandlerOptions{
		Validator:   w.validateDecision,
		Description: "a reviewer's approve, correct or reject",
	}); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, VetoUpdate, w.veto, workflow.UpdateHandlerOptions{
		Validator:   w.validateVeto,
		Description: "a supervisor's override of an auto-accepted document within the veto window",
	})
}

// run runs the pipeline, and fails the document if it cannot finish.
func (w *review) run(ctx workflow.Context) (ReviewResult, error) {
	ctx = workflow.WithActivityOptions(ctx, activityOptions)
	w.v.localStoreSteps = workflow.GetVersion(ctx, localStepsChange, workflow.DefaultVersion, 1) >= 1
	if err := w.pipeline(ctx); err != nil {
		// An input the store does not vouch for is refused before anything
		// is recorded; failing the document would act on what the refused
		// input names, which may be another review's document, or final.
		// No history recorded before the refusal existed has it, so none
		// replays otherwise.
		if refused(err) {
			return ReviewResult{}, err
		}
		return w.fail(ctx, err)
	}
	// A decision's update handler returns the final status; let it finish,
	// and the last notices go out.
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) && w.outbox.empty() }); err != nil {
		return ReviewResult{}, err
	}
	return ReviewResult{Status: w.status, Outcome: w.route.Outcome}, nil
}

// pipeline is the pipeline of one document, step by step: each step is a
// method of its own, in this file unless named otherwise.
func (w *review) pipeline(ctx workflow.Context) error {
	if err := w.receive(ctx); err != nil {
		return err
	}
	if err := w.extract(ctx); err != nil {
		return err
	}
	if err := w.score(ctx); err != nil {
		return err
	}
	if err := w.decideRoute(ctx); err != nil {
		return err
	}
	if w.route.Outcome == countersign.OutcomeHumanReview {
		if err := w.humanGate(ctx); err != nil { // gate.go
			return err
		}
	}
	if err := w.finalize(ctx); err != nil {
		return err
	}
	if w.gate.review != nil {
		w.closeNotice(ctx, w.gate.review, w.gate.outcome())
	}
	if !w.v.deliveryAndAudits || w.in.Gold {
		return nil
	}
	return w.deliverAndAudit(ctx)
}

// step numbers the next audit event; the number is part of the event ID, so a
// retried activity appends the same event.
func (w *review) step() activities.Step {
	w.events++
	return activities.Step{
		EventID:         fmt.Sprintf("%s/%d", ReviewWorkflowID(w.in.DocumentID), w.events),
		DocumentID:      w.in.DocumentID,
		TaskTypeVersion: w.in.TaskTypeVersion,
		PolicyVersion:   w.in.Policy.Version,
	}
}

func (w *review) receive(ctx workflow.Context) error {
	in := activities.ReceiveInput{
		Step:         w.step(),
		SubmittedBy:  w.in.SubmittedBy,
		Channel:      w.in.Channel,
		TaskType:     w.in.TaskType,
		Policy:       w.in.Policy,
		Schema:       w.in.Schema,
		ReviewGroups: w.in.ReviewGroups,
		Gold:         w.in.Gold,
	}
	return w.storeStep(ctx, a.Receive, in).Get(ctx, nil)
}

func (w *review) extract(ctx workflow.Context) error {
	opts := workflow.GetActivityOptions(ctx)
	opts.StartToCloseTimeout = extractTimeout
	ctx = workflow.WithActivityOptions(ctx, opts)
	return workflow.ExecuteActivity(ctx, a.Extract, activities.ExtractInput{Step: w.step()}).Get(ctx, &w.draft)
}

func (w *review) score(ctx workflow.Context) error {
	w.v.readBackSteps = workflow.GetVersion(ctx, readBackChange, workflow.DefaultVersion, 1) >= 1
	in := activities.ScoreInput{Step: w.step(), Draft: w.draft, Policy: &w.in.Policy}
	var result activities.ScoreResult
	if err := w.readBackStep(ctx, a.Score, in).Get(ctx, &result); err != nil {
		return err
	}
	w.confidence, w.rules = result.Confidence, result.Rules
	return nil
}

// decideRoute routes the scored draft (Route, route.go), draws an
// auto-accepted document for audit (drawAudit, hotl.go) and records the
// route.
func (w *review) decideRoute(ctx workflow.Context) error {
	w.v.deliveryAndAudits = workflow.GetVersion(ctx, hotlChange, workflow.DefaultVersion, 1) >= 1
	policy := w.in.Policy
	if w.v.deliveryAndAudits {
		// The audit draw is the DrawAudit activity's, stratified by band.
		policy.AuditSampleRate = 0
	}
	w.route = Route(RouteInput{
		Policy:     policy,
		DocumentID: w.in.DocumentID,
		Draft:      w.draft,
		Confidence: w.confidence,
		Rules:      w.rules,
	})
	if w.route.Mode == countersign.ModeHOTL {
		// What certify and simulate need to tell the uniform sample of
		// the task type's documents (simulate.Sampled); no command
		// changes, so no version.
		w.route.AuditSampleRate = w.in.Policy.AuditSampleRate
	}
	if w.v.deliveryAndAudits {
		if err := w.drawAudit(ctx); err != nil {
			return err
		}
	}
	in := activities.RouteInput{Step: w.step(), Route: w.route}
	return w.storeStep(ctx, a.RecordRoute, in).Get(ctx, nil)
}

// finalize records the document's outcome: the route's, the gate's
// decision, or the SLA's timeout.
func (w *review) finalize(ctx workflow.Context) error {
	in := activities.FinalizeInput{
		Step:      w.step(),
		Draft:     w.draft,
		Outcome:   w.route.Outcome,
		Decision:  w.gate.decided,
		Reasons:   w.rejectReasons(),
		TimedOut:  w.gate.ended == gateTimedOut,
		At:        now(ctx),
		Agreed:    w.gate.agreed(),
		Reviewers: w.gate.reviewers(),
	}
	var result activities.FinalizeResult
	if err := w.readBackStep(ctx, a.Finalize, in).Get(ctx, &result); err != nil {
		return err
	}
	w.status = result.Status
	if result.Final != nil {
		w.final = result.Final.Fields
	}
	return nil
}

// rejectReasons are the route's reasons when the policy rejected the
// document; a person's rejection carries its own reason.
func (w *review) rejectReasons() []string {
	if w.gate.ended == gateTimedOut {
		return []string{w.gate.timedOut.reason()}
	}
	if w.route.Outcome != countersign.OutcomeReject || w.gate.decided != nil {
		return nil
	}
	return w.route.Reasons
}

// deliverAndAudit is what follows the final document, whatever its policy
// mode: an auto-accepted document is held for the policy's veto window
// (vetoWindow, hotl.go), every document is delivered, and one drawn for
// audit, unless vetoed, is audited (auditReview, hotl.go).
func (w *review) deliverAndAudit(ctx workflow.Context) error {
	auto := w.route.Outcome == countersign.OutcomeAutoAccept || w.route.Outcome == countersign.OutcomeAutoAcceptWithAudit
	if auto && w.status == countersign.StatusAccepted && w.in.Policy.VetoWindow > 0 {
		if err := w.vetoWindow(ctx); err != nil {
			return err
		}
	}
	if err := w.deliver(ctx, activities.WebhookFinalized); err != nil {
		return err
	}
	if w.route.Outcome == countersign.OutcomeAutoAcceptWithAudit && w.after.vetoed == nil {
		return w.auditReview(ctx)
	}
	return nil
}

// deliver tells the submitting system about the document (event). In runs
// with localDeliver it first tries once as a local activity, bounded by
// localDeliverOptions, and on a timeout or a failure worth retrying
// schedules the activity with the same input (the same event ID, the same
// time), which retries as every step does: a receiver that is slow, down
// or refusing for a while costs the activity's round trips, never the
// document. A failure the attempt marks permanent (a conflict under the
// delivery's event ID, say) is the delivery's, as it would be the
// activity's, in runs with permanentLocalDeliveryFails; runs before it
// schedule the activity after any failure. The step may run twice, at
// once (Deliver says why that is safe), so a receiver may see the event
// twice under one ID.
//
// A local activity holds its workflow task open, and with it whatever the
// task answers: the delivery of a document a person's decision settled or
// vetoed, or of an audit's correction, would run in the task that answers
// the person, who would wait for the receiver. In runs with
// deliverAfterPersonAsActivity such a delivery is the activity's alone:
// the task ends, and the answer goes out, as soon as it is scheduled.
func (w *review) deliver(ctx workflow.Context, event string) error {
	w.deliverVersion(ctx)
	in := activities.DeliverInput{Step: w.step(), Event: event, At: now(ctx)}
	afterPerson := event == activities.WebhookCorrectedAfterAudit ||
		(event == activities.WebhookFinalized && (w.gate.decided != nil || w.after.vetoed != nil))
	if w.v.localDeliver && !(afterPerson && w.v.deliverAfterPersonAsActivity) {
		copied, err := jsonCopy(in)
		if err == nil {
			lctx := workflow.WithLocalActivityOptions(ctx, localDeliverOptions)
			err = workflow.ExecuteLocalActivity(lctx, a.Deliver, copied).Get(ctx, nil)
		}
		if err == nil {
			return nil
		}
		var appErr *temporal.ApplicationError
		if w.v.permanentLocalDeliveryFails && errors.As(err, &appErr) && appErr.NonRetryable() {
			return err
		}
		workflow.GetLogger(ctx).Info("local delivery attempt failed; delivering as an activity", "document", w.in.DocumentID, "event", event, "error", rootMessage(err))
	}
	return workflow.ExecuteActivity(ctx, a.Deliver, in).Get(ctx, nil)
}

// deliverVersion sets the behaviours localDeliverChange guards. It is
// asked at each delivery, first at the final document's, before any
// audit.
func (w *review) deliverVersion(ctx workflow.Context) {
	version := workflow.GetVersion(ctx, localDeliverChange, workflow.DefaultVersion, localDeliverNotAfterPerson)
	w.v.localDeliver = version >= localDeliverFirst
	w.v.permanentLocalDeliveryFails = version >= localDeliverPermanent
	w.v.deliverAfterPersonAsActivity = version >= localDeliverNotAfterPerson
}

// localDeliverOptions bound the local attempt at a delivery (deliver). A
// local activity holds its workflow task, and the worker's slot for it,
// open while it runs: a receiver that answers slowly would stall other
// reviews on the worker, and one slower than the workflow task's timeout
// (10 seconds) would have the task heartbeaten or timed out. Three seconds
// is many times what a store write and a POST to a healthy receiver take,
// and well inside the task's timeout; one attempt, as the activity retries
// with backoff on a task of its own.
var localDeliverOptions = workflow.LocalActivityOptions{
	StartToCloseTimeout:    3 * time.Second,
	ScheduleToCloseTimeout: 3 * time.Second,
	RetryPolicy:            &temporal.RetryPolicy{MaximumAttempts: 1},
}

// newReview is the document's next review, for reasons: of kind (empty for
// a gate review, as gate reviews have always been opened), opened at at
// and due after due.
func (w *review) newReview(kind countersign.ReviewKind, at time.Time, due time.Duration, reasons []string) *countersign.Review {
	w.reviews++
	r := &countersign.Review{
		ID:         countersign.ReviewID(w.in.DocumentID, w.reviews),
		DocumentID: w.in.DocumentID,
		TaskType:   w.in.TaskType,
		Kind:       kind,
		Status:     countersign.ReviewPending,
		CreatedAt:  at,
		DueAt:      at.Add(due),
		Reasons:    reasons,
	}
	if w.confidence != nil {
		r.Confidence = w.confidence.Overall
	}
	// Data for the queue's order, not a step: no version needed.
	r.Risk = w.route != nil && slices.ContainsFunc(w.route.Rules, func(h countersign.RuleHit) bool { return h.Kind == countersign.RuleRisk })
	return r
}

// fail records that the document could not be processed, and fails the
// workflow with the cause.
func (w *review) fail(ctx workflow.Context, cause error) (ReviewResult, error) {
	ctx, _ = workflow.NewDisconnectedContext(ctx)
	reason := rootMessage(cause)
	workflow.GetLogger(ctx).Error("review failed", "document", w.in.DocumentID, "error", reason)
	if w.status.Final() {
		// The outcome stands (it may be delivered already); only what came
		// after it, an audit or a delivery, is abandoned, and recorded so.
		w.open = nil
		err := workflow.ExecuteActivity(ctx, a.Abandon, activities.FailInput{Step: w.step(), Reason: reason}).Get(ctx, nil)
		return ReviewResult{Status: w.status}, errors.Join(cause, err)
	}
	err := workflow.ExecuteActivity(ctx, a.Fail, activities.FailInput{Step: w.step(), Reason: reason}).Get(ctx, nil)
	w.status, w.open = countersign.StatusFailed, nil
	if w.gate.review != nil {
		w.closeNotice(ctx, w.gate.review, "the document failed: "+reason)
	}
	w.outbox.start(ctx)
	// A decision waiting on this document learns it failed before the run
	// ends, and the last notices go out.
	if waitErr := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) && w.outbox.empty() }); waitErr != nil {
		err = errors.Join(err, waitErr)
	}
	if err != nil {
		return ReviewResult{Status: w.status}, errors.Join(cause, err)
	}
	return ReviewResult{Status: w.status}, temporal.NewNonRetryableApplicationError("review failed: "+reason, "review_failed", cause)
}

// now is workflow time at the precision the stores keep, so what the
// workflow returns matches what is stored.
func now(ctx workflow.Context) time.Time {
	return audit.Time(workflow.Now(ctx))
}

// refused reports whether err is Receive's refusal of the review's input.
func refused(err error) bool {
	var appErr *temporal.ApplicationError
	return errors.As(err, &appErr) && appErr.Type() == activities.ErrUntrustedStart
}

// rootMessage is the message of the innermost application error, without the
// activity wrappers around it.
func rootMessage(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Error()
	}
	return err.Error()
}

// state is the StateQuery handler.
func (w *review) state() (ReviewState, error) {
	s := ReviewState{Status: w.status, Route: w.route, OpenReview: w.open, Decision: w.gate.decided, VetoOpenUntil: w.after.vetoUntil}
	if w.open != nil && w.open == w.gate.review {
		for _, v := range w.gate.votes {
			s.Votes = append(s.Votes, *v.decision)
		}
		s.HeldSince = w.gate.heldSince
	}
	return s, nil
}
