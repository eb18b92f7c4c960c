package calibration_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/calibration"
)

// TestLearnPositionSignal: a comparison's ranking is scored with the
// schema and position signals only (no grounding: nothing is quoted), and
// calibration learns from people's outcomes how far a judge that kept its
// ranking when the candidates' order changed is right, as for any signal.
func TestLearnPositionSignal(t *testing.T) {
	ranking := &countersign.TaskType{Name: "ranking", FieldOrder: []string{"ranking"}, Required: []string{"ranking"}}
	rng := rand.New(rand.NewPCG(19, 19))
	var docs []calibration.DocumentOutcome
	for i := range 400 {
		// Three candidates: 0, 1, 2 or 3 pairs of three kept their order.
		p := float64(rng.IntN(4)) / 3
		right := rng.Float64() < 0.15+0.8*p
		s := map[string]float64{countersign.SignalSchema: 1, countersign.SignalPosition: p}
		fs := countersign.FieldScore{Raw: (1 + p) / 2, Score: (1 + p) / 2, Signals: s, Required: true}
		docs = append(docs, calibration.DocumentOutcome{
			ID: fmt.Sprintf("cmp%04d", i), CreatedAt: t0.Add(time.Duration(i) * time.Minute), TaskTypeVersion: "v1",
			Confidence: &countersign.Confidence{Fields: map[string]countersign.FieldScore{"ranking": fs}},
			Fields:     []calibration.FieldOutcome{{Field: "ranking", Raw: fs.Raw, Signals: s, Correct: right}},
			Correct:    right,
		})
	}
	cal, err := calibration.Learn(ranking, &calibration.Outcomes{Documents: docs}, calibration.Options{Seed: 1, Holdout: 0.25, TrainedThrough: t0.Add(1000 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(cal.Model.Features, countersign.SignalPosition) {
		t.Fatalf("features %v lack position", cal.Model.Features)
	}
	steady := cal.Model.FieldProbability("ranking", map[string]float64{countersign.SignalSchema: 1, countersign.SignalPosition: 1})
	flipped := cal.Model.FieldProbability("ranking", map[string]float64{countersign.SignalSchema: 1, countersign.SignalPosition: 0})
	if !(steady > 0.8 && flipped < 0.3) {
		t.Errorf("a steady judge's ranking right with probability %.2f, a flipping one's %.2f; drawn 0.95 and 0.15", steady, flipped)
	}
}

// TestLearnVerdictProbSignal: a comparison's verdict_prob (the judge's
// probability for its first place, from its verdict tokens) is learned
// from people's outcomes like any signal, and its absence (an endpoint
// that sends no top_logprobs) is a feature of its own rather than a 0 or
// a 1. Drawn: a ranking is right with the probability the judge gave it;
// without the figure, with 0.75.
func TestLearnVerdictProbSignal(t *testing.T) {
	ranking := &countersign.TaskType{Name: "ranking", FieldOrder: []string{"ranking"}, Required: []string{"ranking"}}
	rng := rand.New(rand.NewPCG(19, 20))
	var docs []calibration.DocumentOutcome
	for i := range 400 {
		s := map[string]float64{countersign.SignalSchema: 1, countersign.SignalPosition: 1}
		chance := 0.75
		if i%4 != 0 {
			p := float64(5000+rng.IntN(5000)) / 1e4 // 0.5 to 0.9999
			s[countersign.SignalVerdictProb] = p
			chance = p
		}
		right := rng.Float64() < chance
		fs := countersign.FieldScore{Raw: 1, Score: 1, Signals: s, Required: true}
		docs = append(docs, calibration.DocumentOutcome{
			ID: fmt.Sprintf("vp%04d", i), CreatedAt: t0.Add(time.Duration(i) * time.Minute), TaskTypeVersion: "v1",
			Confidence: &countersign.Confidence{Fields: map[string]countersign.FieldScore{"ranking": fs}},
			Fields:     []calibration.FieldOutcome{{Field: "ranking", Raw: fs.Raw, Signals: s, Correct: right}},
			Correct:    right,
		})
	}
	cal, err := calibration.Learn(ranking, &calibration.Outcomes{Documents: docs}, calibration.Options{Seed: 1, Holdout: 0.25, TrainedThrough: t0.Add(1000 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(cal.Model.Features, countersign.SignalVerdictProb) || !slices.Contains(cal.Model.Features, countersign.FeatureAbsent+countersign.SignalVerdictProb) {
		t.Fatalf("features %v lack verdict_prob or its absence", cal.Model.Features)
	}
	at := func(p float64) float64 {
		return cal.Model.FieldProbability("ranking", map[string]float64{countersign.SignalSchema: 1, countersign.SignalPosition: 1, countersign.SignalVerdictProb: p})
	}
	sure, unsure := at(0.99), at(0.55)
	absent := cal.Model.FieldProbability("ranking", map[string]float64{countersign.SignalSchema: 1, countersign.SignalPosition: 1})
	if !(sure > 0.85 && unsure < 0.7 && absent > unsure && absent < sure) {
		t.Errorf("a sure judge's ranking right with probability %.2f, an unsure one's %.2f, one without the figure %.2f; drawn 0.99, 0.55 and 0.75", sure, unsure, absent)
	}
}
