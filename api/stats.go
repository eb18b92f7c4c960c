package api

import (
	"net/http"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/api/wire"
	"github.com/countersign/countersign/internal/dispatch"
	"github.com/countersign/countersign/internal/report"
	"github.com/countersign/countersign/internal/rest"
)

// Supervision states, as SupervisionStats.State reports them.
const (
	StateUnsupervised = wire.StateUnsupervised
	StateNormal       = wire.StateNormal
	StateTightened    = wire.StateTightened
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
	// A tightening may send every document to a person, and the policy in
	// force is then no longer hotl; the budget it is supervised at, and
	// will be again once the tightening is lifted, is the same.
	if inForce.Supervised() {
		s := inForce.Policy.Supervision
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
		sup.DrawOrder, sup.Overdue, sup.Waiting = state.DrawOrder, state.Overdue, state.Waiting
		if !state.Due.IsZero() {
			sup.Until = &state.Due
		}
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
