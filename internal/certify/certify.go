// Package certify picks an auto-accept threshold with a finite-sample
// guarantee on the error rate among the documents it accepts, from reviewed
// documents the active calibration did not train on (Learn then Test:
// Angelopoulos, Bates, Candès, Jordan and Lei, 2021).
//
// # The procedure
//
// For each threshold λ, n(λ) held-out documents would be auto-accepted
// (eligible by the policy's rules and confidence at or above λ) and k(λ) of
// them were wrong: a person corrected or rejected the draft. The hypothesis
// H(λ) "the error rate among documents accepted at λ is above the budget ε"
// is tested with the exact binomial p-value P(Binomial(n(λ), ε) <= k(λ)),
// rejected when the p-value is at most the level it is tested at. In a
// fixed sequence from the strictest threshold down, each tested at δ =
// 1 - level and stopping at the first that fails, the family-wise error is
// controlled at δ without any correction: the first hypothesis in the
// sequence that is true is rejected with probability at most δ, and none
// after it is reached unless it is. This package runs such a sequence from
// two starts (below), which keeps the same guarantee: with probability at
// least level, no threshold it lets pass has an error rate above the
// budget — whatever the shape of the error rate across thresholds, which
// need not be monotone.
//
// # The grid
//
// The thresholds are the distinct confidences of the eligible held-out
// documents, strictest first: every point at which the set of accepted
// documents changes. Between two neighbouring values nothing changes (the
// same documents are accepted, so n, k and the p-value are the same), so a
// finer grid fixed in advance (0.001 steps, or every float64) would pass
// and fail on the same plateaux in the same order; of the lowest plateau
// that passes, this grid certifies its strictest point, the observed
// confidence itself, which is never laxer than what the finer grid would
// certify. And no threshold is rounded: 0.9953 is tested as 0.9953.
//
// # Two starts, one chain (the fallback procedure)
//
// A single sequence from the strictest threshold has a weakness: its first
// test has few documents and no room for an error, so one wrong document
// among the most confident (a confidently wrong draft, which no signal
// told) fails it, and nothing is ever certified, however many documents
// are reviewed after: that document stays at the top. So the level δ is
// split (Wiens' fallback procedure, 2003; a graphical procedure in the
// sense of Bretz, Maurer, Brannath and Posch, 2009, which controls the
// family-wise error at δ):
//
//   - The first start gets (1-Fallback)·δ, at the strictest threshold that
//     accepts at least MinAccepted documents, the fewest with which a
//     record without errors passes at that level (ln(δ') / ln(1-ε): 61 for
//     5% at 95% with the default share, where the whole δ would need 59).
//   - The second start gets Fallback·δ, at the strictest threshold that
//     accepts at least FallbackAccepted documents, the fewest with which a
//     record with one error passes at its level (146 for 5% at 95%).
//   - Every threshold is tested in order from the strictest down, at the
//     level it inherits: its own share (nonzero only at the two starts)
//     plus, when the threshold before it passed, that threshold's level.
//     So a sequence that passes from the first start carries its level on
//     (the second start then tests at the whole δ); one that fails leaves
//     the thresholds after it untested until the second start, which then
//     tests with its own share.
//
// The certified threshold is the laxest that passed. Each threshold is
// tested once, in an order and with shares fixed before any verdict is
// seen, so with probability at least 1-δ no threshold that passed has an
// error rate above the budget.
//
// Where the starts are depends on the confidences only, never on the
// verdicts, and the confidences are computed by a calibration that did not
// see these documents: conditional on them the sequence is fixed in
// advance, which is what the procedure needs. Above the first start no
// test can reject whatever people found, so leaving those thresholds out
// changes no decision. Given the confidences the verdicts are independent;
// their sum is then more concentrated than a binomial with the same mean
// (Hoeffding, 1956), so the binomial p-value stays valid.
//
// The guarantee is about documents like the held-out ones, which must be
// drawn without regard to their confidence or their verdict. In hitl every
// document is reviewed. In hotl a person sees every document below the
// threshold in force but only the audited share of those above it: counted
// together, the less confident documents, wrong more often, would weigh
// 1/rate times the others. So Collect takes from a period in hotl only its
// uniform sample (simulate.Sampled): the audited documents and, at the same
// audit sample rate, a draw by ID and time received of the documents sent
// to a person. Together with the periods in hitl that is a sample of the task type's
// documents at every confidence, and certifying again in hotl, as audits
// accumulate, keeps the guarantee.
package certify

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/quality"
	"github.com/countersign/countersign/internal/simulate"
)

// DefaultLevel is the confidence level unless one is asked for.
const DefaultLevel = 0.95

// Sample is one held-out reviewed document.
type Sample struct {
	Confidence float64
	Route      simulate.RouteClass
	Wrong      bool
}

// Step is one threshold of the sequence.
type Step struct {
	Threshold float64 `json:"threshold"`
	Accepted  int     `json:"accepted"`
	Wrong     int     `json:"wrong"`
	// PValue is P(Binomial(Accepted, budget) <= Wrong); the step passes
	// when it is at most Alpha.
	PValue float64 `json:"p_value"`
	// Alpha is the level the step was tested at: its share of 1 - level,
	// plus the level of the step before it when that one passed (see the
	// package comment). 0: the step was not tested.
	Alpha float64 `json:"alpha"`
	// Bound is the one-sided Clopper-Pearson upper bound of the error rate,
	// computed for the certified and the stopping step only. For the
	// certified step it is at the level (what its certificate states):
	// within the budget, since the step passed at Alpha <= 1 - level. For
	// the stopping step it is at 1 - Alpha, the confidence it was tested
	// at, so it is over the budget exactly because the step failed.
	Bound  float64 `json:"bound,omitempty"`
	Passed bool    `json:"passed"`
}

// Result is the outcome of a test: a certified threshold, or a refusal
// that says how many more reviewed documents it would take.
type Result struct {
	Budget float64 `json:"budget"`
	Level  float64 `json:"level"`
	// Documents are the held-out reviewed documents; Eligible those the
	// policy's rules would let a threshold accept.
	Documents int `json:"documents"`
	Eligible  int `json:"eligible"`
	// Unsampled counts the held-out documents a person decided that were
	// left out because they do not belong to the uniform sample (Data); 0
	// from Test, TestWith and TestAttempt, which are given their samples.
	Unsampled int `json:"unsampled,omitempty"`
	// NoVerdict counts the documents among Documents without a person's
	// verdict when due (a review or an audit still open then, or
	// abandoned, a review that timed out), tested as wrong, OverdueReviews
	// those of them still held at the gate; PendingAudits the documents
	// drawn for an audit not due (or not open) yet, left out however it
	// went (Data).
	NoVerdict      int `json:"no_verdict,omitempty"`
	OverdueReviews int `json:"overdue_reviews,omitempty"`
	PendingAudits  int `json:"pending_audits,omitempty"`
	// PendingReviews counts the documents sent to a person whose review is
	// not due yet, left out decided or not (Data).
	PendingReviews int `json:"pending_reviews,omitempty"`
	// PendingUntil is when the last pending document is due (Data).
	PendingUntil *time.Time `json:"pending_until,omitempty"`
	// SampleRate is the share of documents the sample takes now (Data):
	// below 1 in hotl, where each more held-out document the refusal asks
	// for takes 1/SampleRate documents. 0 from Test, TestWith and
	// TestAttempt.
	SampleRate float64 `json:"sample_rate,omitempty"`
	// MinAccepted is the fewest accepted documents with which a clean
	// record passes at the first start's share of the level: where the
	// sequence starts.
	MinAccepted int `json:"min_accepted"`
	// FallbackAccepted is the fewest accepted documents with which a
	// record with one error passes at the second start's share: where the
	// sequence starts again if it failed before (0: no second start).
	FallbackAccepted int `json:"fallback_accepted,omitempty"`
	// Tested is how many thresholds the sequence tested.
	Tested int `json:"tested"`
	// Certified is the laxest step that passed; nil when none did.
	Certified *Step `json:"certified,omitempty"`
	// Stopped is the step whose failure ended the sequence: the last step
	// tested when it failed; nil when the sequence passed down to the
	// laxest threshold or never started.
	Stopped *Step `json:"stopped,omitempty"`
	// ReviewShare is the share of the documents that would go to a person
	// at the certified threshold (below it, or sent there by a rule or a
	// failed draft).
	ReviewShare float64 `json:"review_share,omitempty"`
	// Needed is, when nothing was certified, about how many more held-out
	// reviewed documents would let a threshold pass if they went like
	// these; -1 when more documents alone would not (no eligible document,
	// or an error rate at or above the budget at every threshold once the
	// wrong document that ends a clean run is counted: see needed).
	Needed int `json:"needed,omitempty"`
	// Attempt is which attempt at the task type and budget this test was:
	// 1 for the first, 2 after one earlier attempt (certified or refused),
	// and so on (see AttemptShare); 0 from Test and TestWith.
	Attempt int `json:"attempt,omitempty"`
	// TestedAt is the confidence level the sequence ran at: stricter than
	// Level from the first attempt on (1 - 0.8·(1-Level) for the first),
	// so that every attempt together keeps Level. 0 from Test and TestWith,
	// which run at Level.
	TestedAt float64 `json:"tested_at,omitempty"`
	// NextMinAccepted and NextFallbackAccepted are, after a refusal of an
	// attempt, MinAccepted and FallbackAccepted of the next attempt, which
	// Needed projects for.
	NextMinAccepted      int `json:"next_min_accepted,omitempty"`
	NextFallbackAccepted int `json:"next_fallback_accepted,omitempty"`
	// Horizon is, for a batch certificate (TestBatchAttempt), how many
	// accepted documents the promise covers: at most floor(Budget·Horizon)
	// of the next Horizon accepted documents wrong, with probability Level.
	// RateBudget is then the error rate the sequence tested against (the
	// steps' p-values are at it, and TestedAt is the level that part ran
	// at). 0 for a certificate of the rate, tested against Budget.
	Horizon    int     `json:"horizon,omitempty"`
	RateBudget float64 `json:"rate_budget,omitempty"`
	// Steps are every step tested, strictest first, without their bounds.
	Steps []Step `json:"-"`

	// rateSeen is, after a refusal, the lowest error rate needed projected
	// any threshold at (see projectedRates): what the refusal says of the
	// rate when more documents are unlikely to do.
	rateSeen float64
}

// DefaultFallback is the share of 1 - level the second start gets.
//
// A tenth: the first start then needs a few more clean documents than it
// would with the whole level (61 rather than 59 at 5% and 95%), and in
// exchange one wrong document among the most confident no longer ends
// every certification for good. On the oversight benchmark's documents
// (10 seeds, certifying after 300, 400, … up to 900 reviewed documents),
// it certified the one seed at 5% that a single sequence never did (after
// 500), and at 2% two seeds were certified 100 reviewed documents later
// than before, for the few more clean documents the first start needs
// (docs/oversight.md: Certifying a threshold).
const DefaultFallback = 0.1

// Test runs the test of the package comment on samples at budget and
// level, with DefaultFallback.
func Test(samples []Sample, budget, level float64) (*Result, error) {
	return TestWith(samples, budget, level, DefaultFallback)
}

// TestWith is Test with the second start's share of 1 - level; 0 runs a
// single sequence from the strictest threshold.
func TestWith(samples []Sample, budget, level, fallback float64) (*Result, error) {
	if err := Check(budget, level); err != nil {
		return nil, err
	}
	if !(fallback >= 0 && fallback < 1) {
		return nil, countersign.Errorf(countersign.CodeInvalid, "the second start's share must be at least 0 and below 1, not %v", fallback)
	}
	alpha := 1 - level
	first, second := (1-fallback)*alpha, fallback*alpha
	res := &Result{Budget: budget, Level: level, Documents: len(samples), MinAccepted: minAccepted(budget, first, 0)}
	if second > 0 {
		res.FallbackAccepted = minAccepted(budget, second, 1)
	}
	plateaux := grid(samples)
	if len(plateaux) > 0 {
		res.Eligible = plateaux[len(plateaux)-1].Accepted
	}
	startedFirst, startedSecond := false, second == 0
	carried := 0.0 // the level of the step before, when it passed
	for _, p := range plateaux {
		share := 0.0
		if !startedFirst && p.Accepted >= res.MinAccepted {
			startedFirst, share = true, first
		}
		if !startedSecond && p.Accepted >= res.FallbackAccepted {
			startedSecond, share = true, share+second
		}
		step := p
		step.Alpha = share + carried
		if step.Alpha == 0 {
			// Before the first start, or after a failure and before the
			// second: not tested.
			continue
		}
		step.PValue = quality.BinomialCDF(step.Wrong, step.Accepted, budget)
		step.Passed = step.PValue <= step.Alpha
		carried = 0
		if step.Passed {
			carried = step.Alpha
		}
		res.Steps = append(res.Steps, step)
	}
	res.Tested = len(res.Steps)
	for i := range res.Steps {
		if res.Steps[i].Passed {
			res.Certified = &res.Steps[i]
		}
	}
	if n := len(res.Steps); n > 0 && !res.Steps[n-1].Passed {
		res.Stopped = &res.Steps[n-1]
	}
	// The bound of every step would cost a bisection each; the two
	// reported are enough.
	for _, r := range []struct {
		s          *Step
		confidence float64
	}{{res.Certified, level}, {res.Stopped, 0}} {
		if r.s == nil {
			continue
		}
		if r.confidence == 0 {
			r.confidence = 1 - r.s.Alpha
		}
		bound, err := quality.UpperBound(quality.ClopperPearson, r.s.Wrong, r.s.Accepted, r.confidence)
		if err != nil {
			return nil, err
		}
		r.s.Bound = bound
	}
	if res.Certified != nil {
		res.ReviewShare = float64(reviewed(samples, res.Certified.Threshold)) / float64(len(samples))
		return res, nil
	}
	// Either start may be the one more documents let pass: the second is
	// tested with its own share when the first failed before it.
	res.rateSeen = lowest(projectedRates(plateaux))
	res.Needed = needed(plateaux, len(samples), res.MinAccepted, budget, first)
	if res.FallbackAccepted > 0 {
		if n := needed(plateaux, len(samples), res.FallbackAccepted, budget, second); n >= 0 && (res.Needed < 0 || n < res.Needed) {
			res.Needed = n
		}
	}
	return res, nil
}

// FirstAttemptShare is the share of 1 - level the first attempt at a
// certification spends (see AttemptShare).
const FirstAttemptShare = 0.8

// AttemptShare is the share of 1 - level that attempt k (1, 2, ...) at a
// certification runs at: FirstAttemptShare for the first, and
// (1 - FirstAttemptShare) / (k·(k-1)) for the k-th after it (0.1, 0.033,
// 0.0167, ...). The shares sum to 1, so the chance that any of the attempts
// certifies a threshold over the budget is at most 1 - level, however many
// times a refused certification is tried again on more documents of the
// same kind: trying again after a refusal is a second look at mostly the
// same evidence, and a test run at the whole level at every look would
// pass a threshold over the budget more often than it states.
func AttemptShare(k int) float64 {
	switch {
	case k <= 1:
		return FirstAttemptShare
	default:
		return (1 - FirstAttemptShare) / float64(k*(k-1))
	}
}

// Check says what is wrong with an error budget or a level, or nil.
func Check(budget, level float64) error {
	if !(budget > 0 && budget < 1) {
		return countersign.Errorf(countersign.CodeInvalid, "error budget must be a share between 0 and 1 (0.01 is 1%%), not %v", budget)
	}
	if !(level > 0 && level < 1) {
		return countersign.Errorf(countersign.CodeInvalid, "level must be between 0 and 1 (such as 0.95), not %v", level)
	}
	return nil
}

// TestAttempt is Test as attempt k of a certification: the sequence runs
// at level 1 - (1-level)·AttemptShare(k), and the result states level, the
// attempt and the level it was tested at. The certified step's bound is at
// the level tested at, so it is within the budget.
func TestAttempt(samples []Sample, budget, level float64, k int) (*Result, error) {
	if err := Check(budget, level); err != nil {
		return nil, err
	}
	if k < 1 {
		return nil, countersign.Errorf(countersign.CodeInvalid, "attempt must be 1 or more, not %d", k)
	}
	at := 1 - (1-level)*AttemptShare(k)
	res, err := TestWith(samples, budget, at, DefaultFallback)
	if err != nil {
		return nil, err
	}
	res.Level, res.Attempt, res.TestedAt = level, k, at
	if res.Certified == nil && len(samples) > 0 {
		// More documents are for the next attempt, which runs stricter:
		// project for it.
		next, err := TestWith(samples, budget, 1-(1-level)*AttemptShare(k+1), DefaultFallback)
		if err != nil {
			return nil, err
		}
		res.Needed, res.rateSeen = next.Needed, next.rateSeen
		res.NextMinAccepted, res.NextFallbackAccepted = next.MinAccepted, next.FallbackAccepted
	}
	return res, nil
}

// MinAccepted is the fewest accepted documents with which a record without
// errors passes: the smallest n with (1-budget)^n <= 1-level. Test's first
// start needs it at (1-DefaultFallback)·(1-level).
func MinAccepted(budget, level float64) int {
	return minAccepted(budget, 1-level, 0)
}

// minAccepted is the smallest n with P(Binomial(n, budget) <= wrong) <=
// alpha: the fewest accepted documents with which a record with that many
// errors passes at alpha.
func minAccepted(budget, alpha float64, wrong int) int {
	passes := func(n int) bool { return quality.BinomialCDF(wrong, n, budget) <= alpha }
	// Start from the logarithms' estimate for a clean record, which is a
	// lower bound for any number of errors, and settle on the exact test.
	n := max(wrong+1, int(math.Ceil(math.Log(alpha)/math.Log1p(-budget))))
	for n > wrong+1 && passes(n-1) {
		n--
	}
	for !passes(n) {
		n++
	}
	return n
}

// grid is, for every distinct confidence of an eligible sample, strictest
// first, how many eligible samples are at or above it and how many of them
// were wrong.
func grid(samples []Sample) []Step {
	eligible := make([]Sample, 0, len(samples))
	for _, s := range samples {
		if s.Route == simulate.RouteEligible {
			eligible = append(eligible, s)
		}
	}
	slices.SortFunc(eligible, func(a, b Sample) int { return cmp.Compare(b.Confidence, a.Confidence) })
	var out []Step
	n, k := 0, 0
	for i, s := range eligible {
		n++
		if s.Wrong {
			k++
		}
		if i+1 < len(eligible) && eligible[i+1].Confidence == s.Confidence {
			continue
		}
		out = append(out, Step{Threshold: s.Confidence, Accepted: n, Wrong: k})
	}
	return out
}

// reviewed counts the samples that go to a person at a threshold.
func reviewed(samples []Sample, threshold float64) int {
	n := 0
	for _, s := range samples {
		if s.Route == simulate.RouteReview || s.Route == simulate.RouteEligible && s.Confidence < threshold {
			n++
		}
	}
	return n
}

// needed projects how many more held-out documents, going like these,
// would let the sequence certify a threshold. With f times the documents,
// each threshold accepts f times as many, and the sequence starts at the
// strictest threshold that then accepts at least minAccepted: that first
// test must pass, or nothing is certified. So for each threshold q it
// finds the fewest accepted documents n at which q's test passes while q
// is still the first tested (the threshold stricter than q accepts fewer
// than minAccepted), and more documents than were tested at q; the least
// of the totals this takes, less the documents there are.
//
// The rate a threshold is projected at is not its luckiest cut of the
// data (0 of 58 in front of an error is no evidence of a rate of 0): it is
// the larger of its own rate and the rate at the threshold that admits the
// next wrong document, that document in; at the laxest run, with no wrong
// document after it, its own rate. It is an estimate: the documents to
// come need not go like these. Beyond maxProjected accepted documents it
// does not look.
func needed(plateaux []Step, documents, minAccepted int, budget, alpha float64) int {
	if documents == 0 {
		return minAccepted
	}
	rates := projectedRates(plateaux)
	best := -1
	for q, p := range plateaux {
		rate := rates[q]
		if rate >= budget {
			continue
		}
		lo := max(minAccepted, p.Accepted+1) // the first n tried
		hi := maxProjected                   // q stops being first here
		if q > 0 {
			stricter := plateaux[q-1].Accepted
			hi = min(hi, int(math.Ceil(float64(minAccepted)*float64(p.Accepted)/float64(stricter))))
		}
		if lo >= hi {
			continue
		}
		n, ok := firstPassing(lo, hi, rate, budget, alpha)
		if !ok {
			continue
		}
		total := int(math.Ceil(float64(n) * float64(documents) / float64(p.Accepted)))
		if more := max(1, total-documents); best < 0 || more < best {
			best = more
		}
	}
	return best
}

// projectedRates is the rate each plateau is projected at (see needed).
func projectedRates(plateaux []Step) []float64 {
	rates := make([]float64, len(plateaux))
	// next is the plateau that admits the next wrong document after the
	// one at hand, or -1 past the last.
	next := -1
	for i := len(plateaux) - 1; i >= 0; i-- {
		p := plateaux[i]
		if i+1 < len(plateaux) && plateaux[i+1].Wrong != p.Wrong {
			next = i + 1
		}
		rates[i] = float64(p.Wrong) / float64(p.Accepted)
		if next >= 0 {
			rates[i] = max(rates[i], float64(p.Wrong+1)/float64(plateaux[next].Accepted))
		}
	}
	return rates
}

// lowest is the least of rates, or 1 when there are none.
func lowest(rates []float64) float64 {
	least := 1.0
	for _, r := range rates {
		least = min(least, r)
	}
	return least
}

// firstPassing finds the least n in [lo, hi) at which n accepted
// documents with ceil(rate·n) of them wrong pass the test. For a fixed
// number wrong, the test passes from some n on; over the steps of ceil it
// is monotone only roughly, so it finds the first step (the n that bring
// k wrong) whose largest n passes, then the least n in it.
func firstPassing(lo, hi int, rate, budget, alpha float64) (int, bool) {
	wrong := func(n int) int { return int(math.Ceil(rate * float64(n))) }
	passes := func(n int) bool { return quality.BinomialCDF(wrong(n), n, budget) <= alpha }
	if rate == 0 {
		return quality.Least(lo, hi, passes)
	}
	// last is the largest n that brings at most k wrong.
	last := func(k int) int {
		n := int(float64(k) / rate)
		for wrong(n+1) <= k {
			n++
		}
		for n > 0 && wrong(n) > k {
			n--
		}
		return n
	}
	k, ok := quality.Least(wrong(lo), wrong(hi-1)+1, func(k int) bool { return passes(min(last(k), hi-1)) })
	if !ok {
		return 0, false
	}
	return quality.Least(max(lo, last(k-1)+1), min(last(k), hi-1)+1, passes)
}

// farMore is how many times the documents at hand (or, with fewer, the
// fewest a clean record needs) a projection may ask for before the message
// says more documents alone are unlikely to do: a clean record on a few
// documents needs many more, and more documents are then the answer.
const farMore = 20

// maxProjected bounds the accepted documents needed projects to.
const maxProjected = 1 << 20

// explain says in words why nothing was certified and what would help.
func (r *Result) explain(taskType string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "no threshold of %s can be certified at an error budget of %s", taskType, percent(r.Budget))
	if r.Horizon > 0 {
		fmt.Fprintf(&b, " over each next %d accepted documents", r.Horizon)
	}
	fmt.Fprintf(&b, " with %s confidence", percent(r.Level))
	switch {
	case r.Horizon > 0 && r.Attempt > 1:
		fmt.Fprintf(&b, " (that asks for an error rate within %s; attempt %d at this budget and level, so the rate is tested at %s for every attempt together to keep %s)", percent(r.RateBudget), r.Attempt, percent(r.TestedAt), percent(r.Level))
	case r.Horizon > 0:
		fmt.Fprintf(&b, " (that asks for an error rate within %s, tested at %s)", percent(r.RateBudget), percent(r.TestedAt))
	case r.Attempt > 1:
		fmt.Fprintf(&b, " (attempt %d at this budget, so tested at %s for every attempt together to keep %s)", r.Attempt, percent(r.TestedAt), percent(r.Level))
	}
	b.WriteString(": ")
	switch {
	case r.Documents == 0 && r.PendingReviews > 0:
		fmt.Fprintf(&b, "none of the reviewed documents the active calibration did not train on counts yet: the %d sent to a person are left out until their review is due%s, decided or not, so that quick approvals do not come in ahead of slow corrections (the task type's review_due sets when); it needs at least %d", r.PendingReviews, r.dueBy(), r.MinAccepted)
		if r.Unsampled > 0 {
			fmt.Fprintf(&b, " (%d more, decided in hotl outside the uniform sample, do not count at all)", r.Unsampled)
		}
		return b.String()
	case r.Documents == 0 && r.Unsampled > 0:
		fmt.Fprintf(&b, "none of the %d reviewed documents the active calibration did not train on belongs to the uniform sample (they were decided in hotl below the threshold in force, outside the audit draw); it needs at least %d from a period in hitl or drawn in hotl", r.Unsampled, r.MinAccepted)
		return b.String()
	case r.Documents == 0:
		fmt.Fprintf(&b, "there are no reviewed documents the active calibration did not train on; it needs at least %d", r.MinAccepted)
		return b.String()
	case r.Eligible == 0:
		fmt.Fprintf(&b, "the policy's rules send all %d held-out reviewed documents to a person, so no threshold would accept any", r.Documents)
		return b.String()
	case r.Stopped != nil:
		s := r.Stopped
		fmt.Fprintf(&b, "the sequence stopped at its test %d, threshold %s, where %d of %d accepted documents were wrong (upper bound %s at the %s confidence that test ran at, over %s)",
			r.Tested, FormatThreshold(s.Threshold), s.Wrong, s.Accepted, percent(s.Bound), percent(1-s.Alpha), r.underWhat())
	default:
		fmt.Fprintf(&b, "%d of %d held-out reviewed documents could be accepted, fewer than the %d a record without errors needs",
			r.Eligible, r.Documents, r.MinAccepted)
		if r.Attempt > 0 {
			b.WriteString(" at this attempt")
		}
	}
	if r.NoVerdict > 0 {
		// A backlog of overdue reviews or audits, tested as errors, is
		// the first thing to clear: the projection below would take it
		// for the model's errors.
		fmt.Fprintf(&b, "; %d of the documents tested had no person's verdict when their review or audit was due and count as wrong", r.NoVerdict)
		if r.OverdueReviews > 0 {
			fmt.Fprintf(&b, " (%d of them still awaiting review at the gate)", r.OverdueReviews)
		}
		b.WriteString(": decide those overdue reviews and audits, then try again once decided")
		return b.String()
	}
	// What more documents would need is the next attempt's.
	minimum, fallback := r.nextStarts()
	// The second start not reached yet: more documents reach it, whatever
	// the projection (which scales the wrong documents at the top with
	// the rest) says of them.
	unreached := r.Stopped != nil && fallback > 0 && r.Eligible < fallback
	switch {
	case r.Needed < 0 && unreached:
		fmt.Fprintf(&b, "; review more documents the calibration did not train on: at %d accepted ones the test starts again%s, allowing one wrong document among the most confident (%d could be accepted now), or improve the confidence (calibrate), or %s", fallback, r.nextAttempt(), r.Eligible, r.larger())
	case r.Needed < 0 && r.Eligible < minimum:
		// On fewer documents than a clean record needs, the error rates
		// seen say too little to rule anything out.
		fmt.Fprintf(&b, "; on so few the error rates seen are above %s at every threshold, which says little yet: review more documents the calibration did not train on (at least %d accepted ones are needed%s), improve the confidence (calibrate), or %s", r.underWhat(), minimum, r.nextAttempt(), r.larger())
	case r.Needed < 0 && r.rateSeen < r.tested():
		// Below the budget somewhere, but no projection passes a first
		// test: with the wrong documents spread evenly, each start would
		// hold some.
		r.explainStarts(&b, minimum, fallback)
	case r.Needed < 0:
		fmt.Fprintf(&b, "; at no threshold is the error rate below %s once the next wrong document below it is counted, so more documents alone will not do: improve the confidence (calibrate) or %s", r.underWhat(), r.larger())
	case r.Needed > farMore*max(r.Documents, minimum) && r.rateSeen >= r.tested()/2:
		// The error rate is just under the budget: the projection is
		// true to the arithmetic but no plan.
		fmt.Fprintf(&b, "; the error rate among the documents it would accept is so close to %s that it would take over %d times as many reviewed documents as these (about %d more), so more documents alone are unlikely to do: improve the confidence (calibrate) or %s", r.underWhat(), farMore, r.Needed, r.larger())
		if unreached {
			fmt.Fprintf(&b, " (at %d accepted ones the test also starts again, allowing one wrong document among the most confident; %d could be accepted now)", fallback, r.Eligible)
		}
	case r.Needed > farMore*max(r.Documents, minimum):
		r.explainStarts(&b, minimum, fallback)
	default:
		fmt.Fprintf(&b, "; it needs about %d more reviewed documents the calibration did not train on, if they go like these", r.Needed)
		if r.SampleRate > 0 && r.SampleRate < 1 {
			fmt.Fprintf(&b, " (the newest of these was routed in hotl, where the uniform sample took the audit sample rate's %s of documents: at that rate about %d more documents)", percent(r.SampleRate), int(math.Ceil(float64(r.Needed)/r.SampleRate)))
		}
		if r.NextMinAccepted > 0 {
			fmt.Fprintf(&b, ", for attempt %d, which runs stricter (try again once they are reviewed, not before: every attempt spends some of the level)", r.Attempt+1)
		}
		if unreached {
			fmt.Fprintf(&b, " (at %d accepted ones the test also starts again, allowing one wrong document among the most confident; %d could be accepted now)", fallback, r.Eligible)
		}
	}
	return b.String()
}

// explainStarts says, for a refusal whose error rate is under the budget
// (well under it, when more documents are projected to help at all), what
// stands in the way: each start of the test needs (almost) no wrong
// document among the most confident accepted ones, and the projection,
// which spreads the wrong documents evenly, puts some there. Whether more
// documents do is then a matter of chance, which it states.
func (r *Result) explainStarts(b *strings.Builder, minimum, fallback int) {
	fmt.Fprintf(b, "; the error rate among the documents it would accept is about %s, under %s, but the test starts with the most confident accepted documents and needs none of the first %d wrong", percent(r.rateSeen), r.underWhat(), minimum)
	if fallback > 0 {
		fmt.Fprintf(b, " (or, starting again, at most one of the first %d)", fallback)
	}
	fmt.Fprintf(b, "%s: at that rate the first %d are all right %s of the time", r.nextAttempt(), minimum, roughPercent(quality.BinomialCDF(0, minimum, r.rateSeen)))
	if fallback > 0 {
		fmt.Fprintf(b, ", and at most one of the first %d wrong %s", fallback, roughPercent(quality.BinomialCDF(1, fallback, r.rateSeen)))
	}
	fmt.Fprintf(b, ", so more documents may do, by chance: review more documents the calibration did not train on and try again once they are reviewed (every attempt spends some of the level), improve the confidence (calibrate) so that fewer wrong drafts rank among the most confident, or %s", r.larger())
	if r.Stopped != nil && fallback > 0 && r.Eligible < fallback {
		fmt.Fprintf(b, " (%d could be accepted now)", r.Eligible)
	}
}

// underWhat names what the rate seen is under: the budget, or a batch
// certificate's rate.
func (r *Result) underWhat() string {
	if r.Horizon > 0 {
		return "the " + percent(r.RateBudget) + " the horizon asks for"
	}
	return "the budget"
}

// larger says what to ask for instead: a larger budget, or for a batch
// certificate also a longer horizon (or a certificate of the rate).
func (r *Result) larger() string {
	if r.Horizon > 0 {
		return "ask for a larger budget or a longer horizon (one where budget·horizon is a whole number; without a horizon the rate itself is certified against the budget)"
	}
	return "ask for a larger budget"
}

// roughPercent writes a chance as a whole percentage, "under 1%" or "over
// 99%" at the ends.
func roughPercent(x float64) string {
	switch p := math.Round(100 * x); {
	case x < 0.01:
		return "under 1%"
	case x > 0.99:
		return "over 99%"
	default:
		return strconv.FormatFloat(p, 'f', 0, 64) + "%"
	}
}

// Explain says why nothing was certified and what to do, for a person,
// with what the evidence left out or counted as wrong.
func (r *Result) Explain(taskType string) string {
	var b strings.Builder
	b.WriteString(r.explain(taskType))
	if r.Unsampled > 0 && r.Documents > 0 {
		fmt.Fprintf(&b, " (%d more reviewed documents, decided in hotl outside the uniform sample, were left out: in hotl only the audit sample rate's share of documents counts)", r.Unsampled)
	}
	if r.PendingAudits > 0 {
		fmt.Fprintf(&b, " (%d documents drawn for an audit not due yet were left out until it is due, however it went)", r.PendingAudits)
	}
	if r.PendingReviews > 0 && r.Documents > 0 {
		fmt.Fprintf(&b, " (%d documents sent to a person whose review is not due yet were left out until it is due%s, decided or not, so that quick approvals do not come in ahead of slow corrections)", r.PendingReviews, r.dueBy())
	}
	return b.String()
}

// dueBy says when the last pending document is due, when that is known.
func (r *Result) dueBy() string {
	if r.PendingUntil == nil || r.PendingUntil.IsZero() {
		return ""
	}
	return " (the last at " + r.PendingUntil.UTC().Format(time.RFC3339) + ")"
}

// WaitFor is how many more held-out reviewed documents a refused test
// says to wait for before the next attempt: the projection (Needed) when
// there is one; else, while fewer documents could be accepted than the
// next attempt's first test (or, after a failure, its second start)
// needs, the difference; else -1: more documents alone will not do. 0
// for a certified test.
func (r *Result) WaitFor() int {
	if r.Certified != nil {
		return 0
	}
	if r.Needed > 0 {
		return r.Needed
	}
	minimum, fallback := r.nextStarts()
	switch {
	case r.Eligible < minimum:
		return minimum - r.Eligible
	case r.Stopped != nil && fallback > 0 && r.Eligible < fallback:
		return fallback - r.Eligible
	}
	return -1
}

// nextStarts are the accepted documents where more documents would be
// tested: the next attempt's two starts after a refused attempt, else this
// test's.
func (r *Result) nextStarts() (minimum, fallback int) {
	if r.NextMinAccepted > 0 {
		return r.NextMinAccepted, r.NextFallbackAccepted
	}
	return r.MinAccepted, r.FallbackAccepted
}

// nextAttempt names, in a refusal that projects for it, the next attempt.
func (r *Result) nextAttempt() string {
	if r.NextMinAccepted == 0 {
		return ""
	}
	return fmt.Sprintf(" by attempt %d, which runs stricter", r.Attempt+1)
}

// FormatThreshold writes a threshold with every digit it has, and at least
// three decimals: 0.990, 0.995, 0.9953. It is never rounded, so two
// thresholds never print alike.
func FormatThreshold(x float64) string {
	s := strconv.FormatFloat(x, 'f', -1, 64)
	dot := strings.IndexByte(s, '.')
	if dot < 0 {
		s, dot = s+".", len(s)
	}
	if decimals := len(s) - dot - 1; decimals < 3 {
		s += strings.Repeat("0", 3-decimals)
	}
	return s
}

// percent writes a share as a percentage with up to three decimals.
func percent(x float64) string {
	return strconv.FormatFloat(math.Round(x*1e5)/1e3, 'f', -1, 64) + "%"
}
