package calibration

import (
	"fmt"
	"math"

	"github.com/countersign/countersign"
)

// Logistic fits a logistic regression of y on the rows of x by Newton's
// method (iteratively reweighted least squares), with an L2 penalty toward a
// prior: it minimizes
//
//	−Σᵢ wᵢ·[yᵢ·log pᵢ + (1−yᵢ)·log(1−pᵢ)] + ½·Σⱼ λⱼ·(βⱼ − priorⱼ)²,   pᵢ = σ(β₀ + Σⱼ βⱼ·xᵢⱼ)
//
// β has one coefficient more than a row, the intercept first; penalty and
// prior are per coefficient in the same order (a nil prior is all zeros).
// y holds targets in [0, 1] (1 correct, 0 wrong; Platt's smoothed targets
// in between) and w the rows' weights, nil for 1 each. With every penalty
// above 0 the objective is strictly convex and the fit finite even on
// separable data; with some at 0 it fails when the data do not pin those
// coefficients down (all outcomes alike, or separable along them).
func Logistic(x [][]float64, y, w, prior, penalty []float64) ([]float64, error) {
	k := len(penalty)
	if prior == nil {
		prior = make([]float64, k)
	}
	if len(prior) != k || len(y) != len(x) || w != nil && len(w) != len(x) {
		return nil, fmt.Errorf("logistic: %d rows, %d targets, %d weights, %d penalties, %d prior", len(x), len(y), len(w), k, len(prior))
	}
	for i, row := range x {
		if len(row)+1 != k {
			return nil, fmt.Errorf("logistic: row %d has %d features, want %d", i, len(row), k-1)
		}
	}
	weight := func(i int) float64 {
		if w == nil {
			return 1
		}
		return w[i]
	}
	objective := func(beta []float64) float64 {
		var f float64
		for i, row := range x {
			z := dot(beta, row)
			// −log σ(z) = log(1+e^(−z)), −log(1−σ(z)) = log(1+e^z)
			f += weight(i) * (y[i]*softplus(-z) + (1-y[i])*softplus(z))
		}
		for j := range beta {
			d := beta[j] - prior[j]
			f += penalty[j] * d * d / 2
		}
		return f
	}

	beta := append([]float64(nil), prior...)
	f := objective(beta)
	for range maxNewtonSteps {
		grad := make([]float64, k)
		hess := make([][]float64, k)
		for j := range hess {
			hess[j] = make([]float64, k)
			hess[j][j] = penalty[j]
			grad[j] = penalty[j] * (beta[j] - prior[j])
		}
		for i, row := range x {
			p := countersign.Sigmoid(dot(beta, row))
			r, v := weight(i)*(p-y[i]), weight(i)*p*(1-p)
			for a := range k {
				xa := feature(row, a)
				grad[a] += r * xa
				for b := range a + 1 {
					hess[a][b] += v * xa * feature(row, b)
				}
			}
		}
		for a := range k {
			for b := range a {
				hess[b][a] = hess[a][b]
			}
		}
		step, err := solve(hess, grad)
		if err != nil {
			return nil, fmt.Errorf("logistic: %w", err)
		}
		// Newton's step, halved until it lowers the objective: the full
		// step can overshoot far from the optimum.
		t, next, fNext := 1.0, make([]float64, k), math.Inf(1)
		for range 60 {
			for j := range beta {
				next[j] = beta[j] - t*step[j]
			}
			if fNext = objective(next); fNext <= f {
				break
			}
			t /= 2
		}
		if !(fNext <= f) {
			break // no step lowers it any more: at the optimum, to rounding
		}
		moved := 0.0
		for j := range beta {
			moved = max(moved, math.Abs(next[j]-beta[j]))
		}
		copy(beta, next)
		f = fNext
		if moved < 1e-10 {
			return beta, nil
		}
	}
	for _, b := range beta {
		if math.IsNaN(b) || math.Abs(b) > 1e6 {
			return nil, fmt.Errorf("logistic: coefficients diverge (%v): the outcomes do not pin them down", beta)
		}
	}
	return beta, nil
}

// maxNewtonSteps bounds Newton's method, which converges in a handful of
// steps on these problems (the objective is smooth and convex).
const maxNewtonSteps = 200

// feature is the a-th input of a row, the intercept's 1 first.
func feature(row []float64, a int) float64 {
	if a == 0 {
		return 1
	}
	return row[a-1]
}

// dot is β₀ + Σ βⱼ·rowⱼ.
func dot(beta, row []float64) float64 {
	z := beta[0]
	for j, v := range row {
		z += beta[j+1] * v
	}
	return z
}

// softplus is log(1+e^z) without overflow.
func softplus(z float64) float64 {
	if z > 0 {
		return z + math.Log1p(math.Exp(-z))
	}
	return math.Log1p(math.Exp(z))
}

// solve solves a·s = b for a symmetric positive definite a, by Cholesky
// decomposition.
func solve(a [][]float64, b []float64) ([]float64, error) {
	n := len(b)
	l := make([][]float64, n)
	for i := range l {
		l[i] = make([]float64, n)
		for j := range i + 1 {
			sum := a[i][j]
			for k := range j {
				sum -= l[i][k] * l[j][k]
			}
			if i == j {
				if !(sum > 0) {
					return nil, fmt.Errorf("the outcomes do not determine coefficient %d (no penalty and no variation)", i)
				}
				l[i][i] = math.Sqrt(sum)
			} else {
				l[i][j] = sum / l[j][j]
			}
		}
	}
	s := make([]float64, n)
	for i := range n { // L·u = b
		sum := b[i]
		for k := range i {
			sum -= l[i][k] * s[k]
		}
		s[i] = sum / l[i][i]
	}
	for i := n - 1; i >= 0; i-- { // Lᵀ·s = u
		sum := s[i]
		for k := i + 1; k < n; k++ {
			sum -= l[k][i] * s[k]
		}
		s[i] = sum / l[i][i]
	}
	return s, nil
}

// FitPlatt fits the Platt map from scores to outcomes: the logistic
// regression of the outcome on the score, with Platt's smoothed targets
// (N₊+1)/(N₊+2) for a correct outcome and 1/(N₋+2) for a wrong one, so the
// map is finite even when the scores separate the outcomes or the outcomes
// are all alike, and never promises what so few outcomes cannot show
// (Platt 1999; Lin, Lin and Weng 2007).
func FitPlatt(scores []float64, correct []bool) (countersign.Platt, error) {
	var pos, neg float64
	constant := true
	for i, c := range correct {
		constant = constant && scores[i] == scores[0]
		if c {
			pos++
		} else {
			neg++
		}
	}
	x := make([][]float64, len(scores))
	y := make([]float64, len(scores))
	for i, s := range scores {
		x[i] = []float64{s}
		y[i] = 1 / (neg + 2)
		if correct[i] {
			y[i] = (pos + 1) / (pos + 2)
		}
	}
	if constant { // nothing to learn a slope from: the smoothed rate
		return countersign.Platt{B: countersign.Logit((pos + 1) / (pos + neg + 2))}, nil
	}
	beta, err := Logistic(x, y, nil, nil, []float64{0, 0})
	if err != nil {
		return countersign.Platt{}, fmt.Errorf("platt: %w", err)
	}
	return countersign.Platt{A: beta[1], B: beta[0]}, nil
}
