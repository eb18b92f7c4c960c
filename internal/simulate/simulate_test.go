package simulate_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
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

// emptyStore is a fresh SQLite store and the notes task type.
func emptyStore(t *testing.T) (*sqlite.Store, *countersign.TaskType) {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	tt, err := tasktype.Parse([]byte(spec), "notes.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return s, tt
}

// put stores a finished document as the pipeline leaves it.
func put(t *testing.T, s *sqlite.Store, d *countersign.Document) {
	t.Helper()
	ctx := context.Background()
	if _, _, err := s.CreateDocument(ctx, d); err != nil {
		t.Fatal(err)
	}
	status := d.Status
	if err := s.UpdateDocument(ctx, d.ID, countersign.DocumentUpdate{Status: &status, Draft: d.Draft, Confidence: d.Confidence, Route: d.Route, Final: d.Final}); err != nil {
		t.Fatal(err)
	}
}

func store(t *testing.T) (*sqlite.Store, *countersign.TaskType) {
	t.Helper()
	s, tt := emptyStore(t)
	const sys = countersign.SystemActor
	for _, d := range []*countersign.Document{
		doc(1, "fine", 0.95, "rita", countersign.ActionApprove, countersign.ChangeUnchanged, false),  // right
		doc(2, "off", 0.80, "rita", countersign.ActionCorrect, countersign.ChangeCorrected, false),   // wrong
		doc(3, "auto", 0.92, sys, "", countersign.ChangeUnchanged, false),                            // nobody checked
		doc(4, "junk", 0.97, "rita", countersign.ActionReject, "", false),                            // wrong
		doc(5, "", 0, "rita", countersign.ActionCorrect, countersign.ChangeAdded, true),              // no draft
		doc(6, "risky", 0.99, "rita", countersign.ActionApprove, countersign.ChangeUnchanged, false), // risk rule
	} {
		put(t, s, d)
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
	res, err := simulate.Run(context.Background(), s, tt, nil, 0, time.Now(), 0.96)
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
	res, err := simulate.Run(context.Background(), s, tt, cal, 0.9, time.Now(), 0.97)
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
	if _, err := simulate.Run(context.Background(), s, tt, cal, 1, time.Now()); err == nil {
		t.Error("level 1: no error")
	}
}

// TestSampled: in hitl (or unrouted) every document belongs to the uniform
// sample; in hotl the audited ones do, the undrawn auto-accepted ones do
// not, those sent to a person do at the rate recorded on their route, and
// none do without a recorded rate.
func TestSampled(t *testing.T) {
	hotl := func(id string, outcome countersign.Outcome, rate float64) *countersign.Document {
		return &countersign.Document{ID: id, Route: &countersign.Route{Mode: countersign.ModeHOTL, Outcome: outcome, Threshold: 0.9, AuditSampleRate: rate}}
	}
	for _, c := range []struct {
		name string
		doc  *countersign.Document
		want bool
	}{
		{"unrouted", &countersign.Document{ID: "a"}, true},
		{"hitl", &countersign.Document{ID: "a", Route: &countersign.Route{Mode: countersign.ModeHITL, Outcome: countersign.OutcomeHumanReview}}, true},
		{"hotl audited", hotl("a", countersign.OutcomeAutoAcceptWithAudit, 0.1), true},
		{"hotl not drawn", hotl("a", countersign.OutcomeAutoAccept, 0.1), false},
		{"hotl to a person at rate 1", hotl("a", countersign.OutcomeHumanReview, 1), true},
		{"hotl to a person, no rate recorded", hotl("a", countersign.OutcomeHumanReview, 0), false},
		{"hotl audited, no rate recorded", hotl("a", countersign.OutcomeAutoAcceptWithAudit, 0), false},
	} {
		if got := simulate.Sampled(c.doc); got != c.want {
			t.Errorf("%s: sampled %v, want %v", c.name, got, c.want)
		}
	}
	// Sent to a person at rate 0.1: a tenth of 20,000 IDs, within two
	// standard deviations (±85, σ = 42); the draw is fixed by the ID and
	// the time received (here the zero time), so this cannot flake.
	in := 0
	for i := range 20000 {
		if simulate.Sampled(hotl(fmt.Sprintf("doc-%d", i), countersign.OutcomeHumanReview, 0.1)) {
			in++
		}
	}
	if in < 2000-85 || in > 2000+85 {
		t.Errorf("%d of 20000 drawn at rate 0.1, want about 2000", in)
	}
	// The draw reads the time received too: received a microsecond
	// later, about 2·0.1·0.9 of the documents (3,600 of 20,000) change
	// sides, so a submitter choosing IDs cannot choose the sample.
	moved := 0
	for i := range 20000 {
		d := hotl(fmt.Sprintf("doc-%d", i), countersign.OutcomeHumanReview, 0.1)
		before := simulate.Sampled(d)
		d.CreatedAt = d.CreatedAt.Add(time.Microsecond)
		if simulate.Sampled(d) != before {
			moved++
		}
	}
	if moved < 3000 || moved > 4200 {
		t.Errorf("%d of 20000 changed sides a microsecond later, want about 3600", moved)
	}
}

// TestUniformSampleUnbiased replays a period in hotl whose error rate falls
// with the confidence: every document below the threshold in force (0.8)
// went to a person, and a quarter of those above it were audited. At
// threshold 0.4 the simulation must measure the error rate of all
// documents at or above 0.4 (0.3 here), not that of the documents people
// happened to see, most of them below 0.8 (about 0.37).
func TestUniformSampleUnbiased(t *testing.T) {
	s, tt := emptyStore(t)
	const (
		n, inForce, rate, at = 3000, 0.8, 0.25, 0.4
	)
	rng := rand.New(rand.NewPCG(1, 2))
	var popWrong, popN, seenWrong, seenN int
	for i := range n {
		conf := (float64(i) + 0.5) / n
		wrong := rng.Float64() < 1-conf
		d := doc(i, "x", conf, "rita", countersign.ActionApprove, countersign.ChangeUnchanged, false)
		if wrong {
			d.Final.Action, d.Final.Diff[0].Change = countersign.ActionCorrect, countersign.ChangeCorrected
		}
		route := &countersign.Route{Mode: countersign.ModeHOTL, Threshold: inForce, AuditSampleRate: rate, Outcome: countersign.OutcomeHumanReview}
		if conf >= inForce {
			// Accepted; a quarter drawn for an audit, as DrawAudit's
			// systematic draw does, the others nobody checks.
			route.Outcome = countersign.OutcomeAutoAccept
			d.Final = &countersign.Final{DecidedBy: countersign.SystemActor, Diff: []countersign.FieldChange{{Field: "a", Change: countersign.ChangeUnchanged}}}
			if i%4 == 0 {
				route.Outcome = countersign.OutcomeAutoAcceptWithAudit
				d.Final.AuditedBy = "ana"
				if wrong {
					d.Final.Diff[0].Change = countersign.ChangeCorrected
				}
			}
		}
		d.Route = route
		audited := route.Outcome == countersign.OutcomeAutoAcceptWithAudit
		if conf >= at {
			popN++
			if wrong {
				popWrong++
			}
			if known, _ := simulate.Verdict(d); known {
				seenN++
				if wrong {
					seenWrong++
				}
			}
		}
		put(t, s, d)
		if audited {
			// Its audit, due an hour ago: the evidence counts an audited
			// document once its audit is due.
			r := &countersign.Review{ID: countersign.ReviewID(d.ID, 1), DocumentID: d.ID, TaskType: d.TaskType, Kind: countersign.ReviewAudit, Status: countersign.ReviewPending,
				CreatedAt: time.Now().Add(-2 * time.Hour), DueAt: time.Now().Add(-time.Hour), Confidence: conf}
			if err := s.OpenReview(context.Background(), r); err != nil {
				t.Fatal(err)
			}
		}
	}
	truth, seen := float64(popWrong)/float64(popN), float64(seenWrong)/float64(seenN)
	if math.Abs(seen-truth) < 0.05 {
		t.Fatalf("the documents people saw err at %.3f, the population at %.3f: the fixture does not show the bias", seen, truth)
	}
	res, err := simulate.Run(context.Background(), s, tt, nil, 0, time.Now(), at)
	if err != nil {
		t.Fatal(err)
	}
	var row simulate.Row
	for _, r := range res.Rows {
		if r.Threshold == at {
			row = r
		}
	}
	if row.ErrorRate == nil {
		t.Fatalf("no error rate at %v: %+v", at, row)
	}
	t.Logf("at %v: measured %.3f over %d, population %.3f, seen by people %.3f over %d", at, *row.ErrorRate, row.Known, truth, seen, seenN)
	// About a quarter of the 1,800 documents at or above 0.4: a standard
	// deviation of 0.02 around the truth.
	if math.Abs(*row.ErrorRate-truth) > 0.06 || row.Known < 350 || row.Known > 550 {
		t.Errorf("at %v: error rate %.3f over %d known, want about %.3f (the population's) over about 450; the documents people saw give %.3f", at, *row.ErrorRate, row.Known, truth, seen)
	}
	if res.Unsampled == 0 || res.Checked+res.Unsampled != seenN+countBelow(n, at) {
		t.Errorf("checked %d + unsampled %d, want every decided or audited document (%d)", res.Checked, res.Unsampled, seenN+countBelow(n, at))
	}
}

// countBelow counts the documents of TestUniformSampleUnbiased below a
// confidence: all of them went to a person.
func countBelow(n int, at float64) int {
	size := float64(n)
	k := 0
	for i := range n {
		if (float64(i)+0.5)/size < at {
			k++
		}
	}
	return k
}
