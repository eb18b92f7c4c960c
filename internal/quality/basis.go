package quality

import (
	"time"

	"github.com/countersign/countersign"
)

// Basis is what a supervisor's estimation window judges: the policy in
// force when it started, and the evidence it starts from.
type Basis struct {
	// Versions are the policy versions whose documents the window counts:
	// the version in force when it started, and those after it that kept its
	// mode, threshold and certificate (one that changed the audit rate, say).
	// Empty when no version was applied: the task type's own policy.
	Versions []string         `json:"versions,omitempty"`
	Mode     countersign.Mode `json:"mode"`
	// Threshold is the auto-accept threshold in force, before any override.
	Threshold float64 `json:"threshold"`
	// Certificate is the certificate the policy in force was applied from,
	// when its evidence holds at this threshold; nil otherwise.
	Certificate *Certified `json:"certificate,omitempty"`
}

// Certified is a certificate's evidence, where a window starts.
type Certified struct {
	ID          string  `json:"id"`
	Calibration string  `json:"calibration,omitempty"`
	Threshold   float64 `json:"threshold"`
	// Budget is the error rate it certified: its budget, or a batch
	// certificate's stricter rate (countersign.Certificate.Rate).
	Budget float64 `json:"budget"`
	Level  float64 `json:"level"`
	// Accepted and Wrong are the reviewed documents it would have accepted
	// at its threshold and the wrong ones among them, from its data window
	// Since to Until.
	Accepted int       `json:"accepted"`
	Wrong    int       `json:"wrong"`
	Since    time.Time `json:"since"`
	Until    time.Time `json:"until"`
	// Refutes is set when the certificate showed the supervisor's budget
	// met, at a budget and a level at least as strict as its own: the window
	// starts from its evidence and is judged by RuleRefute. A
	// certificate of a looser budget or level is only named.
	Refutes bool `json:"refutes"`
}

// Start is the evidence a window with this basis starts from, nil when it
// starts empty.
func (b *Basis) Start() *Tally {
	if b == nil || b.Certificate == nil || !b.Certificate.Refutes {
		return nil
	}
	return &Tally{Audits: b.Certificate.Accepted, Escaped: b.Certificate.Wrong}
}

// Continues reports whether a window of basis b goes on under next: the
// same mode, threshold and certificate.
func (b *Basis) Continues(next *Basis) bool {
	if b == nil {
		return false
	}
	id := func(x *Basis) string {
		if x.Certificate == nil {
			return ""
		}
		return x.Certificate.ID
	}
	return b.Mode == next.Mode && b.Threshold == next.Threshold && id(b) == id(next)
}
