package calibration_test

import (
	"math"
	"testing"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/calibration"
)

// binary turns outcomes into Logistic's targets.
func binary(outcomes ...int) []float64 {
	y := make([]float64, len(outcomes))
	for i, o := range outcomes {
		y[i] = float64(o)
	}
	return y
}

func TestLogisticOnOneBinaryFeatureIsTheLogOdds(t *testing.T) {
	// With one 0/1 feature and no penalty, the maximum-likelihood fit
	// reproduces each group's rate: 1 of 4 right at x = 0, 6 of 8 at x = 1,
	// so β₀ = logit(1/4) = −ln 3 and β₀+β₁ = logit(3/4) = ln 3: β₁ = 2·ln 3.
	var x [][]float64
	var y []float64
	for i := range 4 {
		x, y = append(x, []float64{0}), append(y, float64(min(1, max(0, i-2)))) // 0,0,0,1
	}
	for i := range 8 {
		x, y = append(x, []float64{1}), append(y, float64(min(1, i/2))) // 0,0,1,…,1
	}
	beta, err := calibration.Logistic(x, y, nil, nil, []float64{0, 0})
	if err != nil {
		t.Fatal(err)
	}
	if want := []float64{-math.Log(3), 2 * math.Log(3)}; math.Abs(beta[0]-want[0]) > 1e-9 || math.Abs(beta[1]-want[1]) > 1e-9 {
		t.Errorf("β = %v, want %v", beta, want)
	}
	// Weights count rows: the four x = 0 rows as two of weight 2 fit the same.
	w := []float64{2, 2}
	xw := [][]float64{{0}, {0}}
	yw := []float64{0, 0.5}
	for i := range 8 {
		xw, yw, w = append(xw, x[4+i]), append(yw, y[4+i]), append(w, 1)
	}
	beta, err = calibration.Logistic(xw, yw, w, nil, []float64{0, 0})
	if err != nil || math.Abs(beta[0]+math.Log(3)) > 1e-9 || math.Abs(beta[1]-2*math.Log(3)) > 1e-9 {
		t.Errorf("weighted: β = %v, %v; want −ln 3, 2·ln 3", beta, err)
	}
}

func TestLogisticChallenger(t *testing.T) {
	// The 23 Space Shuttle launches before Challenger: launch temperature
	// (°F) and whether an O-ring was damaged. The maximum-likelihood fit is
	// the textbook logit(p) = 15.0429 − 0.2322·t (Dalal, Fowlkes and
	// Hoadley 1989; e.g. Agresti, Categorical Data Analysis, ch. 5).
	temp := []float64{66, 70, 69, 68, 67, 72, 73, 70, 57, 63, 70, 78, 67, 53, 67, 75, 70, 81, 76, 79, 75, 76, 58}
	y := binary(0, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 1)
	x := make([][]float64, len(temp))
	for i, v := range temp {
		x[i] = []float64{v}
	}
	beta, err := calibration.Logistic(x, y, nil, nil, []float64{0, 0})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(beta[0]-15.0429) > 5e-4 || math.Abs(beta[1]+0.2322) > 5e-5 {
		t.Errorf("β = %v, want 15.0429, −0.2322", beta)
	}
}

func TestLogisticPenaltyKeepsSeparableDataFinite(t *testing.T) {
	// x = −1 always wrong, x = 1 always right: without a penalty the slope
	// grows without end. With λ = 1 on the slope and none on the intercept,
	// the symmetry makes β₀ = 0 and the gradient 4·(1 − σ(β₁)) − λ·β₁ = 0,
	// whose root bisection finds independently (about 1.62).
	x := [][]float64{{-1}, {-1}, {1}, {1}}
	y := binary(0, 0, 1, 1)
	beta, err := calibration.Logistic(x, y, nil, nil, []float64{0, 1})
	if err != nil {
		t.Fatal(err)
	}
	lo, hi := 0.0, 10.0
	for range 200 {
		mid := (lo + hi) / 2
		if 4*(1-countersign.Sigmoid(mid))-mid > 0 {
			lo = mid
		} else {
			hi = mid
		}
	}
	if math.Abs(beta[0]) > 1e-9 || math.Abs(beta[1]-lo) > 1e-9 {
		t.Errorf("β = %v, want 0 and %v", beta, lo)
	}

	// A penalty toward a prior pulls there instead: with nothing but the
	// penalty on a coefficient (its feature is always 0), it is the prior.
	x = [][]float64{{-1, 0}, {-1, 0}, {1, 0}, {1, 0}}
	beta, err = calibration.Logistic(x, y, nil, []float64{0, 0, 0.75}, []float64{0, 1, 10})
	if err != nil || math.Abs(beta[1]-lo) > 1e-9 || math.Abs(beta[2]-0.75) > 1e-12 {
		t.Errorf("β = %v, %v; want the slope %v and the prior 0.75", beta, err, lo)
	}

	// Without a penalty, separable data have no finite fit.
	if beta, err := calibration.Logistic([][]float64{{-1}, {-1}, {1}, {1}}, y, nil, nil, []float64{0, 0}); err == nil && math.Abs(beta[1]) < 15 {
		t.Errorf("unpenalized fit of separable data = %v, want it to diverge", beta)
	}
}

func TestPlattByHand(t *testing.T) {
	// Platt's targets: with N₊ = 3 right and N₋ = 2 wrong, a right
	// outcome's target is 4/5 and a wrong one's 1/4. Scores 0 (the wrong
	// ones) and 1 (the right ones) separate them, and the fit reproduces
	// each group's target: B = logit(1/4) = −ln 3, A + B = logit(4/5) = ln 4.
	p, err := calibration.FitPlatt([]float64{0, 0, 1, 1, 1}, []bool{false, false, true, true, true})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(p.B+math.Log(3)) > 1e-9 || math.Abs(p.A-math.Log(4)-math.Log(3)) > 1e-9 {
		t.Errorf("Platt = %+v, want A = ln 12, B = −ln 3", p)
	}
	if got := p.Apply(1); math.Abs(got-0.8) > 1e-9 {
		t.Errorf("Apply(1) = %v, want 4/5: 3 right outcomes do not make certainty", got)
	}

	// Mixed groups: at 0, 1 right of 2; at 1, 2 right of 3 (N₊ = 3,
	// N₋ = 2 again). The fit matches each group's mean target:
	// at 0 (4/5 + 1/4)/2 = 21/40, at 1 (2·4/5 + 1/4)/3 = 37/60.
	p, err = calibration.FitPlatt([]float64{0, 0, 1, 1, 1}, []bool{true, false, true, true, false})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(p.Apply(0)-21.0/40) > 1e-9 || math.Abs(p.Apply(1)-37.0/60) > 1e-9 {
		t.Errorf("Platt = %+v: %v at 0, %v at 1; want 21/40 and 37/60", p, p.Apply(0), p.Apply(1))
	}

	// All outcomes right and all scores equal: a flat map at (N₊+1)/(N₊+2).
	p, err = calibration.FitPlatt([]float64{2, 2, 2}, []bool{true, true, true})
	if err != nil || p.A != 0 || math.Abs(p.Apply(2)-0.8) > 1e-12 {
		t.Errorf("Platt of three right at one score = %+v, %v; want flat at 4/5", p, err)
	}
}
