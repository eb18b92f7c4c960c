package activities_test

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/activities"
	"github.com/countersign/countersign/examples"
	"github.com/countersign/countersign/internal/store/sqlite"
	"github.com/countersign/countersign/internal/tasktype"
)

// TestScoreUsesTheActiveCalibration: a newer calibration stored inactive
// (it did not beat the active one) takes no part in routing; the active
// one's model gives each field its probability and the document the
// probability that every field is right.
func TestScoreUsesTheActiveCalibration(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "countersign.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	types, err := tasktype.LoadFS(examples.TaskTypes, "examples")
	if err != nil {
		t.Fatal(err)
	}
	tt, err := types.Get("contract-review")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	content := "This agreement between Acme Corp and Beta LLC takes effect on 2026-01-01 and is governed by the laws of Delaware."
	if _, _, err := s.CreateDocument(ctx, &countersign.Document{ID: "d1", TaskType: tt.Name, TaskTypeVersion: tt.Version, Content: content, Status: countersign.StatusProcessing, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	model := func(version string, intercept float64, created time.Time, active bool) *countersign.Calibration {
		return &countersign.Calibration{TaskType: tt.Name, Version: version, CreatedAt: created, Active: active,
			Model: &countersign.ConfidenceModel{Pooled: []float64{intercept}, Document: countersign.Platt{A: 1}, Floor: 0.001}}
	}
	if err := s.PutCalibration(ctx, model("good", 3, now, true)); err != nil {
		t.Fatal(err)
	}
	if err := s.PutCalibration(ctx, model("worse", -3, now.Add(time.Hour), false)); err != nil {
		t.Fatal(err)
	}

	fields := countersign.Fields{"party_a": "Acme Corp", "party_b": "Beta LLC", "effective_date": "2026-01-01", "governing_law": "Delaware"}
	evidence := map[string]countersign.Evidence{}
	for name, v := range fields {
		q := v.(string)
		at := strings.Index(content, q)
		evidence[name] = countersign.Evidence{Quote: q, Start: at, End: at + len(q)}
	}
	a := &activities.Activities{Store: s, TaskTypes: tasktype.NewResolver(types, s), Now: func() time.Time { return now }}
	res, err := a.Score(ctx, activities.ScoreInput{
		Step:  activities.Step{EventID: "review/d1/3", DocumentID: "d1", TaskTypeVersion: tt.Version, PolicyVersion: tt.Policy.Version},
		Draft: &countersign.Draft{Extractor: "rules", Fields: fields, Evidence: evidence},
	})
	if err != nil {
		t.Fatal(err)
	}
	p := 0.001 + 0.998*countersign.Sigmoid(3) // bounded within the floor

	if res.Calibration != "good" || math.Abs(res.Fields["party_a"].Score-p) > 1e-12 {
		t.Fatalf("calibration %q, party_a %+v: want the active calibration's %v", res.Calibration, res.Fields["party_a"], p)
	}
	if want := 0.001 + 0.998*math.Pow(p, 4); math.Abs(res.Overall-want) > 1e-12 {
		t.Errorf("overall %v, want the product of four fields' %v: %v", res.Overall, p, want)
	}
	stored, err := s.GetDocument(ctx, "d1")
	if err != nil || stored.Confidence.Calibration != "good" {
		t.Errorf("stored confidence %+v, %v", stored.Confidence, err)
	}

	// Score runs as a local activity, so a lost workflow task runs it
	// again, maybe after another calibration became active: the second
	// run's record is refused and it answers with the confidence its
	// recorded step states.
	if err := s.PutCalibration(ctx, model("newer", -3, now.Add(2*time.Hour), true)); err != nil {
		t.Fatal(err)
	}
	in := activities.ScoreInput{
		Step:  activities.Step{EventID: "review/d1/3", DocumentID: "d1", TaskTypeVersion: tt.Version, PolicyVersion: tt.Policy.Version},
		Draft: &countersign.Draft{Extractor: "rules", Fields: fields, Evidence: evidence},
	}
	again, err := a.Score(ctx, in)
	if err != nil || again.Calibration != "good" || again.Overall != res.Overall {
		t.Fatalf("Score again after another calibration became active: %+v, %v; want the first answer (good, %v)", again, err, res.Overall)
	}
	if events, err := s.DocumentAudit(ctx, "d1"); err != nil || len(events) != 1 {
		t.Fatalf("%d events after Score ran twice (%v), want one confidence.scored", len(events), err)
	}
	// The second run stored its own confidence before its record was
	// refused (as a run overlapping the first would): the stored one is
	// made the event's again.
	if stored, err := s.GetDocument(ctx, "d1"); err != nil || stored.Confidence.Calibration != "good" || stored.Confidence.Overall != res.Overall {
		t.Fatalf("stored confidence after Score ran twice: %+v, %v; want the recorded one", stored.Confidence, err)
	}
	in.Step.EventID = "review/d1/9"
	if next, err := a.Score(ctx, in); err != nil || next.Calibration != "newer" {
		t.Fatalf("a new step scores with calibration %q (%v), want the active one, newer", next.Calibration, err)
	}
}
