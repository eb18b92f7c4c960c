package quality

import (
	"fmt"
	"math"
)

// ConfidenceSequence is the anytime-valid method: a confidence sequence
// from a beta-binomial mixture martingale. The supervisor looks at its
// bound after every audit, and the level holds over all those looks at
// once: with probability at least Level the true rate lies between the
// bounds at every audit, however long the supervisor runs. Wilson and
// Clopper-Pearson hold their level at one look only; checked after every
// audit, a rate above the budget will sooner or later look within it by
// chance.
const ConfidenceSequence = "confidence-sequence"

// Prior is the beta prior Beta(A, B) over the escaped-error rate that the
// confidence sequence mixes over. It is fixed before any audit is seen (it
// depends on the error budget only), as the guarantee requires.
type Prior struct {
	A float64 `json:"a"`
	B float64 `json:"b"`
}

// SequencePrior is the prior of the confidence sequence that supervises
// budget: Beta(1, 1/budget - 1), whose mean is the budget.
//
// The prior sets where the sequence is tight, not whether it is valid: any
// prior fixed in advance keeps the level. The mixture is large, and so
// excludes a rate p0 early, when the prior puts weight on rates that
// explain the audits better than p0 does. The supervisor only ever asks
// about rates near its budget: is the rate below it (the upper bound, to
// show a policy meets the budget), or above it (the lower bound, to refute a
// certificate)? So the prior's mass sits on the scale of the budget. With a
// = 1 the density is flat at 0, so a clean record counts fully, and falls
// off like exp(-p/budget) beyond the budget. Compared at a 1% budget and
// 95%: a clean record shows the budget met after 473 audits (uniform
// Beta(1,1): 984; Jeffreys: 680; Clopper-Pearson at one look: 299), and a
// rate twice the budget is refuted after about 1,230 audits (mean budget/4,
// the tightest for clean records with 363: 2,375). Mass further below the
// budget shows clean records sooner but refutes later, and the reverse.
func SequencePrior(budget float64) Prior {
	return Prior{A: 1, B: 1/budget - 1}
}

// SequenceBounds are the lower and upper ends of the confidence sequence
// at level after escaped errors in n audits, under prior: the rates p0 at
// which the mixture likelihood ratio
//
//	M_n(p0) = ∫ p^k (1-p)^(n-k) dBeta(p; A, B) / (p0^k (1-p0)^(n-k))
//	        = B(A+k, B+n-k) / B(A, B) / (p0^k (1-p0)^(n-k))
//
// reaches 1/(1-level). Under the true rate p, M_n(p) is a nonnegative
// martingale with mean 1, so by Ville's inequality it ever reaches
// 1/(1-level) with probability at most 1-level: the true rate stays
// strictly between the bounds at every n at once with probability at least
// level. log M_n is convex in p0 with its minimum (at most 0) at k/n, so
// the rates it keeps form an interval; each end is found by bisection down
// to adjacent floats, on the conservative side. With no audits the bounds
// are 0 and 1.
func SequenceBounds(escaped, n int, level float64, prior Prior) (lower, upper float64, err error) {
	if err := checkLevel(level); err != nil {
		return 0, 0, err
	}
	if err := checkTally(escaped, n); err != nil {
		return 0, 0, err
	}
	if !(prior.A > 0 && prior.B > 0) || math.IsInf(prior.A, 0) || math.IsInf(prior.B, 0) {
		return 0, 0, fmt.Errorf("quality: prior Beta(%g, %g) is not a proper beta distribution", prior.A, prior.B)
	}
	limit := -math.Log1p(-level) // log 1/(1-level)
	mix := logMix(escaped, n, prior)
	logM := func(p0 float64) float64 {
		return mix - xlogy(float64(escaped), p0) - xlogy(float64(n-escaped), 1-p0)
	}
	rate := 0.0
	if n > 0 {
		rate = float64(escaped) / float64(n)
	}
	lower, upper = 0, 1
	if escaped > 0 {
		// Rates near 0 are excluded: keep the highest one still excluded,
		// just below the lowest one inside.
		lower, _ = bisect(0, rate, func(p0 float64) bool { return logM(p0) >= limit })
	}
	if escaped < n {
		// Keep the lowest rate excluded above the rate: just above the
		// highest one inside.
		_, upper = bisect(rate, 1, func(p0 float64) bool { return logM(p0) < limit })
	}
	return lower, upper, nil
}

// LogMixture is log M_n(p0), the log of the mixture likelihood ratio of
// SequenceBounds after escaped errors in n audits: how much better the
// prior's rates explain the audits than p0 does. The confidence sequence at
// level excludes p0 once it reaches log 1/(1-level). It is +Inf at p0 = 0
// with escaped errors and at p0 = 1 with clean audits, and NaN for counts
// that are not a tally or p0 outside [0,1].
func LogMixture(escaped, n int, prior Prior, p0 float64) float64 {
	if checkTally(escaped, n) != nil || !(p0 >= 0 && p0 <= 1) {
		return math.NaN()
	}
	return logMix(escaped, n, prior) - xlogy(float64(escaped), p0) - xlogy(float64(n-escaped), 1-p0)
}

// logMix is log of the prior predictive probability of the sequence,
// B(A+k, B+n-k)/B(A, B).
func logMix(escaped, n int, prior Prior) float64 {
	return logBeta(prior.A+float64(escaped), prior.B+float64(n-escaped)) - logBeta(prior.A, prior.B)
}

// bisect narrows [lo, hi] down to adjacent floats around the point where
// pred, true at lo and false at hi, switches, and returns both ends.
func bisect(lo, hi float64, pred func(float64) bool) (float64, float64) {
	for {
		mid := lo + (hi-lo)/2
		if mid <= lo || mid >= hi {
			return lo, hi
		}
		if pred(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
}

// logBeta is log B(a, b) for a, b > 0.
func logBeta(a, b float64) float64 {
	la, _ := math.Lgamma(a)
	lb, _ := math.Lgamma(b)
	lab, _ := math.Lgamma(a + b)
	return la + lb - lab
}

// xlogy is x·log y, 0 when x is 0 (also for y = 0).
func xlogy(x, y float64) float64 {
	if x == 0 {
		return 0
	}
	return x * math.Log(y)
}

// checkTally refuses counts that are not a tally of escaped errors in n
// audits.
func checkTally(escaped, n int) error {
	if n < 0 || escaped < 0 || escaped > n {
		return fmt.Errorf("quality: %d escaped of %d audits is not a tally", escaped, n)
	}
	return nil
}
