package api

import (
	"net/http"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/activities"
	"github.com/countersign/countersign/internal/dispatch"
	"github.com/countersign/countersign/internal/quality"
	"github.com/countersign/countersign/internal/report"
	"github.com/countersign/countersign/internal/rest"
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
	Basis  *activities.Basis `json:"basis,omitempty"`
	Audits quality.Tally     `json:"all_audits"`
	// IgnoredReports counts the audit reports the supervisor did not count
	// because the store did not confirm them.
	IgnoredReports int                         `json:"ignored_reports,omitempty"`
	Override       *countersign.PolicyOverride `json:"override,omitempty"`
	Budget         float64                     `json:"budget,omitempty"`
	Level          float64                     `json:"level,omitempty"`
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

// stats reports a task type's supervision state and quality figures.
func (h *handlers) stats(w http.ResponseWriter, r *http.Request) {
	tt, err := h.Dispatch.TaskTypes.Get(r.URL.Query().Get("task_type"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	by := r.URL.Query().Get("by")
	if by != "" && by != "rule" {
		h.fail(w, r, countersign.Errorf(countersign.CodeBadRequest, "by=%q: the figures can be broken down by rule only (by=rule)", by))
		return
	}
	out := Stats{TaskType: tt.Name}
	sup := &out.Supervision
	sup.State = StateUnsupervised
	inForce, err := dispatch.PolicyInForce(r.Context(), h.Store, tt)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if s := inForce.Policy.Supervision; s != nil && inForce.Policy.Mode == countersign.ModeHOTL {
		sup.State, sup.Budget, sup.Level = StateNormal, s.ErrorBudget, s.Level
	}
	sup.Override, sup.PolicyVersion, sup.Policy = inForce.Override, inForce.Version, inForce.Policy
	state, err := h.Dispatch.Supervision(r.Context(), tt.Name)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if state != nil {
		sup.Estimate, sup.Audits, sup.Since = state.Estimate, state.All, &state.Since
		sup.Basis, sup.IgnoredReports = state.Basis, state.Ignored
	}
	if sup.Override != nil {
		sup.State = StateTightened
	}
	if out.Quality, err = report.Build(r.Context(), h.Store, tt.Name, h.Now()); err != nil {
		h.fail(w, r, err)
		return
	}
	if by == "rule" {
		if out.Rules, err = report.BuildByRule(r.Context(), h.Store, tt.Name); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	rest.WriteJSON(w, http.StatusOK, out)
}
