package simulate_test

import (
	"context"
	"fmt"
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

func TestRun(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
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
		if _, _, err := store.CreateDocument(ctx, d); err != nil {
			t.Fatal(err)
		}
		status := d.Status
		if err := store.UpdateDocument(ctx, d.ID, countersign.DocumentUpdate{Status: &status, Draft: d.Draft, Confidence: d.Confidence, Final: d.Final}); err != nil {
			t.Fatal(err)
		}
	}
	res, err := simulate.Run(ctx, store, tt, nil, 0.96)
	if err != nil {
		t.Fatal(err)
	}
	if res.Documents != 6 || res.Checked != 5 {
		t.Fatalf("documents %d checked %d, want 6 and 5", res.Documents, res.Checked)
	}
	rows := map[float64]simulate.Row{}
	for _, r := range res.Rows {
		rows[r.Threshold] = r
	}
	want := map[float64]simulate.Row{
		// d5 (no draft) and d6 (risk rule) always go to a person.
		// 0.5: d1..d4 accepted; d2 and d4 wrong, d3 unknown: 2/3.
		0.5: {Threshold: 0.5, Review: 2, AutoAccepted: 4, Wrong: 2, Unknown: 1, ReviewRate: 0.3333, ErrorRate: 0.6667},
		// 0.9: d2 (0.80) to a person too; d1, d3, d4 accepted; d4 wrong: 1/2.
		0.9: {Threshold: 0.9, Review: 3, AutoAccepted: 3, Wrong: 1, Unknown: 1, ReviewRate: 0.5, ErrorRate: 0.5},
		// 0.96: only d4 (0.97) accepted, and it was wrong.
		0.96: {Threshold: 0.96, Review: 5, AutoAccepted: 1, Wrong: 1, ReviewRate: 0.8333, ErrorRate: 1},
		// 0.99: nothing but d6, which the risk rule holds back.
		0.99: {Threshold: 0.99, Review: 6, ReviewRate: 1},
	}
	for th, w := range want {
		if got := rows[th]; got != w {
			t.Errorf("threshold %v: %+v\n want %+v", th, got, w)
		}
	}
	if len(res.Rows) != len(simulate.DefaultThresholds)+1 {
		t.Errorf("%d rows, want the defaults and 0.96", len(res.Rows))
	}
}
