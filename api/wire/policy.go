package wire

import (
	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/certify"
)

// CertifyRequest is the body of POST /v1/policy/certify.
type CertifyRequest struct {
	TaskType string `json:"task_type"`
	// ErrorBudget is the highest acceptable error rate among auto-accepted
	// documents, a share in (0,1): 0.01 is 1%.
	ErrorBudget float64 `json:"error_budget"`
	// Level is the confidence level, 0.95 unless given.
	Level *float64 `json:"level,omitempty"`
	// Horizon asks for a batch certificate: at most ErrorBudget of each
	// next Horizon auto-accepted documents wrong, at Level, rather than the
	// error rate within ErrorBudget (0 or absent). See internal/certify:
	// TestBatchAttempt.
	Horizon int `json:"horizon,omitempty"`
}

// CertifyResponse is the answer of POST /v1/policy/certify: the stored
// certificate and the test that made it.
type CertifyResponse struct {
	Certificate *countersign.Certificate `json:"certificate"`
	Test        *certify.Result          `json:"test"`
}

// PolicyApplyRequest is the body of POST /v1/policy/apply.
type PolicyApplyRequest struct {
	TaskType    string `json:"task_type"`
	Certificate string `json:"certificate"`
	// Reason is recorded with the version; one naming the certificate's
	// figures is made when empty.
	Reason string `json:"reason,omitempty"`
	// AuditSampleRate, when set, is the share of auto-accepted documents
	// audited from now on; without it the rate in force stays, or
	// DefaultAuditRate when none is (a supervisor judges from audits).
	AuditSampleRate *float64 `json:"audit_sample_rate,omitempty"`
}

// PolicySetRequest is the body of POST /v1/policy/set: the parts to
// change, at least one, and why.
type PolicySetRequest struct {
	TaskType        string           `json:"task_type"`
	Threshold       *float64         `json:"threshold,omitempty"`
	Mode            countersign.Mode `json:"mode,omitempty"`
	AuditSampleRate *float64         `json:"audit_sample_rate,omitempty"`
	Reason          string           `json:"reason"`
}

// PolicyResponse is the answer of POST /v1/policy/apply and set: the new
// version, and the policy new documents now start under.
type PolicyResponse struct {
	PolicyVersion *countersign.PolicyVersion `json:"policy_version"`
	Policy        countersign.Policy         `json:"policy"`
}
