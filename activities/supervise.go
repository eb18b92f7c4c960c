package activities

import (
	"context"
	"fmt"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/quality"
	"github.com/countersign/countersign/internal/webhook"
)

// Supervisors hands audit outcomes to the supervisor of their task type,
// starting it if it does not run yet.
type Supervisors interface {
	Report(ctx context.Context, o countersign.AuditOutcome) error
}

// ReportAudit tells the task type's supervisor what an audit found.
func (a *Activities) ReportAudit(ctx context.Context, o countersign.AuditOutcome) error {
	if a.Supervisors == nil {
		return permanent(countersign.Errorf(countersign.CodeUnavailable, "no supervisor channel is configured on this worker"))
	}
	return a.Supervisors.Report(ctx, o)
}

// SuperviseInput is the audit record of a task type since its policy was
// last reset, with the override in force, if any.
type SuperviseInput struct {
	// EventID numbers the audit event a tightening records.
	EventID  string            `json:"event_id"`
	TaskType string            `json:"task_type"`
	Window   quality.Histogram `json:"window"`
	// Basis is the policy the window judges and the certificate it starts
	// from; nil (from a supervisor of before certificates) judges the task
	// type's own policy from the audits alone.
	Basis    *Basis                      `json:"basis,omitempty"`
	Override *countersign.PolicyOverride `json:"override,omitempty"`
	// OverrideID is the ID a new override takes.
	OverrideID string    `json:"override_id"`
	At         time.Time `json:"at"`
}

// SuperviseResult is the estimate and, when this call tightened the
// policy, the override now in force.
type SuperviseResult struct {
	// Estimate is nil when the task type's current policy sets no error
	// budget.
	Estimate  *quality.Estimate           `json:"estimate,omitempty"`
	Tightened *countersign.PolicyOverride `json:"tightened,omitempty"`
}

// Supervise estimates the escaped-error rate of auto-accepted documents from
// the window's evidence (the certificate it starts from, if any, and the
// audits), under the current policy's supervision settings. When the
// evidence breaches the error budget (quality.Evaluate says by which rule)
// and no override is in force, it tightens the policy: it raises the
// threshold to the smallest one that met the budget on the audited
// documents, or switches the task type to hitl when none did (or the policy
// says to), stores the override that every new document picks up at intake,
// records why, and tells supervisors.
func (a *Activities) Supervise(ctx context.Context, in SuperviseInput) (*SuperviseResult, error) {
	tt, err := a.TaskTypes.Current(ctx, in.TaskType)
	if err != nil {
		return nil, retryable(err)
	}
	// The supervision of the policy in force: the task type's own, or the
	// one a certificate was applied with.
	v, err := a.Store.PolicyInForce(ctx, in.TaskType)
	if err != nil {
		return nil, retryable(err)
	}
	sup := v.Apply(tt.Policy).Supervision
	mode, threshold := tt.Policy.Mode, tt.Policy.AutoAcceptThreshold
	if in.Basis != nil {
		mode, threshold = in.Basis.Mode, in.Basis.Threshold
	}
	if sup == nil || mode != countersign.ModeHOTL {
		return &SuperviseResult{}, nil
	}
	est, err := quality.Evaluate(in.Basis.Start(), in.Window.Total(), sup.Bound, sup.ErrorBudget, sup.Level, sup.MinAudits)
	if err != nil {
		return nil, permanent(countersign.Errorf(countersign.CodeInvalid, "supervision of %s: %v", in.TaskType, err))
	}
	result := &SuperviseResult{Estimate: &est}
	if !est.Breached || in.Override != nil {
		return result, nil
	}
	o := &countersign.PolicyOverride{
		ID: in.OverrideID, TaskType: in.TaskType, Mode: countersign.ModeHITL,
		Estimate: est.Rate, Bound: est.Bound, Budget: est.Budget, Audits: est.Audits, Escaped: est.Escaped, At: in.At,
	}
	raised, ok := 0.0, false
	if sup.OnBreach == countersign.BreachRaiseThreshold {
		raised, ok, err = quality.Threshold(&in.Window, sup.Bound, sup.ErrorBudget, sup.Level, est.MinAudits, threshold)
		if err != nil {
			return nil, permanent(err)
		}
	}
	why := breachReason(est, in.Basis)
	switch {
	case ok:
		o.Mode, o.Threshold = countersign.ModeHOTL, raised
		from, to := countersign.ScorePair(threshold, raised)
		o.Reason = fmt.Sprintf("%s: auto-accept threshold raised from %s to %s, the smallest that met the budget on audited documents", why, from, to)
	case sup.OnBreach == countersign.BreachRaiseThreshold:
		o.Reason = why + ": no threshold met the budget on audited documents, so every document goes to a person"
	default:
		o.Reason = why + ": every document goes to a person"
	}
	if err := a.Store.PutOverride(ctx, o); err != nil {
		return nil, retryable(err)
	}
	a.logger().Warn("policy tightened", "task_type", in.TaskType, "override", o.ID, "mode", o.Mode, "threshold", o.Threshold, "reason", o.Reason)
	step := Step{EventID: in.EventID, TaskTypeVersion: tt.Version, PolicyVersion: tt.Policy.Version}
	if err := a.record(ctx, step, countersign.EventPolicyTightened, countersign.SystemActor, countersign.ChannelWorkflow, map[string]any{
		"task_type": in.TaskType, "override": o,
	}); err != nil {
		return nil, err
	}
	a.notify(ctx, in.EventID, WebhookPolicyTightened, in.At, o)
	result.Tightened = o
	return result, nil
}

// breachReason says what evidence breached the budget, and by which rule.
func breachReason(est quality.Estimate, basis *Basis) string {
	why := fmt.Sprintf("%d of %d audited auto-accepted documents were corrected", est.Escaped, est.Audits)
	if s := est.Start; s != nil && basis != nil && basis.Certificate != nil {
		why += fmt.Sprintf(", after %d wrong of %d accepted in certificate %s", s.Escaped, s.Audits, basis.Certificate.ID)
	}
	// The bound and the budget to as many decimals as tell them apart: a
	// bound of 5.04% is not "5.0%, over the error budget of 5.0%".
	if est.Rule == quality.RuleRefute {
		lower, budget := countersign.ScorePair(100*est.AuditLower, 100*est.Budget)
		return fmt.Sprintf("%s; the %s lower bound of the audits (%s) is %s%%, over the error budget of %s%%: the audits refute the certificate",
			why, countersign.Percent(est.Level), est.Method, lower, budget)
	}
	upper, budget := countersign.ScorePair(100*est.Bound, 100*est.Budget)
	return fmt.Sprintf("%s (%.1f%%); the %s upper bound (%s) is %s%%, over the error budget of %s%%",
		why, 100*est.Rate, countersign.Percent(est.Level), est.Method, upper, budget)
}

// ResetInput is a person lifting a task type's override.
type ResetInput struct {
	EventID    string                `json:"event_id"`
	TaskType   string                `json:"task_type"`
	OverrideID string                `json:"override_id"`
	Actor      countersign.Principal `json:"actor"`
	Channel    countersign.Channel   `json:"channel"`
	Reason     string                `json:"reason"`
	At         time.Time             `json:"at"`
}

// ResetPolicy ends an override, so new documents run under the task type's
// own policy again, and records who reset it and why.
func (a *Activities) ResetPolicy(ctx context.Context, in ResetInput) (*countersign.PolicyOverride, error) {
	o, err := a.Store.ResetOverride(ctx, in.OverrideID, in.Actor.User, in.Reason, in.At)
	if err != nil {
		return nil, retryable(err)
	}
	step := Step{EventID: in.EventID}
	if tt, err := a.TaskTypes.Current(ctx, in.TaskType); err == nil {
		step.TaskTypeVersion, step.PolicyVersion = tt.Version, tt.Policy.Version
	}
	a.logger().Info("policy reset", "task_type", in.TaskType, "override", in.OverrideID, "by", in.Actor.User)
	if err := a.record(ctx, step, countersign.EventPolicyReset, in.Actor.User, in.Channel, map[string]any{
		"task_type": in.TaskType, "override": o, "reason": in.Reason, "role": in.Actor.Role,
	}); err != nil {
		return nil, err
	}
	a.notify(ctx, in.EventID, WebhookPolicyReset, in.At, o)
	return o, nil
}

// notify tells supervisors through the webhook, if any, on a best-effort
// basis: the audit event is the record; the webhook is a courtesy.
func (a *Activities) notify(ctx context.Context, id, event string, at time.Time, o *countersign.PolicyOverride) {
	if a.Webhook == nil {
		return
	}
	if _, err := a.Webhook.Send(ctx, webhook.Event{ID: id, Type: event, At: at, Data: o}); err != nil {
		a.logger().Warn("webhook notification failed", "event", event, "override", o.ID, "error", err)
	}
}

// ActiveOverride returns the task type's override in force, if any.
func (a *Activities) ActiveOverride(ctx context.Context, taskType string) (*countersign.PolicyOverride, error) {
	o, err := a.Store.ActiveOverride(ctx, taskType)
	if err != nil {
		return nil, retryable(err)
	}
	return o, nil
}
