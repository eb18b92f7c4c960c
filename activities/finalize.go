package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/audit"
)

// FinalizeInput is how a document ends: the draft, the route outcome and, for
// reviewed documents, the decision that closed the review. A document the
// policy rejected carries the route's reasons.
type FinalizeInput struct {
	Step     Step                  `json:"step"`
	Draft    *countersign.Draft    `json:"draft"`
	Outcome  countersign.Outcome   `json:"outcome"`
	Reasons  []string              `json:"reasons,omitempty"`
	Decision *countersign.Decision `json:"decision,omitempty"`
	// Agreed are, when the policy asks more than one person, the agreeing
	// decisions in order; Decision is the last of them. A correction among
	// them sets the fields, since everyone after it approved it.
	Agreed []*countersign.Decision `json:"agreed,omitempty"`
	// TimedOut says no person decided in time and the SLA's timeout
	// rejected the document; Reasons says after how long.
	TimedOut bool `json:"timed_out,omitempty"`
	// Reviewers are everyone who decided at the gate, in order, when more
	// than the deciding person did (approvals, adjudication).
	Reviewers []string `json:"reviewers,omitempty"`
	// At is when the outcome was reached, in workflow time, so that a retry
	// computes the same final record.
	At time.Time `json:"at"`
}

// FinalizeResult is the document's final status and record.
type FinalizeResult struct {
	Status countersign.Status `json:"status"`
	Final  *countersign.Final `json:"final"`
	// Changed, from Amend, lists the fields a veto or an audit changed.
	Changed []string `json:"changed,omitempty"`
}

// Finalize computes the final fields and the diff from the draft (the
// correction), stores them with the final status and records the outcome.
//
// It may run again with another In.At: the workflow runs it as a local
// activity (review.finalize), which runs again, with the workflow's clock
// read anew, when the workflow task that ran it is lost. When the step's
// event is recorded already with the same outcome, it answers with what
// the store holds, so the document keeps the final record its event
// states; other data under the event's ID is a conflict, as for every step.
func (a *Activities) Finalize(ctx context.Context, in FinalizeInput) (*FinalizeResult, error) {
	status, final := outcome(in)
	events, err := a.Store.DocumentAudit(ctx, in.Step.DocumentID)
	if err != nil {
		return nil, retryable(err)
	}
	channel := countersign.ChannelWorkflow
	if in.Decision != nil {
		channel = in.Decision.Channel
	}
	data := map[string]any{
		"status":     status,
		"outcome":    final.Outcome,
		"action":     final.Action,
		"reason":     final.Reason,
		"fields":     final.Fields,
		"diff":       final.Diff,
		"decided_at": final.DecidedAt,
	}
	if e, ok := stepEvent(events, in.Step); ok {
		return a.finalized(ctx, in.Step, e, status, final.DecidedBy, data)
	}
	lineage, err := a.lineage(ctx, in, events)
	if err != nil {
		return nil, err
	}
	final.Lineage = lineage
	if err := a.Store.UpdateDocument(ctx, in.Step.DocumentID, countersign.DocumentUpdate{Status: &status, Final: final}); err != nil {
		return nil, retryable(err)
	}
	a.logger().Info("document finalized", "document", in.Step.DocumentID, "status", status, "outcome", final.Outcome, "decided_by", final.DecidedBy)
	err = a.record(ctx, in.Step, countersign.EventDocumentFinalized, final.DecidedBy, channel, data)
	if errors.Is(err, countersign.ErrConflict) {
		// Another run of this step (its workflow task taken for lost while
		// this one still ran) recorded it first: its event stands, over
		// the record this run stored.
		events, err := a.Store.DocumentAudit(ctx, in.Step.DocumentID)
		if err != nil {
			return nil, retryable(err)
		}
		e, ok := stepEvent(events, in.Step)
		if !ok {
			return nil, retryable(fmt.Errorf("audit event %s conflicted but is not there", in.Step.EventID))
		}
		return a.finalized(ctx, in.Step, e, status, final.DecidedBy, data)
	}
	if err == nil {
		taskType := a.taskType(ctx, in.Step)
		a.Metrics.DocumentFinalized(ctx, taskType, status, in.Outcome)
		if in.Decision != nil {
			a.Metrics.Reviewed(ctx, taskType, countersign.ReviewGate, final.Diff)
		}
	}
	return &FinalizeResult{Status: status, Final: final}, err
}

// finalized answers a Finalize whose event e is recorded already, by
// this run or another: when e records the outcome data states (status
// among it), decided by the same actor, its decision time aside (a run
// after a lost workflow task reads the workflow's clock anew), with the
// final record the store holds, made the event's when another run of the
// step stored its own after the event was recorded; otherwise with a
// conflict.
func (a *Activities) finalized(ctx context.Context, step Step, e countersign.AuditEvent, status countersign.Status, decidedBy string, data map[string]any) (*FinalizeResult, error) {
	data["versions"] = map[string]string{"task_type": step.TaskTypeVersion, "policy": step.PolicyVersion}
	raw, err := audit.Canonical(data)
	if err != nil {
		return nil, permanent(err)
	}
	var recorded struct {
		DecidedAt time.Time `json:"decided_at"`
	}
	if e.Type != countersign.EventDocumentFinalized || e.Actor != decidedBy || !bytes.Equal(withoutKey(e.Data, "decided_at"), withoutKey(raw, "decided_at")) ||
		json.Unmarshal(e.Data, &recorded) != nil {
		return nil, permanent(countersign.Errorf(countersign.CodeConflict,
			"audit event %s is already recorded as %s with other data", e.ID, e.Type))
	}
	doc, err := a.Store.GetDocument(ctx, step.DocumentID)
	if err != nil {
		return nil, retryable(err)
	}
	if doc.Final == nil || !doc.Status.Final() {
		return nil, permanent(countersign.Errorf(countersign.CodeConflict,
			"audit event %s records document %s finalized, but the store holds it %s without a final record", e.ID, step.DocumentID, doc.Status))
	}
	// An event of a version before decided_at was recorded has none.
	stale := !recorded.DecidedAt.IsZero() && !doc.Final.DecidedAt.Equal(recorded.DecidedAt)
	if doc.Status == status && !stale {
		return &FinalizeResult{Status: doc.Status, Final: doc.Final}, nil
	}
	final := doc.Final
	if !recorded.DecidedAt.IsZero() {
		final.DecidedAt = recorded.DecidedAt
	}
	if err := a.Store.UpdateDocument(ctx, step.DocumentID, countersign.DocumentUpdate{Status: &status, Final: final}); err != nil {
		return nil, retryable(err)
	}
	return &FinalizeResult{Status: status, Final: final}, nil
}

// stepEvent is the step's own event among a document's events, if
// recorded.
func stepEvent(events []countersign.AuditEvent, step Step) (countersign.AuditEvent, bool) {
	i := slices.IndexFunc(events, func(e countersign.AuditEvent) bool { return e.ID == step.EventID })
	if i < 0 {
		return countersign.AuditEvent{}, false
	}
	return events[i], true
}

// withoutKey is the canonical JSON object raw without keys, or raw itself
// when it is not an object.
func withoutKey(raw json.RawMessage, keys ...string) json.RawMessage {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return raw
	}
	for _, key := range keys {
		delete(m, key)
	}
	out, err := audit.Canonical(m)
	if err != nil {
		return raw
	}
	return out
}

// lineage is where a final record comes from: versions, model, prompt,
// calibration, the person who decided and the audit events so far
// (events, and the step's own).
func (a *Activities) lineage(ctx context.Context, in FinalizeInput, events []countersign.AuditEvent) (*countersign.Lineage, error) {
	doc, err := a.Store.GetDocument(ctx, in.Step.DocumentID)
	if err != nil {
		return nil, retryable(err)
	}
	l := &countersign.Lineage{TaskTypeVersion: in.Step.TaskTypeVersion, PolicyVersion: in.Step.PolicyVersion, AuditEvents: idsWith(events, in.Step)}
	if in.Draft != nil {
		l.Extractor, l.Model, l.Prompt = in.Draft.Extractor, in.Draft.Model, in.Draft.Prompt
	}
	if doc.Route != nil {
		l.Calibration = doc.Route.Calibration
	}
	switch {
	case len(in.Reviewers) > 0:
		l.Reviewers = in.Reviewers
	case in.Decision != nil:
		l.Reviewers = []string{in.Decision.Actor}
	}
	return l, nil
}

// outcome computes a document's final status and record: the draft as it is
// when auto-accepted or approved, the draft with the correction applied when
// corrected (by anyone of those who agreed), no fields when rejected by a
// person, by the policy or by the SLA's timeout.
func outcome(in FinalizeInput) (countersign.Status, *countersign.Final) {
	var draftFields countersign.Fields
	if !in.Draft.Failed() {
		draftFields = in.Draft.Fields
	}
	final := &countersign.Final{Outcome: in.Outcome, DecidedBy: countersign.SystemActor, DecidedAt: in.At}
	status := countersign.StatusAccepted
	if d := in.Decision; d != nil {
		final.Action, final.Reason, final.DecidedBy, final.DecidedAt = d.Action, d.Reason, d.Actor, d.At
		if c := correction(in.Agreed); c != nil && d.Action == countersign.ActionApprove {
			d = c
			final.Action = countersign.ActionCorrect
		}
		switch d.Action {
		case countersign.ActionReject:
			status = countersign.StatusRejected
			final.Reason = rejectReasons(in.Agreed, d.Reason)
		case countersign.ActionCorrect:
			final.Fields = countersign.Correct(draftFields, d.Fields)
		default:
			final.Fields = countersign.Correct(draftFields, nil)
		}
	} else if in.TimedOut {
		status = countersign.StatusRejected
		final.Reason = strings.Join(in.Reasons, "; ")
	} else if in.Outcome == countersign.OutcomeReject {
		status = countersign.StatusRejected
		final.Reason = strings.Join(in.Reasons, "; ")
	} else {
		final.Fields = countersign.Correct(draftFields, nil)
	}
	if status == countersign.StatusAccepted {
		final.Diff = countersign.Diff(draftFields, final.Fields)
	}
	return status, final
}

// correction is the first correction among agreeing decisions, or nil.
func correction(agreed []*countersign.Decision) *countersign.Decision {
	for _, d := range agreed {
		if d.Action == countersign.ActionCorrect {
			return d
		}
	}
	return nil
}

// rejectReasons are the reasons of agreeing rejections, each once, in order;
// reason alone when one person rejected.
func rejectReasons(agreed []*countersign.Decision, reason string) string {
	var reasons []string
	for _, d := range agreed {
		if d.Reason != "" && !slices.Contains(reasons, d.Reason) {
			reasons = append(reasons, d.Reason)
		}
	}
	if len(reasons) == 0 {
		return reason
	}
	return strings.Join(reasons, "; ")
}

// Abandon records that a step after the outcome (delivery, a veto, an
// audit) failed for good, and takes the document's pending reviews off the
// queue. The document keeps its final status: its outcome stands.
func (a *Activities) Abandon(ctx context.Context, in FailInput) error {
	if err := a.Store.CloseReviews(ctx, in.Step.DocumentID, a.now(), countersign.SystemActor); err != nil {
		return retryable(err)
	}
	return a.record(ctx, in.Step, countersign.EventSupervisionFailed, countersign.SystemActor, countersign.ChannelWorkflow, map[string]any{
		"error": in.Reason,
	})
}

// FailInput is why a document could not be processed.
type FailInput struct {
	Step   Step   `json:"step"`
	Reason string `json:"reason"`
}

// Fail marks the document failed, takes its pending review off the queue,
// and records why.
func (a *Activities) Fail(ctx context.Context, in FailInput) error {
	status := countersign.StatusFailed
	if err := a.Store.UpdateDocument(ctx, in.Step.DocumentID, countersign.DocumentUpdate{Status: &status}); err != nil {
		return retryable(err)
	}
	if err := a.Store.CloseReviews(ctx, in.Step.DocumentID, a.now(), countersign.SystemActor); err != nil {
		return retryable(err)
	}
	err := a.record(ctx, in.Step, countersign.EventDocumentFailed, countersign.SystemActor, countersign.ChannelWorkflow, map[string]any{
		"error": in.Reason,
	})
	if err == nil {
		a.Metrics.DocumentFinalized(ctx, a.taskType(ctx, in.Step), status, "")
	}
	return err
}
