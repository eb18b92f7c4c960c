package calibration_test

import (
	"math"
	"testing"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/calibration"
)

const tol = 1e-12

// samples pairs scores with outcomes, 1 for correct and 0 for wrong.
func samples(scores []float64, outcomes ...int) []calibration.Sample {
	out := make([]calibration.Sample, len(scores))
	for i, s := range scores {
		out[i] = calibration.Sample{Score: s, Correct: outcomes[i] == 1}
	}
	return out
}

func near(a, b float64) bool { return math.Abs(a-b) <= tol }

// oldCurve is a curve as calibrations stored them before learned models:
// the isotonic fit of scores 0.1..0.6 with outcomes 1,0,0,1,0,1, blocks
// [0.1-0.3: 1/3] [0.4-0.5: 1/2] [0.6: 1]. Such calibrations still apply.
var oldCurve = countersign.Curve{
	X: []float64{0.1, 0.3, 0.4, 0.5, 0.6},
	Y: []float64{1.0 / 3, 1.0 / 3, 0.5, 0.5, 1},
}

func TestApplyOnAStoredCurve(t *testing.T) {
	cases := []struct {
		name  string
		score float64
		want  float64
	}{
		{"inside the first block", 0.2, 1.0 / 3},
		{"at a block's lowest score", 0.4, 0.5},
		// 0.35 is halfway from (0.3, 1/3) to (0.4, 1/2): 1/3 + (1/2-1/3)/2 = 5/12.
		{"between blocks", 0.35, 5.0 / 12},
		// 0.55 is halfway from (0.5, 1/2) to (0.6, 1): 3/4.
		{"between the last two blocks", 0.55, 0.75},
		// Below the lowest score seen, the curve never raises a score.
		{"below the lowest score", 0, 0},
		{"below the lowest score, under its rate", 0.05, 0.05},
		{"above the highest score", 0.9, 1},
	}
	for _, c := range cases {
		if got := oldCurve.Apply(c.score); !near(got, c.want) {
			t.Errorf("%s: Apply(%v) = %v, want %v", c.name, c.score, got, c.want)
		}
	}
}

// five is the hand-worked ECE set.
var five = samples([]float64{0.05, 0.15, 0.18, 0.72, 0.95}, 1, 0, 1, 1, 0)

func TestECEByHand(t *testing.T) {
	// Ten bins, raw scores:
	//   bin 0 [0.0, 0.1): 0.05 right        |0.05  - 1  | * 1/5 = 0.19
	//   bin 1 [0.1, 0.2): 0.15 wrong, 0.18 right
	//                     mean 0.165, acc 0.5 |0.165 - 0.5| * 2/5 = 0.134
	//   bin 7 [0.7, 0.8): 0.72 right        |0.72  - 1  | * 1/5 = 0.056
	//   bin 9 [0.9, 1.0]: 0.95 wrong        |0.95  - 0  | * 1/5 = 0.19
	//   ECE = 0.19 + 0.134 + 0.056 + 0.19 = 0.57
	if got := calibration.ECE(five, 10, nil); !near(got, 0.57) {
		t.Errorf("ECE of raw scores = %v, want 0.57", got)
	}
	identity := func(s float64) float64 { return s }
	if got := calibration.ECE(five, 10, identity); !near(got, 0.57) {
		t.Errorf("ECE with the identity = %v, want 0.57", got)
	}

	// Predicting 0.5 for everything puts all five in bin 5: 3 of 5 right,
	// so ECE = |0.5 - 0.6| = 0.1. Bins go by prediction, not by raw score.
	half := func(float64) float64 { return 0.5 }
	if got := calibration.ECE(five, 10, half); !near(got, 0.1) {
		t.Errorf("ECE predicting 0.5 = %v, want 0.1", got)
	}

	if got := calibration.ECE(nil, 10, nil); got != 0 {
		t.Errorf("ECE of no samples = %v, want 0", got)
	}
}

func TestReliabilityTable(t *testing.T) {
	table := calibration.Reliability(five, 10, nil)
	if len(table) != 10 {
		t.Fatalf("%d bins, want 10", len(table))
	}
	b := table[1]
	if !near(b.Lo, 0.1) || !near(b.Hi, 0.2) || b.Count != 2 || !near(b.Predicted, 0.165) || b.Accuracy != 0.5 {
		t.Errorf("bin 1 = %+v, want [0.1, 0.2) with 2 samples, predicted 0.165, accuracy 0.5", b)
	}
	if e := table[4]; e.Count != 0 || e.Predicted != 0 || e.Accuracy != 0 {
		t.Errorf("empty bin 4 = %+v, want zero figures", e)
	}
	if table[0].Lo != 0 || table[9].Hi != 1 {
		t.Errorf("bins span [%v, %v], want [0, 1]", table[0].Lo, table[9].Hi)
	}

	// Each score lands in the bin whose printed bounds hold it.
	// 0.8999999999999999 is the float just below 0.9; times 10 it rounds
	// to 9, yet it belongs in [0.8, 0.9).
	cases := []struct {
		score float64
		bin   int
	}{
		{-0.2, 0}, {0, 0}, {0.3, 3}, {math.Nextafter(0.9, 0), 8}, {0.9, 9}, {1, 9}, {1.5, 9},
	}
	for _, c := range cases {
		table := calibration.Reliability([]calibration.Sample{{Score: c.score}}, 10, nil)
		if table[c.bin].Count != 1 {
			t.Errorf("score %v: not in bin %d: %+v", c.score, c.bin, table)
		}
	}
}

func TestAUCWithTies(t *testing.T) {
	// Right: 0.9, 0.5, 0.5; wrong: 0.5, 0.1. Of the 3×2 pairs, 0.9 beats
	// both wrong ones (2), each right 0.5 ties the wrong 0.5 (½ each) and
	// beats 0.1 (1 each): (2 + 2×½ + 2×1)/6 = 5/6. By ranks: sorted 0.1,
	// then three 0.5s sharing rank (2+3+4)/3 = 3, then 0.9 at 5; the right
	// ones' ranks add to 3+3+5 = 11, and (11 − 3·4/2)/(3·2) = 5/6.
	s := samples([]float64{0.5, 0.9, 0.1, 0.5, 0.5}, 1, 1, 0, 0, 1)
	if got, ok := calibration.AUC(s); !ok || !near(got, 5.0/6) {
		t.Errorf("AUC = %v (%v), want 5/6", got, ok)
	}
	// Every score tied: no ranking at all, ½.
	if got, ok := calibration.AUC(samples([]float64{0.7, 0.7, 0.7}, 1, 0, 1)); !ok || got != 0.5 {
		t.Errorf("AUC of ties = %v (%v), want 0.5", got, ok)
	}
	// Ranked backwards: 0.
	if got, ok := calibration.AUC(samples([]float64{0.2, 0.8}, 1, 0)); !ok || got != 0 {
		t.Errorf("AUC backwards = %v (%v), want 0", got, ok)
	}
	// All right (or none): undefined.
	if _, ok := calibration.AUC(samples([]float64{0.2, 0.8}, 1, 1)); ok {
		t.Error("AUC of outcomes all alike is defined")
	}
}

func TestBrierByHand(t *testing.T) {
	// (0.05−1)² + (0.15−0)² + (0.18−1)² + (0.72−1)² + (0.95−0)²
	// = 0.9025 + 0.0225 + 0.6724 + 0.0784 + 0.9025 = 2.5783, over 5.
	if got := calibration.Brier(five); !near(got, 2.5783/5) {
		t.Errorf("Brier = %v, want 0.51566", got)
	}
	if got := calibration.Brier(nil); got != 0 {
		t.Errorf("Brier of nothing = %v", got)
	}
}
