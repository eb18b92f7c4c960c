package calibration

import (
	"testing"

	"github.com/countersign/countersign"
)

func TestHumanOutcome(t *testing.T) {
	scores := map[string]countersign.FieldScore{
		"a": {Score: 0.7, Raw: 0.9},
		"b": {Score: 0.5, Raw: 0.5},
		"c": {Score: 0, Raw: 0.3},
	}
	d := &countersign.Document{
		Draft:      &countersign.Draft{Fields: countersign.Fields{"a": 1, "b": 2, "c": 3}},
		Confidence: &countersign.Confidence{Fields: scores, Calibration: "cal1"},
		Final: &countersign.Final{DecidedBy: "rita", Action: countersign.ActionCorrect, Diff: []countersign.FieldChange{
			{Field: "a", Change: countersign.ChangeUnchanged},
			{Field: "b", Change: countersign.ChangeCorrected},
			{Field: "c", Change: countersign.ChangeRemoved},
			{Field: "d", Change: countersign.ChangeAdded}, // not drafted: no score to learn from
		}},
	}
	got := HumanOutcome(d)
	want := []FieldOutcome{{"a", 0.9, true}, {"b", 0.5, false}, {"c", 0.3, false}}
	if !countersign.SameValue(got, want) {
		t.Fatalf("outcomes %+v, want %+v", got, want)
	}
	// Scored without a calibration (or before raw scores were kept apart):
	// Score is the raw score.
	old := &countersign.Document{
		Draft:      d.Draft,
		Confidence: &countersign.Confidence{Fields: map[string]countersign.FieldScore{"a": {Score: 0.8}}},
		Final:      &countersign.Final{DecidedBy: "rita", Action: countersign.ActionApprove, Diff: []countersign.FieldChange{{Field: "a", Change: countersign.ChangeUnchanged}}},
	}
	if got := HumanOutcome(old); !countersign.SameValue(got, []FieldOutcome{{"a", 0.8, true}}) {
		t.Errorf("uncalibrated outcomes %+v", got)
	}
	for name, final := range map[string]*countersign.Final{
		"auto-accepted": {DecidedBy: countersign.SystemActor},
		"rejected":      {DecidedBy: "rita", Action: countersign.ActionReject},
		"not final":     nil,
	} {
		d.Final = final
		if got := HumanOutcome(d); got != nil {
			t.Errorf("%s: %+v, want no outcome", name, got)
		}
	}
}
