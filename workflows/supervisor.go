package workflows

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/activities"
	"github.com/countersign/countersign/internal/provenance"
	"github.com/countersign/countersign/internal/quality"
)

// supervisorRunLength is how many audits one run of a supervisor handles
// before it continues as new, which keeps its history short.
const supervisorRunLength = 500

// recentKept is how many audited document IDs a supervisor remembers, so
// that an outcome reported twice (a retried report) counts once, and is not
// checked again.
const recentKept = 256

// auditBatch bounds the reports one ConfirmAudits call checks.
const auditBatch = 50

// SupervisorInput starts a supervisor; State carries it across runs.
type SupervisorInput struct {
	TaskType string       `json:"task_type"`
	State    *Supervision `json:"state,omitempty"`
}

// Supervision is what a supervisor knows: the policy its window judges and
// the certificate evidence it starts from (Basis), the audits since the
// window started (Window, by confidence), all audits ever, the latest
// estimate and the override in force.
type Supervision struct {
	TaskType string                      `json:"task_type"`
	Since    time.Time                   `json:"since"`
	Window   quality.Histogram           `json:"window"`
	All      quality.Tally               `json:"all"`
	Estimate *quality.Estimate           `json:"estimate,omitempty"`
	Override *countersign.PolicyOverride `json:"override,omitempty"`
	// Events numbers the supervisor's audit events; Tightenings its
	// overrides.
	Events      int      `json:"events"`
	Tightenings int      `json:"tightenings"`
	Recent      []string `json:"recent,omitempty"`
	Loaded      bool     `json:"loaded"`
	// Lineage is the run ID of the first run of this supervisor, carried
	// across continue-as-new: it keeps the supervisor's audit event IDs
	// apart from those of an earlier supervisor of the same task type.
	Lineage string `json:"lineage"`
	// Unjudged is set when audits were counted that no estimate has seen.
	Unjudged bool `json:"unjudged,omitempty"`
	// Basis is what the window judges: the policy versions in force since it
	// started and the certificate whose evidence it starts from. Nil in runs
	// of before certificates.
	Basis *activities.Basis `json:"basis,omitempty"`
	// Ignored counts the audit reports the store did not confirm (unknown
	// documents, audits not closed, counted before, of another policy), so
	// they were not counted.
	Ignored int `json:"ignored,omitempty"`
	// Pending are reports that arrived as a run ended, to be checked first
	// thing in the next.
	Pending []countersign.AuditOutcome `json:"pending,omitempty"`
	// DrawOrder is set in runs since drawOrderChange: the audits count in
	// the order they were drawn, each once decided or due, read from the
	// store; After is where that walk stands. Waiting is the document whose
	// audit it waits for (decided, or due at Due), with the audits drawn
	// after it, and Until when it looks again. Poll is how long it waits
	// with no audit waiting before it looks (the policy's review_due).
	DrawOrder bool                      `json:"draw_order,omitempty"`
	After     *activities.AuditPosition `json:"after,omitempty"`
	Waiting   string                    `json:"waiting,omitempty"`
	Due       time.Time                 `json:"due,omitempty"`
	Until     time.Time                 `json:"until,omitempty"`
	Poll      time.Duration             `json:"poll,omitempty"`
	// Overdue counts the audits of the window counted as escaped for want
	// of a verdict in time (activities.CountAudits).
	Overdue int `json:"overdue,omitempty"`
}

// ResetRequest is a person lifting a tightened policy.
type ResetRequest struct {
	Reason  string                `json:"reason"`
	Actor   countersign.Principal `json:"actor"`
	Channel countersign.Channel   `json:"channel"`
	// Provenance is the API's signed envelope of this request.
	Provenance *provenance.Envelope `json:"provenance,omitempty"`
}

// SupervisorWorkflow keeps a task type's escaped-error estimate from the
// audits it confirms against the store, in a window that starts from the
// certificate of the policy in force when there is one; tightens the policy
// when the evidence breaches the error budget (the Supervise activity
// decides and records); and holds the tightening until a person with the
// approver role resets it.
func (wf *Workflows) SupervisorWorkflow(ctx workflow.Context, in SupervisorInput) error {
	if err := trustedStart(ctx, in); err != nil {
		return err
	}
	s := in.State
	if s == nil {
		s = &Supervision{TaskType: in.TaskType, Since: now(ctx), Lineage: workflow.GetInfo(ctx).WorkflowExecution.RunID}
	}
	sup := &supervisor{s: s, keys: wf.Provenance}
	ctx = workflow.WithActivityOptions(ctx, activityOptions)
	if err := workflow.SetQueryHandler(ctx, SupervisionQuery, func() (Supervision, error) { return *sup.s, nil }); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, ResetUpdate, sup.reset, workflow.UpdateHandlerOptions{
		Validator:   sup.validateReset,
		Description: "lift the supervisor's tightening of the policy",
	}); err != nil {
		return err
	}
	sup.verified = workflow.GetVersion(ctx, verifiedAudits, workflow.DefaultVersion, 1) >= 1
	if sup.verified {
		was := s.DrawOrder
		s.DrawOrder = workflow.GetVersion(ctx, drawOrderChange, workflow.DefaultVersion, 1) >= 1
		// A run that goes on from one that counted audits as decided.
		sup.switched = s.DrawOrder && !was && in.State != nil
	}
	if !s.Loaded {
		// An override may be in force from an earlier supervisor.
		if err := workflow.ExecuteActivity(ctx, a.ActiveOverride, in.TaskType).Get(ctx, &s.Override); err != nil {
			return err
		}
		s.Loaded = true
	}
	if sup.verified && s.Basis == nil {
		if err := sup.loadBasis(ctx); err != nil {
			return err
		}
	}
	audits := workflow.GetSignalChannel(ctx, AuditSignal)
	if s.Unjudged {
		if err := sup.supervise(ctx); err != nil {
			return err
		}
	}
	switch {
	case s.DrawOrder:
		return sup.runInOrder(ctx, audits)
	case sup.verified:
		return sup.run(ctx, audits)
	}
	return sup.runUnverified(ctx, audits)
}

// trustedStart refuses a supervisor run whose input it cannot vouch for:
// anyone who can reach the Temporal frontend can start a workflow of this
// type, with any input. The run must be the supervisor of the task type it
// names (its workflow ID is the one each of its audit events, overrides
// and signals is addressed by). A carried State (the window's evidence, the
// override in force, where the walk stands) is believed only from a run
// this supervisor continued as new: Temporal sets ContinuedExecutionRunID
// on no run a client starts. A workflow retry or a cron run would run a
// client's input again with it set, so a carried State there is refused
// too. A run that starts with no State rebuilds what it needs from the
// store, as the reconciler's start does. The refusal is asked for as a
// version (trustedStartChange) only when it refuses, so the histories of
// runs it lets through do not change.
func trustedStart(ctx workflow.Context, in SupervisorInput) error {
	info := workflow.GetInfo(ctx)
	var why string
	switch {
	case in.TaskType == "" || info.WorkflowExecution.ID != SupervisorWorkflowID(in.TaskType):
		why = fmt.Sprintf("workflow %s is not the supervisor of task type %q (that is %s)", info.WorkflowExecution.ID, in.TaskType, SupervisorWorkflowID(in.TaskType))
	case in.State == nil:
		return nil
	case in.State.TaskType != in.TaskType:
		why = fmt.Sprintf("the carried state is task type %q's, not %q's", in.State.TaskType, in.TaskType)
	case info.ContinuedExecutionRunID == "":
		why = "it carries a state but was not continued from a run of this supervisor; start it with the task type alone"
	case info.Attempt > 1 || info.CronSchedule != "":
		why = "it carries a state into a retry or cron run of a client's start"
	default:
		return nil
	}
	if workflow.GetVersion(ctx, trustedStartChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return nil
	}
	msg := "supervisor input refused: " + why
	workflow.GetLogger(ctx).Warn(msg, "workflow", info.WorkflowExecution.ID)
	return temporal.NewNonRetryableApplicationError(msg, activities.ErrUntrustedStart, nil)
}

// runInOrder is the supervisor's life since drawOrderChange: it counts the
// audits in the order they were drawn (walk), judges, then waits for a
// report (which only wakes it: the store is read, the report is not), a
// change of policy, or its timer (the audit it waits for due, or, with
// none waiting, the policy's review_due gone by); and continues as new
// after supervisorRunLength audits.
func (sup *supervisor) runInOrder(ctx workflow.Context, audits workflow.ReceiveChannel) error {
	s := sup.s
	policy := workflow.GetSignalChannel(ctx, PolicySignal)
	if sup.switched {
		// The window of a run that counted audits as they were decided
		// ends here: a new one counts the audits drawn from now on, in
		// the order drawn (the walk from the first audit would count
		// again what that run counted, or could not confirm). Reports it
		// carried are dropped: the walk reads the store.
		sup.newWindow(ctx, s.Basis)
		s.After = &activities.AuditPosition{CreatedAt: now(ctx)}
		s.Pending, s.Recent, s.Ignored = nil, nil, 0
	}
	var (
		timer       workflow.Future
		timerAt     time.Time
		cancelTimer workflow.CancelFunc
	)
	for handled := 0; ; {
		counted, err := sup.walk(ctx)
		if err != nil {
			return err
		}
		handled += counted
		if handled >= supervisorRunLength || workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
				return err
			}
			return workflow.NewContinueAsNewError(ctx, SupervisorWorkflowType, SupervisorInput{TaskType: s.TaskType, State: s})
		}
		// Look again when the audit waited for is due (or has settled),
		// or, with none waiting, within review_due: nothing tells the
		// supervisor that an audit was drawn, and one drawn now is due
		// no sooner than that. A timer set for sooner stays (a wake too
		// early only walks); one set for later gives way.
		next := s.Until
		if next.IsZero() && s.Poll > 0 {
			next = now(ctx).Add(s.Poll)
		}
		if timer != nil && !next.IsZero() && next.Before(timerAt) {
			cancelTimer()
			timer = nil
		}
		if timer == nil && !next.IsZero() {
			var tctx workflow.Context
			tctx, cancelTimer = workflow.WithCancel(ctx)
			timer, timerAt = workflow.NewTimer(tctx, max(next.Sub(now(ctx)), time.Second)), next
		}
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(audits, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil) })
		sel.AddReceive(policy, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil) })
		if timer != nil {
			sel.AddFuture(timer, func(workflow.Future) { cancelTimer(); timer = nil })
		}
		sel.Select(ctx)
		if err := ctx.Err(); err != nil {
			return err
		}
		for audits.ReceiveAsync(nil) {
		}
		for policy.ReceiveAsync(nil) {
		}
	}
}

// walk counts what the store holds that can be counted now, a page of
// audits at a time (CountAudits), judging after each page that changed
// the window; it returns how many audits it counted or passed. It stops
// early when Temporal suggests continuing as new (the next run walks on).
// A page is not walked while a reset runs, nor a reset run while a page
// is: the audits of a page count in one window.
func (sup *supervisor) walk(ctx workflow.Context) (int, error) {
	total := 0
	for {
		if err := workflow.Await(ctx, func() bool { return !sup.resetting }); err != nil {
			return total, err
		}
		sup.walking = true
		more, n, err := sup.walkPage(ctx)
		sup.walking = false
		total += n
		if err != nil || !more || workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			return total, err
		}
	}
}

// walkPage walks one page of audits, and says whether more may follow.
func (sup *supervisor) walkPage(ctx workflow.Context) (bool, int, error) {
	s := sup.s
	in := activities.CountAuditsInput{TaskType: s.TaskType, Counter: sup.eventID(), Basis: s.Basis, After: s.After, Now: now(ctx)}
	var res activities.CountAuditsResult
	if err := workflow.ExecuteActivity(ctx, a.CountAudits, in).Get(ctx, &res); err != nil {
		return false, 0, err
	}
	changed := sup.follow(ctx, res.NewWindow, res.Basis)
	s.After, s.Waiting, s.Due, s.Until, s.Poll = res.After, res.Waiting, res.Due, res.Until, res.Poll
	s.Ignored += len(res.Passed)
	for _, o := range res.Counted {
		s.tally(o)
		if o.NoVerdict {
			s.Overdue++
		}
	}
	changed += len(res.Counted)
	if changed > 0 {
		if err := sup.supervise(ctx); err != nil {
			return false, 0, err
		}
	}
	return res.More, len(res.Counted) + len(res.Passed), nil
}

// runUnverified is the supervisor's life in runs begun before
// verifiedAudits: it counts each report as it comes, judges, and continues
// as new after supervisorRunLength audits.
func (sup *supervisor) runUnverified(ctx workflow.Context, audits workflow.ReceiveChannel) error {
	s := sup.s
	for handled := 0; ; {
		var o countersign.AuditOutcome
		audits.Receive(ctx, &o)
		if err := ctx.Err(); err != nil {
			return err
		}
		if !sup.add(o) {
			continue
		}
		handled++
		if err := sup.supervise(ctx); err != nil {
			return err
		}
		if handled >= supervisorRunLength || workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			for audits.ReceiveAsync(&o) {
				sup.add(o)
			}
			if err := sup.supervise(ctx); err != nil {
				return err
			}
			if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
				return err
			}
			// Audits that arrived while the last estimate ran are carried
			// over, to be judged first thing in the next run.
			for audits.ReceiveAsync(&o) {
				s.Unjudged = sup.add(o) || s.Unjudged
			}
			return workflow.NewContinueAsNewError(ctx, SupervisorWorkflowType, SupervisorInput{TaskType: s.TaskType, State: s})
		}
	}
}

// run is the supervisor's life since verifiedAudits: it waits for audit
// reports or a change of policy, counts what the store confirms, judges,
// and continues as new after supervisorRunLength audits.
func (sup *supervisor) run(ctx workflow.Context, audits workflow.ReceiveChannel) error {
	s := sup.s
	policy := workflow.GetSignalChannel(ctx, PolicySignal)
	if len(s.Pending) > 0 {
		pending := s.Pending
		s.Pending = nil
		if _, err := sup.count(ctx, pending); err != nil {
			return err
		}
		if err := sup.supervise(ctx); err != nil {
			return err
		}
	}
	for handled := 0; ; {
		var batch []countersign.AuditOutcome
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(audits, func(c workflow.ReceiveChannel, _ bool) {
			var o countersign.AuditOutcome
			c.Receive(ctx, &o)
			batch = append(batch, o)
		})
		sel.AddReceive(policy, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil) })
		sel.Select(ctx)
		if err := ctx.Err(); err != nil {
			return err
		}
		for policy.ReceiveAsync(nil) {
		}
		batch = receiveBatch(audits, batch)
		changed, err := sup.count(ctx, batch)
		if err != nil {
			return err
		}
		if changed > 0 {
			handled += changed
			if err := sup.supervise(ctx); err != nil {
				return err
			}
		}
		// Reports that count nothing still lengthen the history: a flood of
		// forged ones ends a run as Temporal suggests.
		if handled < supervisorRunLength && !workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			continue
		}
		for batch := receiveBatch(audits, nil); len(batch) > 0; batch = receiveBatch(audits, nil) {
			if _, err := sup.count(ctx, batch); err != nil {
				return err
			}
		}
		if err := sup.supervise(ctx); err != nil {
			return err
		}
		if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
			return err
		}
		// Reports that arrived while the last steps ran are carried over,
		// to be checked first thing in the next run.
		var o countersign.AuditOutcome
		for audits.ReceiveAsync(&o) {
			s.Pending = append(s.Pending, o)
		}
		return workflow.NewContinueAsNewError(ctx, SupervisorWorkflowType, SupervisorInput{TaskType: s.TaskType, State: s})
	}
}

// receiveBatch adds to batch the reports already waiting, up to auditBatch.
func receiveBatch(audits workflow.ReceiveChannel, batch []countersign.AuditOutcome) []countersign.AuditOutcome {
	var o countersign.AuditOutcome
	for len(batch) < auditBatch && audits.ReceiveAsync(&o) {
		batch = append(batch, o)
	}
	return batch
}

type supervisor struct {
	s         *Supervision
	resetting bool
	// walking is set while the walk counts a page of audits (draw order).
	walking bool
	keys    *provenance.Verifier
	// verified is set in runs since verifiedAudits; switched in a run in
	// draw order that goes on from one that was not.
	verified, switched bool
}

// add counts an audit outcome once, and reports whether it was new.
func (sup *supervisor) add(o countersign.AuditOutcome) bool {
	s := sup.s
	if slices.Contains(s.Recent, o.DocumentID) {
		return false
	}
	s.Recent = append(s.Recent, o.DocumentID)
	if len(s.Recent) > recentKept {
		s.Recent = s.Recent[len(s.Recent)-recentKept:]
	}
	s.tally(o)
	return true
}

// tally counts an audit in the window and among all audits.
func (s *Supervision) tally(o countersign.AuditOutcome) {
	s.Window.Add(o.Confidence, o.Escaped)
	s.All.Audits++
	if o.Escaped {
		s.All.Escaped++
	}
}

// follow starts a new window judging basis when newWindow is set, and
// returns 1 (something to judge); otherwise the window goes on, judging
// basis (the policy versions it counts may have grown), and it returns 0.
func (sup *supervisor) follow(ctx workflow.Context, newWindow bool, basis *activities.Basis) int {
	if newWindow {
		sup.newWindow(ctx, basis)
		return 1
	}
	sup.s.Basis = basis
	return 0
}

// count checks a batch of reports against the store (ConfirmAudits), starts
// a new window when the policy in force no longer is the one the window
// judges, and counts the confirmed audits. It returns how many audits it
// counted, plus one when it started a new window: either is something to
// judge.
func (sup *supervisor) count(ctx workflow.Context, batch []countersign.AuditOutcome) (int, error) {
	s := sup.s
	// A report of an audit counted lately (a retried report) is dropped
	// before the store is asked.
	reports := slices.DeleteFunc(slices.Clone(batch), func(o countersign.AuditOutcome) bool { return slices.Contains(s.Recent, o.DocumentID) })
	in := activities.ConfirmAuditsInput{TaskType: s.TaskType, Counter: sup.eventID(), Basis: s.Basis, Reports: reports}
	var res activities.ConfirmAuditsResult
	if err := workflow.ExecuteActivity(ctx, a.ConfirmAudits, in).Get(ctx, &res); err != nil {
		return 0, err
	}
	changed := sup.follow(ctx, res.NewWindow, res.Basis)
	s.Ignored += len(res.Ignored)
	for _, o := range res.Confirmed {
		if sup.add(o) {
			changed++
		}
	}
	return changed, nil
}

// loadBasis reads the policy the window judges (PolicyBasis). A window
// carried from a run of before certificates goes on when the policy in
// force is still the task type's own; otherwise a new one starts, from the
// certificate's evidence if the policy in force has one.
func (sup *supervisor) loadBasis(ctx workflow.Context) error {
	var b activities.Basis
	if err := workflow.ExecuteActivity(ctx, a.PolicyBasis, sup.s.TaskType).Get(ctx, &b); err != nil {
		return err
	}
	if len(b.Versions) == 0 && b.Certificate == nil {
		sup.s.Basis = &b
		return nil
	}
	sup.newWindow(ctx, &b)
	return nil
}

// newWindow starts an estimation window judging basis, from its
// certificate's evidence if it has one: the audits before do not count
// against the policy now in force.
func (sup *supervisor) newWindow(ctx workflow.Context, basis *activities.Basis) {
	s := sup.s
	s.Basis, s.Window, s.Estimate, s.Since, s.Overdue = basis, quality.Histogram{}, nil, now(ctx), 0
}

func (sup *supervisor) eventID() string {
	sup.s.Events++
	return fmt.Sprintf("%s/%s/%d", SupervisorWorkflowID(sup.s.TaskType), sup.s.Lineage, sup.s.Events)
}

func (sup *supervisor) supervise(ctx workflow.Context) error {
	s := sup.s
	run := workflow.GetInfo(ctx).WorkflowExecution.RunID
	in := activities.SuperviseInput{
		EventID:    sup.eventID(),
		TaskType:   s.TaskType,
		Window:     s.Window,
		Basis:      s.Basis,
		Override:   s.Override,
		OverrideID: fmt.Sprintf("%s/%d-%s", s.TaskType, s.Tightenings+1, run[:min(8, len(run))]),
		At:         now(ctx),
	}
	var result activities.SuperviseResult
	if err := workflow.ExecuteActivity(ctx, a.Supervise, in).Get(ctx, &result); err != nil {
		return err
	}
	s.Estimate, s.Unjudged = result.Estimate, false
	if result.Tightened != nil {
		s.Override = result.Tightened
		s.Tightenings++
	}
	return nil
}

// validateReset is the reset update's validator: the size ceiling, the
// envelope that proves who sent it, then checkReset, which the handler
// checks again.
func (sup *supervisor) validateReset(ctx workflow.Context, req ResetRequest) error {
	if err := checkSize(nil, req.Reason); err != nil {
		return err
	}
	want, err := req.Claims(sup.s.TaskType, updateID(ctx))
	if err := checkProvenance(ctx, sup.keys, req.Provenance, want, err); err != nil {
		return err
	}
	return sup.checkReset(req)
}

// checkReset refuses a reset by someone who is not a supervisor (403), of a
// policy that is not tightened (409), or without a reason (422).
func (sup *supervisor) checkReset(req ResetRequest) error {
	if !req.Actor.Role.CanSupervise() {
		return refuse(countersign.CodeForbidden, "%s (role %s) may not reset a policy: the approver or admin role is needed", req.Actor.User, orNone(string(req.Actor.Role)))
	}
	if sup.s.Override == nil || sup.resetting {
		return refuse(countersign.CodeConflict, "the policy of %s is not tightened: there is nothing to reset", sup.s.TaskType)
	}
	if strings.TrimSpace(req.Reason) == "" || strings.ContainsRune(req.Reason, 0) {
		return refuse(countersign.CodeInvalid, "a reset needs a reason: what was fixed, or why the tightening is no longer needed")
	}
	return nil
}

// reset lifts the override and starts a new estimation window: the audits
// that led to the tightening do not count against the policy after it.
// Since verifiedAudits the window starts from the certificate of the policy
// in force, if it has one.
func (sup *supervisor) reset(ctx workflow.Context, req ResetRequest) (countersign.PolicyOverride, error) {
	if err := sup.checkReset(req); err != nil {
		return countersign.PolicyOverride{}, err
	}
	sup.resetting = true
	defer func() { sup.resetting = false }()
	// A page of audits being counted counts in the window it began in.
	if err := workflow.Await(ctx, func() bool { return !sup.walking }); err != nil {
		return countersign.PolicyOverride{}, err
	}
	ctx = workflow.WithActivityOptions(ctx, activityOptions)
	s := sup.s
	in := activities.ResetInput{
		EventID:    sup.eventID(),
		TaskType:   s.TaskType,
		OverrideID: s.Override.ID,
		Actor:      req.Actor,
		Channel:    req.Channel,
		Reason:     strings.TrimSpace(req.Reason),
		At:         now(ctx),
	}
	var o countersign.PolicyOverride
	if err := workflow.ExecuteActivity(ctx, a.ResetPolicy, in).Get(ctx, &o); err != nil {
		return countersign.PolicyOverride{}, err
	}
	s.Override, s.Window, s.Estimate, s.Since, s.Overdue = nil, quality.Histogram{}, nil, in.At, 0
	if sup.verified {
		var b activities.Basis
		if err := workflow.ExecuteActivity(ctx, a.PolicyBasis, s.TaskType).Get(ctx, &b); err != nil {
			return o, err
		}
		s.Basis = &b
	}
	return o, nil
}
