package countersign

import (
	"context"
	"time"
)

// ReviewKind says what a person is asked to do with a review.
type ReviewKind string

// Review kinds.
const (
	// ReviewGate is the human gate: the document waits for the decision.
	ReviewGate ReviewKind = "review"
	// ReviewAudit is a post-hoc audit of an auto-accepted document (HOTL):
	// the output already counts; the auditor confirms or corrects it.
	ReviewAudit ReviewKind = "audit"
	// ReviewVeto records a supervisor's veto of an auto-accepted document
	// within the veto window; it is closed by the veto as it opens.
	ReviewVeto ReviewKind = "veto"
)

// Supervision is how a hotl task type bounds the errors that escape into
// auto-accepted documents. The supervisor estimates the escaped-error rate
// from audit outcomes; when the one-sided upper confidence bound of that
// rate exceeds ErrorBudget, it tightens the policy until a person resets it.
type Supervision struct {
	// ErrorBudget is the highest acceptable share of auto-accepted
	// documents that an audit corrects, in (0,1).
	ErrorBudget float64 `json:"error_budget"`
	// Level is the confidence level of the bound, such as 0.95.
	Level float64 `json:"level"`
	// Bound is the interval method: BoundConfidenceSequence (the default),
	// BoundWilson or BoundClopperPearson.
	Bound string `json:"bound"`
	// MinAudits is how many audits the supervisor waits for before it
	// judges; 0 means the fewest with which a record without errors could
	// meet the budget at Level.
	MinAudits int `json:"min_audits,omitempty"`
	// OnBreach is what tightening does: BreachRaiseThreshold (to the
	// smallest threshold that met the budget on audited documents, or hitl
	// when none did) or BreachHITL.
	OnBreach string `json:"on_breach"`
}

// Bound methods and breach actions. A confidence sequence keeps its level
// however often the supervisor looks, that is after every audit; Wilson and
// Clopper-Pearson keep it at one look.
const (
	BoundConfidenceSequence = "confidence-sequence"
	BoundWilson             = "wilson"
	BoundClopperPearson     = "clopper-pearson"
	BreachRaiseThreshold    = "raise_threshold"
	BreachHITL              = "hitl"
)

// AuditOutcome is what one audit of an auto-accepted document found.
type AuditOutcome struct {
	DocumentID string  `json:"document_id"`
	TaskType   string  `json:"task_type"`
	Confidence float64 `json:"confidence"`
	Threshold  float64 `json:"threshold"`
	Escaped    bool    `json:"escaped"` // the auditor corrected the output
	// NoVerdict is set on an audit a supervisor counted as escaped for
	// want of a verdict in time (still open when due, decided after it,
	// closed without a decision): what nobody checked in time is not known
	// to be right.
	NoVerdict bool      `json:"no_verdict,omitempty"`
	Fields    []string  `json:"fields,omitempty"`
	Auditor   string    `json:"auditor"`
	At        time.Time `json:"at"`
}

// PolicyOverride is a tightening of a task type's policy by its supervisor,
// in force for documents submitted from At until a person resets it.
type PolicyOverride struct {
	ID       string `json:"id"`
	TaskType string `json:"task_type"`
	// Mode is ModeHITL when tightening switched the task type to review
	// every document; otherwise Threshold is the raised threshold.
	Mode      Mode      `json:"mode"`
	Threshold float64   `json:"threshold,omitempty"`
	Reason    string    `json:"reason"`
	Estimate  float64   `json:"estimate"`
	Bound     float64   `json:"bound"`
	Budget    float64   `json:"budget"`
	Audits    int       `json:"audits"`
	Escaped   int       `json:"escaped"`
	At        time.Time `json:"at"`
	// ResetBy, ResetAt and ResetReason are set once a person reset it.
	ResetBy     string     `json:"reset_by,omitempty"`
	ResetAt     *time.Time `json:"reset_at,omitempty"`
	ResetReason string     `json:"reset_reason,omitempty"`
}

// Apply returns p tightened by o; a nil override returns p unchanged. The
// version of the result names the override, so a route records both.
func (o *PolicyOverride) Apply(p Policy) Policy {
	if o == nil {
		return p
	}
	out := p
	if o.Mode == ModeHITL {
		out.Mode = ModeHITL
	} else if o.Threshold > out.AutoAcceptThreshold {
		out.AutoAcceptThreshold = o.Threshold
	}
	out.Override = o.ID
	out.Version = p.Version + "+" + o.ID
	return out
}

// Reset ends o: it records who reset it, when (at, as the store keeps
// times) and why, and reports whether o changed. Resetting it again with the
// same person and reason changes nothing, since that is an activity
// retrying; any other reset of an override already reset is a conflict.
func (o *PolicyOverride) Reset(by, reason string, at time.Time) (bool, error) {
	if o.ResetAt != nil {
		if o.ResetBy == by && o.ResetReason == reason {
			return false, nil
		}
		return false, Errorf(CodeConflict, "override %s was already reset by %s at %s",
			o.ID, o.ResetBy, o.ResetAt.UTC().Format(storedTime))
	}
	o.ResetBy, o.ResetAt, o.ResetReason = by, &at, reason
	return true, nil
}

// OverrideInForce is the conflict of putting o while active, another
// override of its task type, is in force: a task type has one at most.
func OverrideInForce(o, active *PolicyOverride) error {
	return Errorf(CodeConflict, "task type %s already has override %s in force since %s; it must be reset before override %s",
		o.TaskType, active.ID, active.At.UTC().Format(storedTime), o.ID)
}

// storedTime is how a refusal writes a time the store keeps: in UTC, to the
// microsecond (internal/audit.TimeLayout).
const storedTime = "2006-01-02T15:04:05.000000Z07:00"

// SupervisionStore keeps policy overrides and the audit draws.
type SupervisionStore interface {
	// PutOverride stores o as the task type's override in force; storing
	// the same ID again is a no-op. A task type has at most one override in
	// force: putting another while one is in force is a conflict.
	PutOverride(ctx context.Context, o *PolicyOverride) error
	// ActiveOverride returns the task type's override in force, or nil.
	ActiveOverride(ctx context.Context, taskType string) (*PolicyOverride, error)
	// ResetOverride ends the override id; ErrNotFound if unknown. Resetting
	// it again with the same person and reason returns the stored reset (a
	// retry); any other reset of a reset override is a conflict.
	ResetOverride(ctx context.Context, id, by, reason string, at time.Time) (*PolicyOverride, error)
	// Overrides returns a task type's overrides, newest first.
	Overrides(ctx context.Context, taskType string) ([]PolicyOverride, error)
	// DrawAudit numbers documentID within its sampling stratum (1, 2, …)
	// and returns its number. A document is drawn once: drawing it again,
	// in any stratum, returns the number it got first, so a retried draw
	// samples the same documents.
	DrawAudit(ctx context.Context, stratum, documentID string) (int64, error)
}

// Audit event types of supervision.
const (
	EventAuditSampled        = "audit.sampled"
	EventAuditConfirmed      = "audit.confirmed"
	EventCorrectedAfterAudit = "document.corrected_after_audit"
	EventDocumentVetoed      = "document.vetoed"
	EventDocumentDelivered   = "document.delivered"
	EventPolicyTightened     = "policy.tightened"
	EventPolicyReset         = "policy.reset"
	// EventAuditCounted: a supervisor confirmed an audit against the store
	// and counted it; an audit is counted once.
	EventAuditCounted = "audit.counted"
	// EventSupervisionFailed: a step after the outcome failed for good; the
	// outcome stands.
	EventSupervisionFailed = "supervision.failed"
)
