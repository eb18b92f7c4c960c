package quality_test

import (
	"cmp"
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/countersign/countersign/internal/quality"
)

func sequence(t *testing.T, k, n int, level float64, prior quality.Prior) (float64, float64) {
	t.Helper()
	lo, hi, err := quality.SequenceBounds(k, n, level, prior)
	if err != nil {
		t.Fatalf("SequenceBounds(%d, %d, %g, %+v): %v", k, n, level, prior, err)
	}
	return lo, hi
}

// exactMixture is M_n(p0) for an integer prior Beta(a, b), computed in
// rational arithmetic from the definition: the prior's expectation of the
// likelihood ratio (p/p0)^k ((1-p)/(1-p0))^(n-k), each integral of
// p^(c-1) (1-p)^m over [0,1] summed exactly from the binomial expansion of
// (1-p)^m, Σ_j C(m,j) (-1)^j / (c+j). No log-gamma is involved.
func exactMixture(k, n, a, b int, p0 float64) float64 {
	integral := func(c, m int) *big.Rat {
		sum := new(big.Rat)
		coef := big.NewInt(1)
		for j := 0; j <= m; j++ {
			term := new(big.Rat).SetFrac(coef, big.NewInt(int64(c+j)))
			if j%2 == 1 {
				term.Neg(term)
			}
			sum.Add(sum, term)
			coef = new(big.Int).Div(new(big.Int).Mul(coef, big.NewInt(int64(m-j))), big.NewInt(int64(j+1)))
		}
		return sum
	}
	p := new(big.Rat).SetFloat64(p0)
	q := new(big.Rat).Sub(big.NewRat(1, 1), p)
	likelihood := big.NewRat(1, 1)
	for range k {
		likelihood.Mul(likelihood, p)
	}
	for range n - k {
		likelihood.Mul(likelihood, q)
	}
	m := new(big.Rat).Quo(integral(a+k, b+n-k-1), integral(a, b-1))
	m.Quo(m, likelihood)
	f, _ := m.Float64()
	return f
}

// The package's mixture (log-gamma arithmetic) against the exact one, and
// each bound at the point where the exact mixture reaches 1/(1-level).
func TestSequenceAgainstExactMixture(t *testing.T) {
	for _, pr := range [][2]int{{1, 19}, {1, 99}, {2, 5}, {3, 1}} {
		a, b := pr[0], pr[1]
		prior := quality.Prior{A: float64(a), B: float64(b)}
		for n := 0; n <= 24; n++ {
			for k := 0; k <= n; k++ {
				for _, p0 := range []float64{0.003, 0.05, 0.2, 0.5, 0.93} {
					got, want := quality.LogMixture(k, n, prior, p0), math.Log(exactMixture(k, n, a, b, p0))
					if !near(got, want, 1e-10*max(1, math.Abs(want))) {
						t.Errorf("Beta(%d,%d), %d of %d, p0 %g: log M = %.15g, exact %.15g", a, b, k, n, p0, got, want)
					}
				}
				if n == 0 {
					continue
				}
				lo, hi := sequence(t, k, n, 0.95, prior)
				rate := float64(k) / float64(n)
				if !(lo <= rate && rate <= hi) {
					t.Errorf("Beta(%d,%d), %d of %d: bounds [%g, %g] leave out the rate %g", a, b, k, n, lo, hi, rate)
				}
				// Just inside each end the exact mixture is below 20 =
				// 1/(1-0.95), at the end it has reached it (to rounding).
				for _, end := range []struct {
					name   string
					at, in float64
					edge   bool
				}{{"upper", hi, hi * (1 - 1e-7), k < n}, {"lower", lo, lo * (1 + 1e-7), k > 0}} {
					if !end.edge || end.at == 0 || end.at == 1 {
						// A prior far from the data can leave the bound
						// within rounding of 0 or 1.
						continue
					}
					if m := exactMixture(k, n, a, b, end.at); m < 20*(1-1e-9) {
						t.Errorf("Beta(%d,%d), %d of %d: exact mixture at the %s bound %.17g is %.12g, below 20", a, b, k, n, end.name, end.at, m)
					}
					if m := exactMixture(k, n, a, b, end.in); m >= 20 {
						t.Errorf("Beta(%d,%d), %d of %d: exact mixture just inside the %s bound is %.12g, not below 20", a, b, k, n, end.name, m)
					}
				}
				if k == 0 && lo != 0 || k == n && hi != 1 {
					t.Errorf("Beta(%d,%d), %d of %d: bounds [%g, %g], want 0 below a clean record and 1 above an all-wrong one", a, b, k, n, lo, hi)
				}
			}
		}
	}
}

// Closed forms under a = 1, where B(1, b+n)/B(1, b) = b/(b+n): a clean
// record's upper bound solves b/((b+n)(1-p)^n) = 1/(1-level).
func TestSequenceCleanRecordClosedForm(t *testing.T) {
	for _, c := range []struct {
		budget float64
		n      int
	}{{0.05, 10}, {0.05, 93}, {0.01, 473}, {0.01, 5000}, {0.2, 1}} {
		prior := quality.SequencePrior(c.budget)
		b := prior.B
		want := -math.Expm1(math.Log(b/(b+float64(c.n))*0.05) / float64(c.n))
		_, hi := sequence(t, 0, c.n, 0.95, prior)
		if !near(hi, want, 1e-13) {
			t.Errorf("budget %g, 0 of %d: upper %.17g, want %.17g", c.budget, c.n, hi, want)
		}
	}
}

// The fewest clean audits that show a budget met, by the confidence
// sequence, also computed in Python from the closed form above (with
// math.lgamma for a check): 473 at 1% and 93 at 5%, at 95%.
func TestMinAuditsConfidenceSequence(t *testing.T) {
	for _, c := range []struct {
		budget float64
		want   int
	}{{0.01, 473}, {0.02, 236}, {0.05, 93}} {
		got, err := quality.MinAudits(quality.ConfidenceSequence, c.budget, 0.95)
		if err != nil || got != c.want {
			t.Errorf("MinAudits(confidence sequence, %g, 0.95) = %d, %v; want %d", c.budget, got, err, c.want)
		}
		cp, _ := quality.MinAudits(quality.ClopperPearson, c.budget, 0.95)
		if got <= cp {
			t.Errorf("budget %g: the sequence needs %d clean audits, no more than Clopper-Pearson's %d at one look", c.budget, got, cp)
		}
	}
}

// The sequence is wider than Clopper-Pearson at every n: its mixture is at
// most the best single alternative's likelihood ratio exp(n·KL), so it
// excludes no rate the Chernoff bound keeps, and Chernoff keeps every rate
// the exact binomial test keeps. Wider with more confidence, and the bounds
// move with the errors found.
func TestSequenceProperties(t *testing.T) {
	levels := []float64{0.8, 0.9, 0.95, 0.99}
	for _, budget := range []float64{0.01, 0.05, 0.2} {
		for _, n := range []int{1, 5, 30, 100, 400} {
			prevLo, prevHi := 0.0, 0.0
			for k := 0; k <= n; k++ {
				lo, hi, err := quality.Bounds(quality.ConfidenceSequence, k, n, 0.95, budget)
				if err != nil {
					t.Fatal(err)
				}
				cpLo, cpHi, _ := quality.Bounds(quality.ClopperPearson, k, n, 0.95, budget)
				if hi < cpHi-1e-12 || lo > cpLo+1e-12 {
					t.Errorf("budget %g, %d of %d: sequence [%g, %g] inside Clopper-Pearson [%g, %g]", budget, k, n, lo, hi, cpLo, cpHi)
				}
				if lo < prevLo || hi < prevHi {
					t.Errorf("budget %g, %d of %d: bounds [%g, %g] fell with one more error from [%g, %g]", budget, k, n, lo, hi, prevLo, prevHi)
				}
				prevLo, prevHi = lo, hi
				wideLo, wideHi := 1.0, 0.0
				for _, level := range levels {
					l, h, _ := quality.Bounds(quality.ConfidenceSequence, k, n, level, budget)
					if l > wideLo || h < wideHi {
						t.Errorf("budget %g, %d of %d: at %g [%g, %g] narrower than at a lower level", budget, k, n, level, l, h)
					}
					wideLo, wideHi = l, h
				}
			}
		}
	}
	for _, c := range []struct {
		name  string
		k, n  int
		level float64
		prior quality.Prior
	}{
		{"more escaped than audits", 3, 2, 0.95, quality.Prior{A: 1, B: 1}},
		{"negative audits", 0, -1, 0.95, quality.Prior{A: 1, B: 1}},
		{"level 1", 0, 10, 1, quality.Prior{A: 1, B: 1}},
		{"improper prior", 0, 10, 0.95, quality.Prior{A: 0, B: 1}},
		{"infinite prior", 0, 10, 0.95, quality.Prior{A: 1, B: math.Inf(1)}},
	} {
		if _, _, err := quality.SequenceBounds(c.k, c.n, c.level, c.prior); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
	if _, _, err := quality.Bounds(quality.ConfidenceSequence, 0, 10, 0.95, 0); err == nil {
		t.Error("a confidence sequence for a budget of 0: no error")
	}
	if _, err := quality.UpperBound(quality.ConfidenceSequence, 0, 10, 0.95); err == nil {
		t.Error("UpperBound of the confidence sequence, without its budget: no error")
	}
}

// crossings simulates runs of audits at the true rate p, horizon audits
// each, and returns the share of runs in which p fell outside the bounds at
// some audit: by the sequence (above the upper or below the lower bound),
// and, for contrast, by Wilson's one-sided bounds looked at after every
// audit.
func crossings(t *testing.T, seed uint64, p, level float64, runs, horizon int) (upper, lower, either, wilsonUpper, wilsonLower float64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	prior := quality.SequencePrior(p)
	limit := -math.Log1p(-level)
	var up, down, any, wUp, wDown int
	for range runs {
		k := 0
		var crossedUp, crossedDown, wCrossedUp, wCrossedDown bool
		for n := 1; n <= horizon; n++ {
			if rng.Float64() < p {
				k++
			}
			rate := float64(k) / float64(n)
			if !crossedUp || !crossedDown {
				if quality.LogMixture(k, n, prior, p) >= limit {
					// The sequence excludes p: check that its bounds say so.
					lo, hi := sequence(t, k, n, level, prior)
					if rate < p {
						crossedUp = true
						if hi > p {
							t.Fatalf("%d of %d: the mixture excludes %g, the upper bound %g does not", k, n, p, hi)
						}
					} else {
						crossedDown = true
						if lo < p {
							t.Fatalf("%d of %d: the mixture excludes %g, the lower bound %g does not", k, n, p, lo)
						}
					}
				}
			}
			if !wCrossedUp || !wCrossedDown {
				lo, hi, _ := quality.Bounds(quality.Wilson, k, n, level, p)
				wCrossedUp = wCrossedUp || hi < p
				wCrossedDown = wCrossedDown || lo > p
			}
		}
		if crossedUp {
			up++
		}
		if crossedDown {
			down++
		}
		if crossedUp || crossedDown {
			any++
		}
		if wCrossedUp {
			wUp++
		}
		if wCrossedDown {
			wDown++
		}
	}
	r := float64(runs)
	return float64(up) / r, float64(down) / r, float64(any) / r, float64(wUp) / r, float64(wDown) / r
}

// Checked after every audit, over thousands of audits, the sequence still
// keeps its level: under a true rate equal to the budget, the share of runs
// in which the rate ever left the bounds stays at most 1-level. Wilson's
// bounds, looked at as often, leave it far more often: the simulation can
// see a violation. The margin is three standard errors of the share (0.5
// points with 2,000 runs), so a sequence at exactly 5% would pass, and the
// seed fixes the outcome.
func TestSequenceKeepsItsLevelOverEveryAudit(t *testing.T) {
	if testing.Short() {
		t.Skip("simulation")
	}
	const level = 0.95
	for _, c := range []struct {
		budget        float64
		runs, horizon int
	}{
		{0.05, 2000, 4000},  // 200 errors expected per run
		{0.01, 1000, 12000}, // 120
	} {
		up, down, either, wUp, wDown := crossings(t, 15, c.budget, level, c.runs, c.horizon)
		margin := 3 * math.Sqrt(0.05*0.95/float64(c.runs))
		t.Logf("p = budget = %g, %d runs of %d audits: the rate left the sequence in %.2f%% of runs (its lower bound rose above the rate in %.2f%%, its upper bound fell below it in %.2f%%); Wilson's upper bound fell below it in %.1f%%, its lower bound rose above it in %.1f%%",
			c.budget, c.runs, c.horizon, 100*either, 100*down, 100*up, 100*wUp, 100*wDown)
		if either > 1-level+margin {
			t.Errorf("p = %g: the rate left the confidence sequence in %.2f%% of runs, more than %.0f%% + %.2f", c.budget, 100*either, 100*(1-level), 100*margin)
		}
		if wUp < 2*(1-level) {
			t.Errorf("p = %g: Wilson's upper bound, looked at after every audit, fell below the rate in only %.2f%% of runs: the simulation cannot tell a bound that keeps its level from one that does not", c.budget, 100*wUp)
		}
	}
}

// orderRuns simulates runs of audits drawn at a steady pace (perDay a day
// for days, each due a day after it is drawn), each wrong with probability
// p and decided after a time that depends on its verdict (slow, in hours,
// for the wrong ones when slowWrong, else for the right ones; the others
// within the hour), and returns the share of runs in which the confidence
// sequence at level, looked at after every counted audit, ever excluded
// budget from above (the budget looked met) and from below (the policy
// would be tightened by refutation): counting the audits in the order they
// were decided, and in the order they were drawn, each once decided or due
// (as activities.CountAudits does: one still open when due counts as
// escaped).
func orderRuns(seed uint64, p, budget, level float64, slowWrong bool, slow func(*rand.Rand) float64, runs, perDay, days int) (decidedMet, decidedRefuted, drawnMet, drawnRefuted float64) {
	rng := rand.New(rand.NewPCG(seed, 0x04de))
	prior := quality.SequencePrior(budget)
	limit := -math.Log1p(-level)
	const due = 24.0 // hours
	horizon := float64(24 * days)
	type audit struct {
		drawn, decided float64
		wrong          bool
	}
	// crossed walks a sequence of verdicts and says whether the sequence
	// ever excluded budget from above and from below.
	crossed := func(verdicts []bool) (met, refuted bool) {
		k := 0
		for i, wrong := range verdicts {
			if wrong {
				k++
			}
			n := i + 1
			if quality.LogMixture(k, n, prior, budget) >= limit {
				if float64(k) < budget*float64(n) {
					met = true
				} else {
					refuted = true
				}
			}
		}
		return met, refuted
	}
	var dm, dr, wm, wr int
	audits := make([]audit, perDay*days)
	for range runs {
		for i := range audits {
			a := audit{drawn: 24 * float64(i) / float64(perDay), wrong: rng.Float64() < p}
			if a.wrong == slowWrong {
				a.decided = a.drawn + slow(rng)
			} else {
				a.decided = a.drawn + rng.Float64()
			}
			audits[i] = a
		}
		// In the order decided: what was decided by the horizon.
		byDecision := slices.Clone(audits)
		slices.SortFunc(byDecision, func(x, y audit) int { return cmp.Compare(x.decided, y.decided) })
		var decided, drawn []bool
		for _, a := range byDecision {
			if a.decided <= horizon {
				decided = append(decided, a.wrong)
			}
		}
		// In the order drawn, each once decided or due: up to the first
		// one that is neither at the horizon.
		for _, a := range audits {
			if a.decided > horizon && a.drawn+due > horizon {
				break
			}
			drawn = append(drawn, a.wrong || a.decided > a.drawn+due)
		}
		if met, refuted := crossed(decided); met || refuted {
			dm, dr = dm+b2i(met), dr+b2i(refuted)
		}
		if met, refuted := crossed(drawn); met || refuted {
			wm, wr = wm+b2i(met), wr+b2i(refuted)
		}
	}
	r := float64(runs)
	return float64(dm) / r, float64(dr) / r, float64(wm) / r, float64(wr) / r
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// The order audits count in: the confidence sequence keeps its level over
// audits in the order they were drawn, not in the order they were decided
// when how long an audit takes depends on what the auditor finds. Fifty
// audits a day for 60 days, each due a day after it is drawn. When the
// corrections are the slow ones (72 hours on average, exponential; the
// confirmations an hour), a rate of 6% against a 5% budget looks met at
// some audit in far more than 5% of runs counted as decided (the quick
// confirmations come first), and in at most 5% counted as drawn. When the
// confirmations are the slow ones (between 12 and 24 hours: all decided
// in time, since a confirmation overdue counts as escaped), a rate equal
// to the budget is refuted (the policy tightened) in far more than 5% of
// runs counted as decided, and in at most 5% counted as drawn. The margin
// is three standard errors of the share (2.1 points with 1,000 runs).
func TestTheOrderAuditsCountIn(t *testing.T) {
	if testing.Short() {
		t.Skip("simulation")
	}
	const level, budget, runs = 0.95, 0.05, 1000
	margin := 3 * math.Sqrt(0.05*0.95/runs)
	decidedMet, _, drawnMet, _ := orderRuns(15, 0.06, budget, level, true, func(r *rand.Rand) float64 { return 72 * r.ExpFloat64() }, runs, 50, 60)
	t.Logf("6%% wrong, corrections slow: the budget looked met in %.1f%% of runs counted as decided, %.1f%% counted as drawn", 100*decidedMet, 100*drawnMet)
	if drawnMet > 1-level+margin {
		t.Errorf("counted as drawn, a rate over the budget looked met in %.1f%% of runs, more than %.0f%% + %.1f", 100*drawnMet, 100*(1-level), 100*margin)
	}
	if decidedMet < 2*(1-level) {
		t.Errorf("counted as decided, a rate over the budget looked met in only %.1f%% of runs: the simulation cannot see the order matter", 100*decidedMet)
	}
	_, decidedRefuted, _, drawnRefuted := orderRuns(16, budget, budget, level, false, func(r *rand.Rand) float64 { return 12 + 12*r.Float64() }, runs, 50, 60)
	t.Logf("5%% wrong, confirmations slow: the policy was refuted in %.1f%% of runs counted as decided, %.1f%% counted as drawn", 100*decidedRefuted, 100*drawnRefuted)
	if drawnRefuted > 1-level+margin {
		t.Errorf("counted as drawn, a rate at the budget was refuted in %.1f%% of runs, more than %.0f%% + %.1f", 100*drawnRefuted, 100*(1-level), 100*margin)
	}
	if decidedRefuted < 2*(1-level) {
		t.Errorf("counted as decided, a rate at the budget was refuted in only %.1f%% of runs: the simulation cannot see the order matter", 100*decidedRefuted)
	}
}
