package quality

import (
	"fmt"
	"math"
)

// Methods of Bounds, as a task type's supervision names them; they equal
// countersign.BoundWilson, countersign.BoundClopperPearson and
// countersign.BoundConfidenceSequence (ConfidenceSequence, in sequence.go).
const (
	// Wilson is the Wilson score bound: close to the nominal level on
	// average, cheap, and smaller than Clopper-Pearson, so it needs fewer
	// audits; with few audits it can be slightly optimistic.
	Wilson = "wilson"
	// ClopperPearson is the exact binomial bound: never below the nominal
	// level, so a budget it declares met is met with at least that
	// confidence, at the price of more audits.
	ClopperPearson = "clopper-pearson"
)

// maxAudits caps MinAudits: beyond 2^53 audits a count no longer converts
// exactly to float64 (and beyond MaxInt it does not fit), and no budget that
// needs so many can be supervised.
const maxAudits = min(1<<53, math.MaxInt)

// UpperBound is the one-sided upper confidence bound, at level (such as
// 0.95), of the escaped-error rate of a task type whose audits found escaped
// errors in n audited documents: with that confidence the true share of
// auto-accepted documents an audit would correct is at most the bound. With
// no audits nothing is known and the bound is 1. It is an error when method
// is neither Wilson nor ClopperPearson (the confidence sequence's bound
// depends on the budget: see Bounds), level is outside (0,1), or the counts
// are negative or escaped exceeds n.
func UpperBound(method string, escaped, n int, level float64) (float64, error) {
	if method == ConfidenceSequence {
		return 0, fmt.Errorf("quality: the bound of %s depends on the error budget (its prior): use Bounds", method)
	}
	if err := checkMethod(method); err != nil {
		return 0, err
	}
	if err := checkLevel(level); err != nil {
		return 0, err
	}
	if err := checkTally(escaped, n); err != nil {
		return 0, err
	}
	if n == 0 || escaped == n {
		// With every audit escaped both formulas give 1, Wilson's only up
		// to rounding.
		return 1, nil
	}
	if method == Wilson {
		return wilsonUpper(escaped, n, level), nil
	}
	return clopperPearsonUpper(escaped, n, level), nil
}

// Bounds are the one-sided lower and upper bounds, each at level, of the
// escaped-error rate after escaped errors in n audits, by method. For
// ConfidenceSequence they are the ends of the confidence sequence under
// SequencePrior(budget), which hold at level jointly and at every n at once;
// Wilson and Clopper-Pearson ignore the budget, and each of their bounds
// holds at level at one n. With no audits the bounds are 0 and 1. It is an
// error when method is unknown, level is outside (0,1), the counts are not a
// tally, or (for ConfidenceSequence) budget is outside (0,1).
func Bounds(method string, escaped, n int, level, budget float64) (lower, upper float64, err error) {
	if method == ConfidenceSequence {
		if err := checkBudget(budget); err != nil {
			return 0, 0, err
		}
		return SequenceBounds(escaped, n, level, SequencePrior(budget))
	}
	if upper, err = UpperBound(method, escaped, n, level); err != nil {
		return 0, 0, err
	}
	switch {
	case escaped == 0:
		lower = 0
	case method == Wilson:
		lower = wilsonLower(escaped, n, level)
	default:
		lower = clopperPearsonLower(escaped, n, level)
	}
	return lower, upper, nil
}

// MinAudits is the fewest audits with which a record without escaped errors
// shows, at level, that the escaped-error rate is within budget: the
// smallest n whose upper bound (Bounds) of 0 escaped is at most budget. Fewer audits
// cannot show the budget is met whatever they find, so the supervisor waits
// for this many before it judges. It is an error when budget or level is
// outside (0,1) or method is unknown.
func MinAudits(method string, budget, level float64) (int, error) {
	if err := checkParams(method, budget, level); err != nil {
		return 0, err
	}
	meets := func(n int) bool {
		_, b, _ := Bounds(method, 0, n, level, budget)
		return b <= budget
	}
	// The bound of a clean record falls as n grows.
	n, ok := Least(1, maxAudits+1, meets)
	if !ok {
		return 0, fmt.Errorf("quality: a budget of %g at level %g needs more than %d audits", budget, level, maxAudits)
	}
	return n, nil
}

// Least is the least x in [lo, hi) with ok(x), for an ok that is false up
// to some x and true from it on: found by doubling the step from lo until
// ok holds, then bisecting between the last miss and the first hit. It
// reports false when ok holds nowhere in the range.
func Least(lo, hi int, ok func(int) bool) (int, bool) {
	if lo >= hi {
		return 0, false
	}
	if ok(lo) {
		return lo, true
	}
	fail, pass := lo, lo
	for step := 1; ; step *= 2 {
		pass = min(lo+step, hi-1)
		if ok(pass) {
			break
		}
		if pass == hi-1 {
			return 0, false
		}
		fail = pass
	}
	for pass-fail > 1 {
		mid := fail + (pass-fail)/2
		if ok(mid) {
			pass = mid
		} else {
			fail = mid
		}
	}
	return pass, true
}

// wilsonUpper is the upper end of the one-sided Wilson score interval of
// escaped out of n, for 0 < n and escaped < n.
func wilsonUpper(escaped, n int, level float64) float64 {
	z := normalQuantile(level)
	nf := float64(n)
	p := float64(escaped) / nf
	z2 := z * z
	upper := (p + z2/(2*nf) + z*math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf))) / (1 + z2/nf)
	return min(max(upper, 0), 1)
}

// wilsonLower is the lower end of the one-sided Wilson score interval of
// escaped out of n, for 0 < escaped <= n.
func wilsonLower(escaped, n int, level float64) float64 {
	z := normalQuantile(level)
	nf := float64(n)
	p := float64(escaped) / nf
	z2 := z * z
	lower := (p + z2/(2*nf) - z*math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf))) / (1 + z2/nf)
	return min(max(lower, 0), 1)
}

// clopperPearsonLower is the one-sided Clopper-Pearson lower bound of
// escaped out of n, for 0 < escaped <= n: the rate p at which seeing
// escaped errors or more has probability 1-level.
func clopperPearsonLower(escaped, n int, level float64) float64 {
	if escaped == n {
		// P(X >= n) = p^n = 1-level.
		return math.Exp(math.Log1p(-level) / float64(n))
	}
	// P(X <= escaped-1) falls from 1 at p=0 to 0 at p=1 and is level at
	// the bound; keep the lower end, the conservative side.
	logLevel := math.Log(level)
	lo, _ := bisect(0, 1, func(p float64) bool { return logBinomialCDF(escaped-1, n, p) > logLevel })
	return lo
}

// clopperPearsonUpper is the one-sided Clopper-Pearson upper bound of
// escaped out of n, for 0 < n and escaped < n: the rate p at which seeing
// escaped errors or fewer has probability 1-level.
func clopperPearsonUpper(escaped, n int, level float64) float64 {
	alpha := 1 - level
	if escaped == 0 {
		// P(X <= 0) = (1-p)^n = alpha has a closed form.
		return -math.Expm1(math.Log(alpha) / float64(n))
	}
	// P(X <= escaped) falls from 1 at p=0 to 0 at p=1; bisect down to
	// adjacent floats and keep the upper end, the conservative side.
	logAlpha := math.Log(alpha)
	lo, hi := 0.0, 1.0
	for {
		mid := lo + (hi-lo)/2
		if mid <= lo || mid >= hi {
			return hi
		}
		if logBinomialCDF(escaped, n, mid) > logAlpha {
			lo = mid
		} else {
			hi = mid
		}
	}
}

// logBinomialCDF is log P(X <= k) for X ~ Binomial(n, p), 0 < p < 1.
//
// It sums the terms relative to the first, P(X=0) = (1-p)^n, whose
// logarithm is exact to rounding; each next term is the last times
// (n-i)/(i+1) · p/(1-p). The rounding error then grows with k, not with n
// as it would with binomial coefficients from math.Lgamma. Sums that
// outgrow the float range are rescaled by a power of two, which is exact.
func logBinomialCDF(k, n int, p float64) float64 {
	const rescale = 600
	limit := math.Ldexp(1, rescale)
	odds := p / (1 - p)
	term, sum := 1.0, 1.0
	scale := 0
	for i := 0; i < k; i++ {
		term *= float64(n-i) / float64(i+1) * odds
		sum += term
		if sum > limit {
			term = math.Ldexp(term, -rescale)
			sum = math.Ldexp(sum, -rescale)
			scale += rescale
		}
	}
	return float64(n)*math.Log1p(-p) + math.Log(sum) + float64(scale)*math.Ln2
}

// checkParams validates the parameters shared by MinAudits, Threshold and
// Evaluate.
func checkParams(method string, budget, level float64) error {
	if err := checkMethod(method); err != nil {
		return err
	}
	if err := checkBudget(budget); err != nil {
		return err
	}
	return checkLevel(level)
}

func checkBudget(budget float64) error {
	if !(budget > 0 && budget < 1) {
		return fmt.Errorf("quality: error budget %g is not in (0,1)", budget)
	}
	return nil
}

func checkMethod(method string) error {
	if method != Wilson && method != ClopperPearson && method != ConfidenceSequence {
		return fmt.Errorf("quality: unknown bound method %q (want %q, %q or %q)", method, ConfidenceSequence, Wilson, ClopperPearson)
	}
	return nil
}

func checkLevel(level float64) error {
	if !(level > 0 && level < 1) {
		return fmt.Errorf("quality: confidence level %g is not in (0,1)", level)
	}
	return nil
}
