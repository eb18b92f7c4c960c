package countersign

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// PolicyVersion is a change of a task type's policy that an approver put in
// force without a restart: applied from a certificate, or set by hand. It
// applies to every document whose review starts from CreatedAt on, until the
// next version; documents started before keep the policy they were pinned
// to. Each version says in full what it changes relative to the task type's
// own policy: a version set by hand keeps the changes of the one it follows
// that it does not make itself.
type PolicyVersion struct {
	// ID is TaskType/vNumber (PolicyVersionID); the store numbers versions.
	ID       string `json:"id"`
	TaskType string `json:"task_type"`
	Number   int    `json:"number"`
	// Previous is the version in force when this one was made; empty for
	// the first. The store refuses a version whose Previous is no longer in
	// force, so two approvers changing the policy at once cannot lose one's
	// change to the other's.
	Previous string `json:"previous,omitempty"`
	// Mode, Threshold and AuditSampleRate are what the version changes; an
	// empty or nil part leaves the task type's own.
	Mode            Mode     `json:"mode,omitempty"`
	Threshold       *float64 `json:"threshold,omitempty"`
	AuditSampleRate *float64 `json:"audit_sample_rate,omitempty"`
	// Certificate is the certificate the version was applied from, if any.
	Certificate string `json:"certificate,omitempty"`
	// Supervision supervises the version's auto-acceptance when the task
	// type's own policy has no supervision (a hitl task type turned hotl
	// by a certificate): the certificate's rate (a batch certificate's
	// stricter one) and level, watched by the confidence sequence. The
	// task type's own supervision, when it has one, stands, at the
	// stricter of its own error budget and SupervisionBudget.
	Supervision *Supervision `json:"supervision,omitempty"`
	// SupervisionBudget is the error rate the certificate the version was
	// applied from promises (Certificate.Rate). Versions stored before it
	// have none: their task type's own supervision stands as it did, so
	// that reviews pinned to them, and supervisors judging them, see the
	// same policy after an upgrade.
	SupervisionBudget float64   `json:"supervision_budget,omitempty"`
	Reason            string    `json:"reason"`
	CreatedBy         string    `json:"created_by"`
	CreatedAt         time.Time `json:"created_at"`
}

// PolicyVersionID names the n-th policy version of a task type. The "/v"
// tells it from a supervisor's override ID (task type/n-run) in a policy's
// version string.
func PolicyVersionID(taskType string, n int) string { return fmt.Sprintf("%s/v%d", taskType, n) }

// IsPolicyVersionID reports whether id names one of taskType's policy
// versions rather than an override.
func IsPolicyVersionID(taskType, id string) bool {
	rest, ok := strings.CutPrefix(id, taskType+"/v")
	if !ok || rest == "" {
		return false
	}
	for _, r := range rest {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// Apply returns p with v's changes; a nil version returns p unchanged. The
// version of the result names v, so a route records which version decided
// it; a supervisor's override is applied after it.
func (v *PolicyVersion) Apply(p Policy) Policy {
	if v == nil {
		return p
	}
	out := p
	if v.Mode != "" {
		out.Mode = v.Mode
	}
	if v.Threshold != nil {
		out.AutoAcceptThreshold = *v.Threshold
	}
	if v.AuditSampleRate != nil {
		out.AuditSampleRate = *v.AuditSampleRate
	}
	switch {
	case out.Supervision == nil:
		out.Supervision = v.Supervision
	case v.SupervisionBudget > 0 && v.SupervisionBudget < out.Supervision.ErrorBudget:
		stricter := *out.Supervision
		stricter.ErrorBudget = v.SupervisionBudget
		out.Supervision = &stricter
	}
	out.Version = p.Version + "+" + v.ID
	return out
}

// SetNumber makes v the n-th policy version of its task type.
func (v *PolicyVersion) SetNumber(n int) { v.Number, v.ID = n, PolicyVersionID(v.TaskType, n) }

// PolicyMoved is the conflict of putting v when inForce (empty: none) is the
// version in force, no longer the one v was made from: two approvers
// changing the policy at once must not lose one's change to the other's.
func PolicyMoved(v *PolicyVersion, inForce string) error {
	if inForce == "" {
		inForce = "none"
	}
	previous := v.Previous
	if previous == "" {
		previous = "none"
	}
	return Errorf(CodeConflict,
		"the policy of %s changed meanwhile: version %s is in force, not %s; look at it and try again", v.TaskType, inForce, previous)
}

// PolicyStore keeps certificates and policy versions. Both are numbered per
// task type by the store and never change once stored.
type PolicyStore interface {
	// PutCertificate numbers c within its task type (setting ID and
	// Number) and stores it.
	PutCertificate(ctx context.Context, c *Certificate) error
	// Certificate returns a certificate; ErrNotFound if unknown.
	Certificate(ctx context.Context, id string) (*Certificate, error)
	// Certificates returns a task type's certificates, newest first.
	Certificates(ctx context.Context, taskType string) ([]Certificate, error)
	// PutPolicyVersion numbers v within its task type (setting ID and
	// Number) and stores it as the version in force. It is a conflict when
	// v.Previous is not the version in force (empty: none is).
	PutPolicyVersion(ctx context.Context, v *PolicyVersion) error
	// PolicyVersion returns a policy version; ErrNotFound if unknown.
	PolicyVersion(ctx context.Context, id string) (*PolicyVersion, error)
	// PolicyInForce returns the task type's newest policy version, or nil
	// when it has none.
	PolicyInForce(ctx context.Context, taskType string) (*PolicyVersion, error)
	// PolicyVersions returns a task type's policy versions, newest first.
	PolicyVersions(ctx context.Context, taskType string) ([]PolicyVersion, error)
}

// Audit events of certificates and policy versions.
const (
	EventPolicyCertified = "policy.certified"
	// EventPolicyCertificationAttempted is recorded before every test of a
	// certification on held-out documents, certified or refused: later
	// attempts at the same budget on overlapping documents count it and
	// test at a stricter level (certify.AttemptShare).
	EventPolicyCertificationAttempted = "policy.certification_attempted"
	EventPolicyApplied                = "policy.applied"
	EventPolicySet                    = "policy.set"
)
