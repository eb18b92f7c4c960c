package calibration

import (
	"testing"

	"github.com/countersign/countersign"
)

func TestHumanOutcome(t *testing.T) {
	ok := map[string]float64{"schema": 1, "grounding": 1, "token_prob": 0.9}
	scores := map[string]countersign.FieldScore{
		"a": {Score: 0.7, Raw: 0.9, Signals: ok},
		"b": {Score: 0.5, Raw: 0.5, Signals: ok},
		// Its quote is not in the document: a hard failure.
		"c": {Score: 0, Raw: 0, Signals: map[string]float64{"schema": 1, "grounding": 0}},
		// Left empty and scored as omissions: a person added d, not e.
		"d": {Score: 0.6, Raw: 0.5, Signals: map[string]float64{"omission": 0.5}},
		"e": {Score: 0.9, Raw: 1, Signals: map[string]float64{"omission": 1, "agreement": 1}},
	}
	d := &countersign.Document{
		Draft:      &countersign.Draft{Fields: countersign.Fields{"a": 1, "b": 2, "c": 3}},
		Confidence: &countersign.Confidence{Fields: scores, Calibration: "cal1"},
		Final: &countersign.Final{DecidedBy: "rita", Action: countersign.ActionCorrect, Diff: []countersign.FieldChange{
			{Field: "a", Change: countersign.ChangeUnchanged},
			{Field: "b", Change: countersign.ChangeCorrected},
			{Field: "c", Change: countersign.ChangeRemoved},
			{Field: "d", Change: countersign.ChangeAdded},
			{Field: "f", Change: countersign.ChangeAdded}, // not drafted, not scored: nothing to learn from
		}},
	}
	got := HumanOutcome(d)
	want := []FieldOutcome{
		{Field: "a", Raw: 0.9, Signals: ok, Correct: true},
		{Field: "b", Raw: 0.5, Signals: ok},
		{Field: "c", Raw: 0, Signals: scores["c"].Signals, Failed: true},
		{Field: "d", Raw: 0.5, Signals: scores["d"].Signals},
		{Field: "e", Raw: 1, Signals: scores["e"].Signals, Correct: true},
	}
	if !countersign.SameValue(got, want) {
		t.Fatalf("outcomes %+v, want %+v", got, want)
	}
	// Scored without a calibration (or before raw scores and signals were
	// kept): Score is the raw score, and nothing failed a hard check.
	old := &countersign.Document{
		Draft:      d.Draft,
		Confidence: &countersign.Confidence{Fields: map[string]countersign.FieldScore{"a": {Score: 0.8}}},
		Final:      &countersign.Final{DecidedBy: "rita", Action: countersign.ActionApprove, Diff: []countersign.FieldChange{{Field: "a", Change: countersign.ChangeUnchanged}}},
	}
	if got := HumanOutcome(old); !countersign.SameValue(got, []FieldOutcome{{Field: "a", Raw: 0.8, Correct: true}}) {
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
