package wire

import (
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/quality"
	"github.com/countersign/countersign/internal/report"
)

// Stats is the answer of GET /v1/stats: supervision and quality figures.
type Stats struct {
	TaskType    string           `json:"task_type"`
	Supervision SupervisionStats `json:"supervision"`
	Quality     *report.Report   `json:"quality"`
	// Rules are the figures per detection rule (metadata.rule_name), with
	// by=rule: false-positive and automatic-closure rates, audits of
	// automatic closures and what they changed, time to verdict.
	Rules []report.RuleFigures `json:"rules,omitempty"`
}

// SupervisionStats is where a task type's autonomy stands.
type SupervisionStats struct {
	// State is unsupervised (no error budget), normal, or tightened.
	State string `json:"state"`
	// Estimate is the escaped-error estimate of the supervisor's window: the
	// evidence of the certificate it started from (Basis), if any, and the
	// audits since Since.
	Estimate *quality.Estimate `json:"estimate,omitempty"`
	Since    *time.Time        `json:"since,omitempty"`
	// Basis is what the window judges: the policy versions in force since
	// it started, and the certificate whose evidence it starts from.
	Basis  *quality.Basis `json:"basis,omitempty"`
	Audits quality.Tally  `json:"all_audits"`
	// IgnoredReports counts what the supervisor did not count: since it
	// counts in draw order (DrawOrder), the audits it passed (drawn under
	// a policy version not the window's, or counted by another supervisor
	// before); before, the reports the store did not confirm.
	IgnoredReports int `json:"ignored_reports,omitempty"`
	// DrawOrder is set when the supervisor counts the audits in the order
	// they were drawn, each once decided or due. Overdue counts those
	// of its window it counted as escaped for want of a verdict in time
	// (still open when due, decided after it, or closed without a
	// decision). Waiting is the document whose audit it waits for
	// (decided, or due at Until) before it counts those drawn after it.
	DrawOrder bool                        `json:"draw_order,omitempty"`
	Overdue   int                         `json:"overdue_audits,omitempty"`
	Waiting   string                      `json:"waiting_for,omitempty"`
	Until     *time.Time                  `json:"waiting_until,omitempty"`
	Override  *countersign.PolicyOverride `json:"override,omitempty"`
	Budget    float64                     `json:"budget,omitempty"`
	Level     float64                     `json:"level,omitempty"`
	// Policy is the policy new documents start under: the task type's,
	// then PolicyVersion, then Override; its version names each.
	Policy        countersign.Policy         `json:"policy"`
	PolicyVersion *countersign.PolicyVersion `json:"policy_version,omitempty"`
}

// Supervision states.
const (
	StateUnsupervised = "unsupervised"
	StateNormal       = "normal"
	StateTightened    = "tightened"
)
