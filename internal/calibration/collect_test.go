package calibration

import (
	"testing"

	"github.com/countersign/countersign"
)

func TestHumanOutcome(t *testing.T) {
	scores := map[string]countersign.FieldScore{
		"a": {Score: 0.7, Raw: 0.9},
		"b": {Score: 0.5}, // scored before raw scores were kept: Score is raw
		"c": {Score: 0.2, Raw: 0.3},
	}
	d := &countersign.Document{
		Draft:      &countersign.Draft{Fields: countersign.Fields{"a": 1, "b": 2, "c": 3}},
		Confidence: &countersign.Confidence{Fields: scores},
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
