package simulate_test

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/simulate"
	"github.com/countersign/countersign/internal/store/sqlite"
	"github.com/countersign/countersign/internal/tasktype"
)

const spec = `
name: notes
fields: {type: object, required: [a], properties: {a: {type: string}}}
policy:
  mode: hitl
  review_due: 1h
  risk_rules: [{name: risky, when: 'fields.a == "risky"'}]
`

// doc is a finished document: its field's raw score and how it ended.
func doc(i int, value string, raw float64, decidedBy string, action countersign.Action, change countersign.Change, failed bool) *countersign.Document {
	d := &countersign.Document{
		ID: fmt.Sprintf("d%d", i), TaskType: "notes", TaskTypeVersion: "v", Content: "x", ContentSHA256: "x",
		Status: countersign.StatusAccepted, SubmittedBy: "sam", CreatedAt: time.Date(2026, 1, 1, 0, i, 0, 0, time.UTC),
		Draft:      &countersign.Draft{Fields: countersign.Fields{"a": value}},
		Confidence: &countersign.Confidence{Overall: raw, Fields: map[string]countersign.FieldScore{"a": {Score: raw, Raw: raw, Required: true}}},
		Final:      &countersign.Final{DecidedBy: decidedBy, Action: action, Diff: []countersign.FieldChange{{Field: "a", Change: change}}},
	}
	if failed {
		d.Draft = &countersign.Draft{Error: "model down"}
		d.Confidence = &countersign.Confidence{Reasons: []string{"no draft"}, Fields: map[string]countersign.FieldScore{}}
	}
	if action == countersign.ActionReject {
		d.Status = countersign.StatusRejected
	}
	return d
}

func store(t *testing.T) (*sqlite.Store, *countersign.TaskType) {
	t.Helper()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	tt, err := tasktype.Parse([]byte(spec), "notes.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const sys = countersign.SystemActor
	for _, d := range []*countersign.Document{
		doc(1, "fine", 0.95, "rita", countersign.ActionApprove, countersign.ChangeUnchanged, false),  // right
		doc(2, "off", 0.80, "rita", countersign.ActionCorrect, countersign.ChangeCorrected, false),   // wrong
		doc(3, "auto", 0.92, sys, "", countersign.ChangeUnchanged, false),                            // nobody checked
		doc(4, "junk", 0.97, "rita", countersign.ActionReject, "", false),                            // wrong
		doc(5, "", 0, "rita", countersign.ActionCorrect, countersign.ChangeAdded, true),              // no draft
		doc(6, "risky", 0.99, "rita", countersign.ActionApprove, countersign.ChangeUnchanged, false), // risk rule
	} {
		if _, _, err := s.CreateDocument(ctx, d); err != nil {
			t.Fatal(err)
		}
		status := d.Status
		if err := s.UpdateDocument(ctx, d.ID, countersign.DocumentUpdate{Status: &status, Draft: d.Draft, Confidence: d.Confidence, Final: d.Final}); err != nil {
			t.Fatal(err)
		}
	}
	return s, tt
}

func ptr(x float64) *float64 { return &x }

// rows checks the rows of res at the thresholds of want; error rates and
// bounds to 1e-12, with nil where nothing is known.
func rows(t *testing.T, res *simulate.Result, want []simulate.Row) {
	t.Helper()
	got := map[float64]simulate.Row{}
	for _, r := range res.Rows {
		got[r.Threshold] = r
	}
	same := func(a, b *float64) bool {
		return a == nil && b == nil || a != nil && b != nil && math.Abs(*a-*b) < 1e-12
	}
	for _, w := range want {
		g, ok := got[w.Threshold]
		gotRates, wantRates := [2]*float64{g.ErrorRate, g.UpperBound}, [2]*float64{w.ErrorRate, w.UpperBound}
		g.ErrorRate, g.UpperBound, w.ErrorRate, w.UpperBound = nil, nil, nil, nil
		if !ok || g != w || !same(gotRates[0], wantRates[0]) || !same(gotRates[1], wantRates[1]) {
			t.Errorf("threshold %v: %+v (rate %v, bound %v)\n want %+v (rate %v, bound %v)", w.Threshold, g, show(gotRates[0]), show(gotRates[1]), w, show(wantRates[0]), show(wantRates[1]))
		}
	}
}

func show(x *float64) string {
	if x == nil {
		return "n/a"
	}
	return fmt.Sprint(*x)
}

// TestRun with no calibration: every document is held out. Bounds are
// one-sided Clopper-Pearson at 95%: for k = n-1 wrong of n, 1 - p^n = 0.05,
// so 2 of 3 gives 0.95^(1/3) and 1 of 2 gives 0.95^(1/2); n of n gives 1.
func TestRun(t *testing.T) {
	s, tt := store(t)
	res, err := simulate.Run(context.Background(), s, tt, nil, 0, 0.96)
	if err != nil {
		t.Fatal(err)
	}
	if res.Documents != 6 || res.Checked != 5 || res.TrainedOn != 0 || res.Level != 0.95 {
		t.Fatalf("documents %d checked %d trained on %d level %v, want 6, 5, 0, 0.95", res.Documents, res.Checked, res.TrainedOn, res.Level)
	}
	rows(t, res, []simulate.Row{
		// d5 (no draft) and d6 (risk rule) always go to a person.
		// 0.5: d1..d4 accepted; d2 and d4 wrong, d3 unknown: 2 of 3.
		{Threshold: 0.5, Review: 2, AutoAccepted: 4, Known: 3, Wrong: 2, Unknown: 1, ReviewRate: 2.0 / 6, ErrorRate: ptr(2.0 / 3), UpperBound: ptr(math.Cbrt(0.95))},
		// 0.9: d2 (0.80) to a person too; d1, d3, d4 accepted; d4 wrong: 1 of 2.
		{Threshold: 0.9, Review: 3, AutoAccepted: 3, Known: 2, Wrong: 1, Unknown: 1, ReviewRate: 0.5, ErrorRate: ptr(0.5), UpperBound: ptr(math.Sqrt(0.95))},
		// 0.96: only d4 (0.97) accepted, and it was wrong.
		{Threshold: 0.96, Review: 5, AutoAccepted: 1, Known: 1, Wrong: 1, ReviewRate: 5.0 / 6, ErrorRate: ptr(1), UpperBound: ptr(1)},
		// 0.99, 0.995, 0.999: nothing but d6, which the risk rule holds
		// back: nothing accepted, nothing known, no rate.
		{Threshold: 0.99, Review: 6, ReviewRate: 1},
		{Threshold: 0.995, Review: 6, ReviewRate: 1},
		{Threshold: 0.999, Review: 6, ReviewRate: 1},
	})
	if len(res.Rows) != len(simulate.DefaultThresholds)+1 {
		t.Errorf("%d rows, want the defaults and 0.96", len(res.Rows))
	}
}

// TestRunHeldOut: documents the calibration trained on (created no later
// than it was fitted, with no holdout share: d1 to d3) are left out, and
// counted apart; the bound follows the level asked for.
func TestRunHeldOut(t *testing.T) {
	s, tt := store(t)
	cal := &countersign.Calibration{TaskType: "notes", Version: "cal-1", TrainedThrough: time.Date(2026, 1, 1, 0, 3, 0, 0, time.UTC), Active: true}
	res, err := simulate.Run(context.Background(), s, tt, cal, 0.9, 0.97)
	if err != nil {
		t.Fatal(err)
	}
	if res.Documents != 3 || res.TrainedOn != 3 || res.Checked != 3 || res.Calibration != "cal-1" {
		t.Fatalf("documents %d trained on %d checked %d calibration %q, want 3, 3, 3, cal-1", res.Documents, res.TrainedOn, res.Checked, res.Calibration)
	}
	rows(t, res, []simulate.Row{
		// d4 alone is accepted, and wrong: 1 of 1, bound 1.
		{Threshold: 0.5, Review: 2, AutoAccepted: 1, Known: 1, Wrong: 1, ReviewRate: 2.0 / 3, ErrorRate: ptr(1), UpperBound: ptr(1)},
		{Threshold: 0.97, Review: 2, AutoAccepted: 1, Known: 1, Wrong: 1, ReviewRate: 2.0 / 3, ErrorRate: ptr(1), UpperBound: ptr(1)},
	})
	if _, err := simulate.Run(context.Background(), s, tt, cal, 1); err == nil {
		t.Error("level 1: no error")
	}
}
