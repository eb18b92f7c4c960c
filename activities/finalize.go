package activities

import (
	"context"
	"strings"
	"time"

	"github.com/countersign/countersign"
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
func (a *Activities) Finalize(ctx context.Context, in FinalizeInput) (*FinalizeResult, error) {
	status, final := outcome(in)
	lineage, err := a.lineage(ctx, in)
	if err != nil {
		return nil, err
	}
	final.Lineage = lineage
	if err := a.Store.UpdateDocument(ctx, in.Step.DocumentID, countersign.DocumentUpdate{Status: &status, Final: final}); err != nil {
		return nil, retryable(err)
	}
	channel := countersign.ChannelWorkflow
	if in.Decision != nil {
		channel = in.Decision.Channel
	}
	a.logger().Info("document finalized", "document", in.Step.DocumentID, "status", status, "outcome", final.Outcome, "decided_by", final.DecidedBy)
	err = a.record(ctx, in.Step, countersign.EventDocumentFinalized, final.DecidedBy, channel, map[string]any{
		"status":  status,
		"outcome": final.Outcome,
		"action":  final.Action,
		"reason":  final.Reason,
		"fields":  final.Fields,
		"diff":    final.Diff,
	})
	if err == nil {
		taskType := a.taskType(ctx, in.Step)
		a.Metrics.DocumentFinalized(ctx, taskType, status, in.Outcome)
		if in.Decision != nil {
			a.Metrics.Reviewed(ctx, taskType, countersign.ReviewGate, final.Diff)
		}
	}
	return &FinalizeResult{Status: status, Final: final}, err
}

// lineage is where a final record comes from: versions, model, prompt,
// calibration, the person who decided and the audit events so far.
func (a *Activities) lineage(ctx context.Context, in FinalizeInput) (*countersign.Lineage, error) {
	doc, err := a.Store.GetDocument(ctx, in.Step.DocumentID)
	if err != nil {
		return nil, retryable(err)
	}
	ids, err := a.eventIDs(ctx, in.Step)
	if err != nil {
		return nil, err
	}
	l := &countersign.Lineage{TaskTypeVersion: in.Step.TaskTypeVersion, PolicyVersion: in.Step.PolicyVersion, AuditEvents: ids}
	if in.Draft != nil {
		l.Extractor, l.Model, l.Prompt = in.Draft.Extractor, in.Draft.Model, in.Draft.Prompt
	}
	if doc.Route != nil {
		l.Calibration = doc.Route.Calibration
	}
	if in.Decision != nil {
		l.Reviewers = []string{in.Decision.Actor}
	}
	return l, nil
}

// outcome computes a document's final status and record: the draft as it is
// when auto-accepted or approved, the draft with the correction applied when
// corrected, no fields when rejected by a person or by the policy.
func outcome(in FinalizeInput) (countersign.Status, *countersign.Final) {
	var draftFields countersign.Fields
	if !in.Draft.Failed() {
		draftFields = in.Draft.Fields
	}
	final := &countersign.Final{Outcome: in.Outcome, DecidedBy: countersign.SystemActor, DecidedAt: in.At}
	status := countersign.StatusAccepted
	if d := in.Decision; d != nil {
		final.Action, final.Reason, final.DecidedBy, final.DecidedAt = d.Action, d.Reason, d.Actor, d.At
		switch d.Action {
		case countersign.ActionReject:
			status = countersign.StatusRejected
		case countersign.ActionCorrect:
			final.Fields = countersign.Correct(draftFields, d.Fields)
		default:
			final.Fields = countersign.Correct(draftFields, nil)
		}
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
