package workflows

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/activities"
	"github.com/countersign/countersign/internal/provenance"
	"github.com/countersign/countersign/internal/quality"
)

// Supervisor names: one long-running supervisor workflow per task type.
const (
	// AuditSignal brings an audit outcome (countersign.AuditOutcome).
	AuditSignal = "audit"
	// ResetUpdate lifts the supervisor's override (ResetRequest).
	ResetUpdate = "reset"
	// SupervisionQuery returns the supervisor's state (Supervision).
	SupervisionQuery = "supervision"
)

// SupervisorWorkflowID is the workflow ID of a task type's supervisor.
func SupervisorWorkflowID(taskType string) string { return "supervisor/" + taskType }

// supervisorRunLength is how many audits one run of a supervisor handles
// before it continues as new, which keeps its history short.
const supervisorRunLength = 500

// recentKept is how many audited document IDs a supervisor remembers, so
// that an outcome reported twice (a retried report) counts once.
const recentKept = 256

// SupervisorInput starts a supervisor; State carries it across runs.
type SupervisorInput struct {
	TaskType string       `json:"task_type"`
	State    *Supervision `json:"state,omitempty"`
}

// Supervision is what a supervisor knows: the audits since the policy was
// last reset (Window, by confidence), all audits ever, the latest estimate
// and the override in force.
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
// outcomes of audits, tightens the policy when its upper bound exceeds the
// error budget (the Supervise activity decides and records), and holds the
// tightening until a person with the approver role resets it.
func (wf *Workflows) SupervisorWorkflow(ctx workflow.Context, in SupervisorInput) error {
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
		Validator:   sup.admitReset,
		Description: "lift the supervisor's tightening of the policy",
	}); err != nil {
		return err
	}
	if !s.Loaded {
		// An override may be in force from an earlier supervisor.
		if err := workflow.ExecuteActivity(ctx, a.ActiveOverride, in.TaskType).Get(ctx, &s.Override); err != nil {
			return err
		}
		s.Loaded = true
	}
	audits := workflow.GetSignalChannel(ctx, AuditSignal)
	if s.Unjudged {
		if err := sup.supervise(ctx); err != nil {
			return err
		}
	}
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
			return workflow.NewContinueAsNewError(ctx, SupervisorWorkflowType, SupervisorInput{TaskType: in.TaskType, State: s})
		}
	}
}

type supervisor struct {
	s         *Supervision
	resetting bool
	keys      *provenance.Verifier
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
	s.Window.Add(o.Confidence, o.Escaped)
	s.All.Audits++
	if o.Escaped {
		s.All.Escaped++
	}
	return true
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

// admitReset is the reset update's validator: the envelope that proves who
// sent it, then validateReset.
func (sup *supervisor) admitReset(ctx workflow.Context, req ResetRequest) error {
	if err := checkSize(nil, req.Reason); err != nil {
		return err
	}
	want, err := req.Claims(sup.s.TaskType, updateID(ctx))
	if err := checkProvenance(ctx, sup.keys, req.Provenance, want, err); err != nil {
		return err
	}
	return sup.validateReset(req)
}

func (sup *supervisor) validateReset(req ResetRequest) error {
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
func (sup *supervisor) reset(ctx workflow.Context, req ResetRequest) (countersign.PolicyOverride, error) {
	if err := sup.validateReset(req); err != nil {
		return countersign.PolicyOverride{}, err
	}
	sup.resetting = true
	defer func() { sup.resetting = false }()
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
	s.Override, s.Window, s.Estimate, s.Since = nil, quality.Histogram{}, nil, in.At
	return o, nil
}
