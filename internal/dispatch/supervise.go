package dispatch

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/workflows"
)

// Veto is what a person decided of an auto-accepted document within its
// veto window.
type Veto struct {
	Action countersign.Action
	Fields countersign.Fields
	Reason string
}

// Veto overrides the auto-accepted document with the given ID for caller,
// who came through ch, through the review workflow's veto update and its
// validator. Errors are coded: 404 for an unknown document, 409 once the
// veto window is closed, and the validator's refusals with their codes.
func (d *Dispatcher) Veto(ctx context.Context, documentID string, caller countersign.Principal, ch countersign.Channel, v Veto) (*Decided, error) {
	doc, err := d.Store.GetDocument(ctx, documentID)
	if err != nil {
		return nil, err
	}
	if v.Action == countersign.ActionCorrect {
		if err := d.checkComparison(ctx, doc, doc.ID, v.Action, v.Fields, ""); err != nil {
			return nil, err
		}
	}
	update := workflows.VetoRequest{Action: v.Action, Fields: v.Fields, Reason: v.Reason, Actor: caller, Channel: ch}
	id := newUpdateID("veto")
	claims, err := update.Claims(doc.ID, id)
	if update.Provenance, err = d.attest(claims, err); err != nil {
		return nil, err
	}
	var result workflows.DecisionResult
	err = d.update(ctx, workflows.ReviewWorkflowID(doc.ID), workflows.VetoUpdate, id, update, &result)
	if err == nil {
		return &Decided{Decision: result.Decision, DocumentID: doc.ID, Status: result.Status}, nil
	}
	if isNotFound(err) {
		d.closeIfAbandoned(ctx, doc.ID)
		err = countersign.Errorf(countersign.CodeConflict, "document %s is %s and its review has ended: the veto window is closed; only an audit can correct it now", doc.ID, doc.Status)
	}
	return nil, temporalError(err, "veto of document "+doc.ID)
}

// ResetPolicy lifts the supervisor's tightening of a task type's policy,
// for caller, who came through ch and says why in reason, through the
// supervisor's reset update. It answers the override as lifted; 404 for
// an unknown task type, 409 when no supervisor has tightened it.
func (d *Dispatcher) ResetPolicy(ctx context.Context, taskType string, caller countersign.Principal, ch countersign.Channel, reason string) (*countersign.PolicyOverride, error) {
	if _, err := d.TaskTypes.Get(taskType); err != nil {
		return nil, err
	}
	update := workflows.ResetRequest{Reason: reason, Actor: caller, Channel: ch}
	id := newUpdateID("reset")
	claims, err := update.Claims(taskType, id)
	if update.Provenance, err = d.attest(claims, err); err != nil {
		return nil, err
	}
	var o countersign.PolicyOverride
	err = d.update(ctx, workflows.SupervisorWorkflowID(taskType), workflows.ResetUpdate, id, update, &o)
	if isNotFound(err) {
		err = countersign.Errorf(countersign.CodeConflict, "the policy of %s is not tightened: no audit has reached its supervisor yet", taskType)
	}
	if err != nil {
		return nil, temporalError(err, "reset of the policy of "+taskType)
	}
	return &o, nil
}

// PolicyChanged tells the task type's supervisor that the policy in force
// changed, so that its window follows at once rather than at the next
// audit. A supervisor not running yet is no error: it starts from the
// policy then in force. The signal carries nothing (the supervisor reads
// the store), so a failure only delays that: the caller logs it rather than
// failing the change. Without Temporal (some tests) there is no one to tell.
func (d *Dispatcher) PolicyChanged(ctx context.Context, taskType string) error {
	if d.Temporal == nil {
		return nil
	}
	err := d.Temporal.SignalWorkflow(ctx, workflows.SupervisorWorkflowID(taskType), "", workflows.PolicySignal, nil)
	if err != nil && !isNotFound(err) {
		return err
	}
	return nil
}

// Supervision is the state of the task type's supervisor: nil when none
// runs (no audit was decided yet, and the reconciler has not started it).
func (d *Dispatcher) Supervision(ctx context.Context, taskType string) (*workflows.Supervision, error) {
	resp, err := d.Temporal.QueryWorkflow(ctx, workflows.SupervisorWorkflowID(taskType), "", workflows.SupervisionQuery)
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, temporalError(err, "supervisor of "+taskType)
	}
	var state workflows.Supervision
	if err := resp.Get(&state); err != nil {
		return nil, err
	}
	return &state, nil
}

// EnsureSupervisors starts the supervisor of each task type whose policy in
// force is supervised (an error budget, in hotl or tightened) and for
// which none runs: a supervisor otherwise starts with the first audit
// decided, so audits nobody decides would never count. A run that holds
// a supervisor's workflow ID but is no supervisor (notASupervisor) is
// terminated and a supervisor started in its place. It returns how many
// it started, and what it replaced (task type, run, why).
func (d *Dispatcher) EnsureSupervisors(ctx context.Context) (started int, replaced []string, err error) {
	if d.Temporal == nil || d.TaskTypes == nil {
		return 0, nil, nil
	}
	var errs []error
	for _, tt := range d.TaskTypes.All() {
		in, err := PolicyInForce(ctx, d.Store, tt)
		if err != nil {
			errs = append(errs, fmt.Errorf("policy in force of %s: %w", tt.Name, err))
			continue
		}
		if !in.Supervised() {
			continue
		}
		id := workflows.SupervisorWorkflowID(tt.Name)
		desc, err := d.Temporal.DescribeWorkflowExecution(ctx, id, "")
		switch {
		case err == nil && desc.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
			why := notASupervisor(desc)
			if why == "" {
				continue
			}
			// Anyone who can start workflows can hold the ID with a run
			// that never supervises; it would keep this one from starting
			// for good.
			run := desc.GetWorkflowExecutionInfo().GetExecution().GetRunId()
			switch err := d.Temporal.TerminateWorkflow(ctx, id, run, "countersign: "+why+"; the reconciler starts the supervisor in its place"); {
			case err == nil:
				replaced = append(replaced, fmt.Sprintf("%s (run %s): %s", tt.Name, run, why))
			case !isNotFound(err):
				errs = append(errs, fmt.Errorf("replacing what holds the ID of the supervisor of %s (%s): %w", tt.Name, why, err))
				continue
			}
			// Not found: another replica ended it first.
		case err != nil && !isNotFound(err):
			errs = append(errs, fmt.Errorf("supervisor of %s: %w", tt.Name, err))
			continue
		}
		opts := client.StartWorkflowOptions{ID: id, TaskQueue: workflows.TaskQueue}
		if _, err := d.Temporal.SignalWithStartWorkflow(ctx, id, workflows.PolicySignal, nil, opts, workflows.SupervisorWorkflowType, workflows.SupervisorInput{TaskType: tt.Name}); err != nil {
			errs = append(errs, fmt.Errorf("starting the supervisor of %s: %w", tt.Name, err))
			continue
		}
		started++
	}
	return started, replaced, errors.Join(errs...)
}

// notASupervisor says why the running execution desc, which holds a
// supervisor's workflow ID, is no supervisor countersign's workers run: a
// workflow of another type (which none of them runs, or which fails its
// workflow tasks for good), on another task queue (which none of them
// polls), with a run or execution timeout (which countersign never sets,
// and which with a retry policy keeps a run that never supervises going
// for good), or one whose first workflow task waits past its start: a
// delayed start, a cron run, a retry. That is read from the server's own
// two times (the execution time is the start time plus that wait), so
// the reconciler's clock plays no part. "" when it is one: countersign's
// starts and a supervisor's continue-as-new wait for nothing. A
// supervisor started with a made-up state is refused by the workflow
// itself (trustedStart) and ends, so it is not running.
func notASupervisor(desc *workflowservice.DescribeWorkflowExecutionResponse) string {
	info, config := desc.GetWorkflowExecutionInfo(), desc.GetExecutionConfig()
	if name := info.GetType().GetName(); name != workflows.SupervisorWorkflowType {
		return fmt.Sprintf("a workflow of type %q holds the ID", name)
	}
	if q := config.GetTaskQueue().GetName(); q != "" && q != workflows.TaskQueue {
		return fmt.Sprintf("it runs on task queue %q, which countersign's workers do not poll", q)
	}
	if run, execution := config.GetWorkflowRunTimeout().AsDuration(), config.GetWorkflowExecutionTimeout().AsDuration(); run > 0 || execution > 0 {
		return fmt.Sprintf("it has a run timeout of %s and an execution timeout of %s, which countersign never sets", run, execution)
	}
	if start, at := info.GetStartTime(), info.GetExecutionTime(); start != nil && at != nil && at.AsTime().After(start.AsTime()) {
		return fmt.Sprintf("its first workflow task waits until %s, %s after its start (a delayed start, a cron run or a retry)",
			at.AsTime().UTC().Format(time.RFC3339), at.AsTime().Sub(start.AsTime()).Round(time.Second))
	}
	return ""
}
