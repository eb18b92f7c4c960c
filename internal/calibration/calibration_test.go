package calibration_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"regexp"
	"slices"
	"strings"
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

func sameCurve(t *testing.T, got, want countersign.Curve) {
	t.Helper()
	if len(got.X) != len(want.X) || len(got.Y) != len(want.Y) {
		t.Fatalf("curve = %v, want %v", got, want)
	}
	for i := range want.X {
		if !near(got.X[i], want.X[i]) || !near(got.Y[i], want.Y[i]) {
			t.Fatalf("curve = %v, want %v", got, want)
		}
	}
}

// violators is the fit of scores 0.1..0.6 with outcomes 1,0,0,1,0,1, worked
// left to right (value = correct/count):
//
//	[0.1: 1/1]                                push
//	[0.1: 1/1] [0.2: 0/1]        1 > 0        pool -> [0.1-0.2: 1/2]
//	[0.1-0.2: 1/2] [0.3: 0/1]    1/2 > 0      pool -> [0.1-0.3: 1/3]
//	[0.1-0.3: 1/3] [0.4: 1/1]    1/3 < 1      keep
//	[0.4: 1/1] [0.5: 0/1]        1 > 0        pool -> [0.4-0.5: 1/2]; 1/3 < 1/2 keep
//	[0.4-0.5: 1/2] [0.6: 1/1]    1/2 < 1      keep
//
// Blocks [0.1-0.3: 1/3] [0.4-0.5: 1/2] [0.6: 1] give five points, the last
// block's two coinciding.
var violators = countersign.Curve{
	X: []float64{0.1, 0.3, 0.4, 0.5, 0.6},
	Y: []float64{1.0 / 3, 1.0 / 3, 0.5, 0.5, 1},
}

func TestIsotonicPoolsViolators(t *testing.T) {
	got := calibration.Isotonic(samples([]float64{0.1, 0.2, 0.3, 0.4, 0.5, 0.6}, 1, 0, 0, 1, 0, 1))
	sameCurve(t, got, violators)

	shuffled := samples([]float64{0.5, 0.1, 0.6, 0.3, 0.2, 0.4}, 0, 1, 1, 0, 0, 1)
	sameCurve(t, calibration.Isotonic(shuffled), violators)

	// 1,0,1,0 pools to [0.1-0.2: 1/2] [0.3-0.4: 1/2]; equal neighbours pool
	// too, into one block and two points rather than four.
	even := calibration.Isotonic(samples([]float64{0.1, 0.2, 0.3, 0.4}, 1, 0, 1, 0))
	sameCurve(t, even, countersign.Curve{X: []float64{0.1, 0.4}, Y: []float64{0.5, 0.5}})
}

func TestIsotonicPoolsTiesByCount(t *testing.T) {
	// The three samples at 0.2 pool first: 2 of 3 correct, weight 3. Then
	// [0.2: 2/3] [0.5: 0/1] violate and pool to 2/4 = 1/2 over [0.2, 0.5];
	// [0.7: 1/1] stays. Were the tie one point of weight 1, the pool would
	// be (2/3 + 0)/2 = 1/3 instead.
	want := countersign.Curve{X: []float64{0.2, 0.5, 0.7}, Y: []float64{0.5, 0.5, 1}}
	for _, order := range [][]int{{1, 0, 1}, {0, 1, 1}, {1, 1, 0}} {
		s := samples([]float64{0.2, 0.2, 0.2, 0.5, 0.7}, order[0], order[1], order[2], 0, 1)
		sameCurve(t, calibration.Isotonic(s), want)
	}

	// All scores equal: one block, one point, so the curve is flat at 1/4.
	one := calibration.Isotonic(samples([]float64{0.4, 0.4, 0.4, 0.4}, 0, 1, 0, 0))
	sameCurve(t, one, countersign.Curve{X: []float64{0.4}, Y: []float64{0.25}})
	if got := one.Apply(0.9); got != 0.25 {
		t.Errorf("Apply(0.9) on a one-point curve = %v, want 0.25", got)
	}
}

func TestIsotonicOfNothingIsTheIdentity(t *testing.T) {
	c := calibration.Isotonic(nil)
	if len(c.X) != 0 || len(c.Y) != 0 {
		t.Fatalf("Isotonic(nil) = %v, want the empty curve", c)
	}
	if got := c.Apply(0.37); got != 0.37 {
		t.Errorf("Apply(0.37) on the empty curve = %v, want 0.37", got)
	}
}

func TestApplyOnAFittedCurve(t *testing.T) {
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
		if got := violators.Apply(c.score); !near(got, c.want) {
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

func TestCrossValidatedECEByHand(t *testing.T) {
	// Two folds of the violators set: fold 0 is samples 0, 2, 4, fold 1 is
	// samples 1, 3, 5.
	//   Fit on fold 1, (0.2:0) (0.4:1) (0.6:1): curve (0.2,0) (0.4,1) (0.6,1).
	//     It predicts 0.1 -> 0 (right), 0.3 -> 0.5 (wrong), 0.5 -> 1 (wrong).
	//   Fit on fold 0, (0.1:1) (0.3:0) (0.5:0): one block of 1/3.
	//     It predicts 1/3 for 0.2 (wrong), 0.4 (right), 0.6 (right).
	//   Bins of the six predictions:
	//     bin 0: 0 right          |0   - 1  | * 1/6 = 1/6
	//     bin 3: 1/3 x3, 2 right  |1/3 - 2/3| * 3/6 = 1/6
	//     bin 5: 0.5 wrong        |0.5 - 0  | * 1/6 = 1/12
	//     bin 9: 1 wrong          |1   - 0  | * 1/6 = 1/6
	//   ECE = 1/6 + 1/6 + 1/12 + 1/6 = 7/12
	s := samples([]float64{0.1, 0.2, 0.3, 0.4, 0.5, 0.6}, 1, 0, 0, 1, 0, 1)
	kept := slices.Clone(s)
	got := calibration.CrossValidatedECE(s, 2, 10)
	if !near(got, 7.0/12) {
		t.Errorf("2-fold ECE = %v, want 7/12", got)
	}
	if again := calibration.CrossValidatedECE(s, 2, 10); again != got {
		t.Errorf("second run = %v, first %v", again, got)
	}
	if !slices.Equal(s, kept) {
		t.Errorf("CrossValidatedECE reordered its input: %v", s)
	}

	// Three samples, five folds: each sample is its own fold (leave-one-out).
	//   0.2 wrong: fit on (0.5:1) (0.8:1); 0.2 is below what the
	//              curve has seen, so it keeps its score   -> predicts 0.2
	//   0.5 right: fit on (0.2:0) (0.8:1), (0.2,0) (0.8,1) -> predicts 0.5
	//   0.8 right: fit on (0.2:0) (0.5:1), (0.2,0) (0.5,1) -> predicts 1
	//   bin 2: 0.2 wrong           |0.2 - 0| * 1/3 = 1/15
	//   bin 5: 0.5 right           |0.5 - 1| * 1/3 = 1/6
	//   bin 9: 1 right             |1   - 1| * 1/3 = 0
	//   ECE = 1/15 + 1/6 = 7/30
	loo := samples([]float64{0.2, 0.5, 0.8}, 0, 1, 1)
	if got := calibration.CrossValidatedECE(loo, 5, 10); !near(got, 7.0/30) {
		t.Errorf("leave-one-out ECE = %v, want 7/30", got)
	}
}

func TestIsotonicProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for trial := range 300 {
		n := 1 + rng.IntN(80)
		s := make([]calibration.Sample, n)
		correct := 0
		for i := range s {
			// Two decimals, so that scores tie often.
			score := math.Round(rng.Float64()*100) / 100
			s[i] = calibration.Sample{Score: score, Correct: rng.Float64() < score}
			if s[i].Correct {
				correct++
			}
		}
		c := calibration.Isotonic(s)

		if len(c.X) != len(c.Y) || len(c.X) == 0 {
			t.Fatalf("trial %d: curve %v", trial, c)
		}
		for i := 1; i < len(c.X); i++ {
			if c.X[i] <= c.X[i-1] || c.Y[i] < c.Y[i-1] {
				t.Fatalf("trial %d: curve not increasing at %d: %v", trial, i, c)
			}
		}
		if c.Y[0] < 0 || c.Y[len(c.Y)-1] > 1 {
			t.Fatalf("trial %d: curve leaves [0, 1]: %v", trial, c)
		}

		// The fit is the least-squares non-decreasing function, and both the
		// identity and the constant accuracy are non-decreasing, so neither
		// fits better. Pooling keeps sums: the fitted values add up to the
		// count of correct samples, bin by bin as well, so the in-sample
		// ECE is 0.
		accuracy := float64(correct) / float64(n)
		var fitted, raw, constant, sum float64
		for _, x := range s {
			y := 0.0
			if x.Correct {
				y = 1
			}
			p := c.Apply(x.Score)
			fitted += (p - y) * (p - y)
			raw += (x.Score - y) * (x.Score - y)
			constant += (accuracy - y) * (accuracy - y)
			sum += p
		}
		if fitted > raw+1e-9 || fitted > constant+1e-9 {
			t.Errorf("trial %d: squared error %v, identity %v, constant %v", trial, fitted, raw, constant)
		}
		if math.Abs(sum-float64(correct)) > 1e-9 {
			t.Errorf("trial %d: fitted values add to %v, want %d", trial, sum, correct)
		}
		if e := calibration.ECE(s, 10, c.Apply); e > 1e-9 {
			t.Errorf("trial %d: in-sample ECE %v, want 0", trial, e)
		}
	}
}

func TestFitOnPooledCurveByHand(t *testing.T) {
	// Two fields too small for curves of their own. Pooled in name order,
	// a then b, the samples are
	//   i: 0       1       2       3       4       5
	//      0.1:1   0.3:0   0.5:0   0.2:0   0.4:1   0.6:1
	// and sorted they are the violators set, so the pooled curve is too.
	// Five folds by i % 5: {0, 5}, {1}, {2}, {3}, {4}. Fitting on the rest:
	//   fold {0,5}: (0.2:0)(0.3:0)(0.4:1)(0.5:0) -> [0.2-0.3: 0] [0.4-0.5: 1/2]
	//               0.1 -> 0, 0.6 -> 0.5
	//   fold {1}:   (0.1:1)(0.2:0)(0.4:1)(0.5:0)(0.6:1) -> [0.1-0.5: 2/4] [0.6: 1]
	//               0.3 -> 0.5
	//   fold {2}:   (0.1:1)(0.2:0)(0.3:0)(0.4:1)(0.6:1) -> [0.1-0.3: 1/3] [0.4-0.6: 1]
	//               0.5 -> 1
	//   fold {3}:   (0.1:1)(0.3:0)(0.4:1)(0.5:0)(0.6:1) -> [0.1-0.5: 2/4] [0.6: 1]
	//               0.2 -> 0.5
	//   fold {4}:   (0.1:1)(0.2:0)(0.3:0)(0.5:0)(0.6:1) -> [0.1-0.5: 1/4] [0.6: 1]
	//               0.4 -> 0.25
	// Field a, predictions 0 (right), 0.5 (wrong), 1 (wrong), one per bin:
	//   after  = (1 + 0.5 + 1)/3 = 5/6
	//   before = (|0.1-1| + |0.3-0| + |0.5-0|)/3 = 1.7/3
	// Field b, predictions 0.5 (wrong), 0.25 (right), 0.5 (right):
	//   after  = bin 5: |0.5 - 1/2| * 2/3 = 0; bin 2: |0.25 - 1| * 1/3 = 1/4
	//   before = (|0.2-0| + |0.4-1| + |0.6-1|)/3 = 1.2/3
	// Pooled, the six predictions:
	//   after  = (bin 0: 1 + bin 2: 0.75 + bin 5: 3*|0.5 - 1/3| + bin 9: 1)/6 = 3.25/6
	//   before = (0.9 + 0.2 + 0.3 + 0.6 + 0.5 + 0.4)/6 = 2.9/6
	cal, err := calibration.Fit("letters", map[string][]calibration.Sample{
		"b": samples([]float64{0.2, 0.4, 0.6}, 0, 1, 1),
		"a": samples([]float64{0.1, 0.3, 0.5}, 1, 0, 0),
	})
	if err != nil {
		t.Fatal(err)
	}
	if cal.TaskType != "letters" || len(cal.Fields) != 0 {
		t.Errorf("task type %q, own curves %v; want letters and none", cal.TaskType, cal.Fields)
	}
	sameCurve(t, cal.Pooled, violators)
	sameCurve(t, cal.Curve("a"), violators)

	want := []countersign.FieldReliability{
		{Field: "a", Samples: 3, Accuracy: 1.0 / 3, ECEBefore: 1.7 / 3, ECEAfter: 5.0 / 6},
		{Field: "b", Samples: 3, Accuracy: 2.0 / 3, ECEBefore: 1.2 / 3, ECEAfter: 0.25},
	}
	if len(cal.Report.Fields) != len(want) {
		t.Fatalf("report fields = %+v", cal.Report.Fields)
	}
	for i, w := range want {
		sameFigures(t, cal.Report.Fields[i], w)
	}
	sameFigures(t, cal.Report.Pooled, countersign.FieldReliability{Samples: 6, Accuracy: 0.5, ECEBefore: 2.9 / 6, ECEAfter: 3.25 / 6})
}

func sameFigures(t *testing.T, got, want countersign.FieldReliability) {
	t.Helper()
	if got.Field != want.Field || got.Samples != want.Samples || got.Own != want.Own ||
		!near(got.Accuracy, want.Accuracy) || !near(got.ECEBefore, want.ECEBefore) || !near(got.ECEAfter, want.ECEAfter) {
		t.Errorf("figures = %+v, want %+v", got, want)
	}
}

// synthetic draws n samples with uniform scores, each correct with
// probability truth(score).
func synthetic(rng *rand.Rand, n int, truth func(float64) float64) []calibration.Sample {
	s := make([]calibration.Sample, n)
	for i := range s {
		score := rng.Float64()
		s[i] = calibration.Sample{Score: score, Correct: rng.Float64() < truth(score)}
	}
	return s
}

func fieldSet(seed uint64) map[string][]calibration.Sample {
	rng := rand.New(rand.NewPCG(seed, 1))
	square := func(s float64) float64 { return s * s }
	sure := func(float64) float64 { return 1 }
	return map[string][]calibration.Sample{
		"total":  synthetic(rng, 200, square),
		"note":   synthetic(rng, calibration.MinFieldSamples-1, square),
		"always": synthetic(rng, 40, sure),
	}
}

func TestFitChoosesOwnOrPooledCurves(t *testing.T) {
	data := fieldSet(3)
	cal, err := calibration.Fit("invoices", data)
	if err != nil {
		t.Fatal(err)
	}

	// total has 200 outcomes of both kinds; note has one too few; always
	// has enough but was never wrong.
	if !reflect.DeepEqual(cal.Curve("total"), calibration.Isotonic(data["total"])) {
		t.Errorf("total: curve %v, want its own fit", cal.Curve("total"))
	}
	for _, name := range []string{"note", "always"} {
		if _, own := cal.Fields[name]; own {
			t.Errorf("%s got a curve of its own", name)
		}
		if !reflect.DeepEqual(cal.Curve(name), cal.Pooled) {
			t.Errorf("%s: curve %v, want the pooled one", name, cal.Curve(name))
		}
	}
	var pooled []calibration.Sample
	for _, name := range []string{"always", "note", "total"} {
		pooled = append(pooled, data[name]...)
	}
	if !reflect.DeepEqual(cal.Pooled, calibration.Isotonic(pooled)) {
		t.Errorf("pooled curve is not the fit of every sample")
	}

	var names []string
	for _, r := range cal.Report.Fields {
		names = append(names, r.Field)
		if r.Own != (r.Field == "total") || r.Samples != len(data[r.Field]) {
			t.Errorf("%s: own %v, %d samples", r.Field, r.Own, r.Samples)
		}
	}
	if !slices.Equal(names, []string{"always", "note", "total"}) {
		t.Errorf("report fields %v, want always, note, total", names)
	}
	total := cal.Report.Fields[2]
	if want := calibration.CrossValidatedECE(data["total"], calibration.Folds, calibration.Bins); total.ECEAfter != want {
		t.Errorf("total: ECE after %v, want its own cross-validated %v", total.ECEAfter, want)
	}
	if a := cal.Report.Fields[0]; a.Accuracy != 1 {
		t.Errorf("always: accuracy %v, want 1", a.Accuracy)
	}
	if p := cal.Report.Pooled; p.Samples != len(pooled) || p.Own {
		t.Errorf("pooled figures %+v", p)
	}
}

func TestFitVersion(t *testing.T) {
	first, err := calibration.Fit("invoices", fieldSet(3))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{12}$`).MatchString(first.Version) {
		t.Fatalf("version %q, want 12 hex digits", first.Version)
	}
	for range 5 {
		again, err := calibration.Fit("invoices", fieldSet(3))
		if err != nil {
			t.Fatal(err)
		}
		if again.Version != first.Version {
			t.Fatalf("version %s, then %s for the same outcomes", first.Version, again.Version)
		}
	}

	// One reviewer decision the other way changes the pooled curve, whose
	// values always add up to the count of correct samples.
	changed := fieldSet(3)
	changed["note"][0].Correct = !changed["note"][0].Correct
	other, err := calibration.Fit("invoices", changed)
	if err != nil {
		t.Fatal(err)
	}
	if other.Version == first.Version {
		t.Errorf("version %s unchanged after an outcome changed", other.Version)
	}
}

func TestFitRefusesWhatItCannotFit(t *testing.T) {
	cases := []struct {
		name    string
		samples map[string][]calibration.Sample
		want    string
	}{
		{"no fields", nil, "calibrate receipts: no outcomes"},
		{"empty fields", map[string][]calibration.Sample{"total": {}}, "calibrate receipts: no outcomes"},
		{"NaN score", map[string][]calibration.Sample{"total": {{Score: 0.5}, {Score: math.NaN()}}}, "field total, outcome 1"},
		{"infinite score", map[string][]calibration.Sample{"total": {{Score: math.Inf(1)}}}, "field total, outcome 0"},
	}
	for _, c := range cases {
		_, err := calibration.Fit("receipts", c.samples)
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, countersign.ErrInvalid) {
			t.Errorf("%s: error %v, want an invalid error containing %q", c.name, err, c.want)
		}
	}
}

func TestFitCorrectsOverconfidentScores(t *testing.T) {
	// Scores uniform on [0, 1] but right with probability score^2: a score
	// overstates its chance by score - score^2, 1/6 on average. The
	// isotonic curve learns score^2, so held-out ECE falls to sampling
	// noise (about 0.16 before, 0.02 after with this seed).
	rng := rand.New(rand.NewPCG(42, 42))
	data := map[string][]calibration.Sample{"amount": synthetic(rng, 4000, func(s float64) float64 { return s * s })}
	cal, err := calibration.Fit("invoices", data)
	if err != nil {
		t.Fatal(err)
	}
	r := cal.Report.Fields[0]
	t.Logf("ECE before %.4f, after %.4f", r.ECEBefore, r.ECEAfter)
	if !r.Own || r.ECEBefore < 0.12 || r.ECEAfter > 0.05 || r.ECEAfter > r.ECEBefore/3 {
		t.Errorf("amount: %+v, want own curve, ECE before > 0.12 and after < 0.05", r)
	}
	for _, s := range []float64{0.2, 0.5, 0.9} {
		if got := cal.Curve("amount").Apply(s); math.Abs(got-s*s) > 0.1 {
			t.Errorf("calibrated %v = %v, want about %v", s, got, s*s)
		}
	}
}
