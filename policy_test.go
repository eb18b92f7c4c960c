package countersign_test

import (
	"testing"

	"github.com/countersign/countersign"
)

// TestApplyKeepsTheStricterSupervision: a version's supervision (what a
// certificate applied promises) supervises a task type without its own; one
// with its own keeps its settings, at the stricter of its budget and the
// version's SupervisionBudget. A version stored before SupervisionBudget
// leaves the task type's own supervision as it was.
func TestApplyKeepsTheStricterSupervision(t *testing.T) {
	own := &countersign.Supervision{ErrorBudget: 0.05, Level: 0.9, Bound: countersign.BoundWilson, OnBreach: countersign.BreachRaiseThreshold}
	cert := &countersign.Supervision{ErrorBudget: 0.0328, Level: 0.95, Bound: countersign.BoundConfidenceSequence, OnBreach: countersign.BreachRaiseThreshold}
	v := &countersign.PolicyVersion{ID: "t/v1", Supervision: cert, SupervisionBudget: 0.0328}
	for _, c := range []struct {
		name string
		own  *countersign.Supervision
		want countersign.Supervision
	}{
		{"none of its own", nil, *cert},
		{"its own, laxer", own, countersign.Supervision{ErrorBudget: 0.0328, Level: 0.9, Bound: countersign.BoundWilson, OnBreach: countersign.BreachRaiseThreshold}},
		{"its own, stricter", &countersign.Supervision{ErrorBudget: 0.01, Level: 0.9, Bound: countersign.BoundWilson}, countersign.Supervision{ErrorBudget: 0.01, Level: 0.9, Bound: countersign.BoundWilson}},
	} {
		got := v.Apply(countersign.Policy{Version: "p", Supervision: c.own}).Supervision
		if got == nil || *got != c.want {
			t.Errorf("%s: supervision %+v, want %+v", c.name, got, c.want)
		}
	}
	old := &countersign.PolicyVersion{ID: "t/v1", Supervision: cert}
	if got := old.Apply(countersign.Policy{Version: "p", Supervision: own}).Supervision; got != own {
		t.Errorf("a version stored before SupervisionBudget: supervision %+v, want the task type's own", got)
	}
	if own.ErrorBudget != 0.05 {
		t.Errorf("Apply changed the task type's own supervision: %+v", own)
	}
}
