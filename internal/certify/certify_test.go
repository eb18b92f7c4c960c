package certify_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/countersign/countersign/internal/certify"
	"github.com/countersign/countersign/internal/quality"
	"github.com/countersign/countersign/internal/simulate"
)

func near(got, want, tol float64) bool { return math.Abs(got-want) <= tol }

// some returns n samples at one confidence, wrong of them wrong.
func some(n int, confidence float64, wrong int, route simulate.RouteClass) []certify.Sample {
	out := make([]certify.Sample, n)
	for i := range out {
		out[i] = certify.Sample{Confidence: confidence, Route: route, Wrong: i < wrong}
	}
	return out
}

func join(parts ...[]certify.Sample) []certify.Sample {
	var out []certify.Sample
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func test(t *testing.T, samples []certify.Sample, budget, level float64) *certify.Result {
	t.Helper()
	res, err := certify.Test(samples, budget, level)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// single runs one sequence from the strictest threshold, without the
// second start: the arithmetic the tests below check by hand.
func single(t *testing.T, samples []certify.Sample, budget, level float64) *certify.Result {
	t.Helper()
	res, err := certify.TestWith(samples, budget, level, 0)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestMinAccepted: the fewest clean accepted documents that pass, n with
// (1-ε)^n <= 1-level < (1-ε)^(n-1): 0.99^299 = 0.04954, 0.99^298 = 0.05004;
// 0.95^59 = 0.04849, 0.95^58 = 0.05105; 0.9^22 = 0.09848, 0.9^21 = 0.10942.
func TestMinAccepted(t *testing.T) {
	for _, c := range []struct {
		budget, level float64
		want          int
	}{{0.01, 0.95, 299}, {0.05, 0.95, 59}, {0.1, 0.9, 22}, {0.02, 0.99, 228}} {
		if got := certify.MinAccepted(c.budget, c.level); got != c.want {
			t.Errorf("MinAccepted(%g, %g) = %d, want %d", c.budget, c.level, got, c.want)
		}
	}
}

// TestSequenceStopsAtFirstFailure, on a hand-made grid at a 10% budget and
// 90% confidence (22 clean documents pass): 25 right documents at 0.99
// pass (p = 0.9^25 = 0.0718); with 5 more at 0.95, 3 of them wrong, 3 of 30
// fail (p = P(Bin(30, 0.1) <= 3) = 0.6474); 200 right ones at 0.90 would
// make 3 of 230 pass alone (p = 9.3e-8), but the sequence stopped before
// them. 10 documents a rule sends to a person and 5 it rejects count in the
// review share only.
func TestSequenceStopsAtFirstFailure(t *testing.T) {
	samples := join(
		some(25, 0.99, 0, simulate.RouteEligible),
		some(5, 0.95, 3, simulate.RouteEligible),
		some(200, 0.90, 0, simulate.RouteEligible),
		some(10, 0.999, 2, simulate.RouteReview),
		some(5, 0.999, 0, simulate.RouteReject),
	)
	res := single(t, samples, 0.1, 0.9)
	if res.MinAccepted != 22 || res.Documents != 245 || res.Eligible != 230 {
		t.Fatalf("min accepted %d, documents %d, eligible %d; want 22, 245, 230", res.MinAccepted, res.Documents, res.Eligible)
	}
	if res.Tested != 2 || len(res.Steps) != 2 {
		t.Fatalf("tested %d: %+v; want 0.99 then 0.95", res.Tested, res.Steps)
	}
	c := res.Certified
	if c == nil || c.Threshold != 0.99 || c.Accepted != 25 || c.Wrong != 0 || !near(c.PValue, 0.0717897987691853, 1e-14) {
		t.Fatalf("certified %+v, want 0.99 with 0 of 25 (p 0.0718)", c)
	}
	// Clopper-Pearson for 0 of 25 at 90%: 1 - 0.1^(1/25).
	if !near(c.Bound, 0.08798916064409024, 1e-12) {
		t.Errorf("bound %.15f, want 0.087989160644090", c.Bound)
	}
	s := res.Stopped
	if s == nil || s.Threshold != 0.95 || s.Accepted != 30 || s.Wrong != 3 || s.Passed || !near(s.PValue, 0.6474391717918486, 1e-12) {
		t.Fatalf("stopped %+v, want 0.95 with 3 of 30 failing (p 0.6474)", s)
	}
	// (10 by rule + 5 rejected are not accepted; 200 + 5 below 0.99)
	// go to a person: 10 + 205 of 245; the 5 rejected do not.
	if !near(res.ReviewShare, 215.0/245, 1e-15) {
		t.Errorf("review share %v, want 215/245", res.ReviewShare)
	}
	// Alone, the lax threshold 0.90 would have passed.
	alone := single(t, join(some(230, 0.90, 3, simulate.RouteEligible)), 0.1, 0.9)
	if alone.Certified == nil || alone.Certified.Threshold != 0.90 || !near(alone.Certified.PValue, 9.262786443764033e-08, 1e-15) {
		t.Fatalf("3 of 230 alone: %+v, want 0.90 certified (p 9.3e-8)", alone.Certified)
	}
}

// TestSequenceRunsDown: with every test passing, the certified threshold is
// the laxest distinct confidence, and ties are one threshold: 60 right
// documents at 0.9953, 40 at 0.995, 100 at 0.97 (one wrong) at 5% and 95%.
// 0 of 60: p = 0.95^60 = 0.0461; 0 of 100: 0.0059; 1 of 200: 0.0004.
func TestSequenceRunsDown(t *testing.T) {
	samples := join(
		some(60, 0.9953, 0, simulate.RouteEligible),
		some(40, 0.995, 0, simulate.RouteEligible),
		some(100, 0.97, 1, simulate.RouteEligible),
	)
	res := single(t, samples, 0.05, 0.95)
	var thresholds []float64
	for _, s := range res.Steps {
		if !s.Passed {
			t.Errorf("step %+v failed", s)
		}
		thresholds = append(thresholds, s.Threshold)
	}
	if len(thresholds) != 3 || thresholds[0] != 0.9953 || thresholds[1] != 0.995 || thresholds[2] != 0.97 {
		t.Fatalf("thresholds tested %v, want 0.9953, 0.995, 0.97", thresholds)
	}
	if res.Certified.Threshold != 0.97 || res.Certified.Accepted != 200 || res.Certified.Wrong != 1 || res.Stopped != nil || res.ReviewShare != 0 {
		t.Fatalf("certified %+v stopped %+v share %v; want 0.97 with 1 of 200, the sequence run down", res.Certified, res.Stopped, res.ReviewShare)
	}
	if !near(res.Steps[0].PValue, math.Pow(0.95, 60), 1e-15) {
		t.Errorf("p at 0.9953 = %v, want 0.95^60", res.Steps[0].PValue)
	}
}

// TestRefusalSaysHowManyMore: 40 of 50 held-out documents eligible, all
// right, at 5% and 95% (59 clean needed). At that share, 59 accepted need
// 59/0.8 = 73.75, so 74 documents: 24 more. The message says so.
func TestRefusalSaysHowManyMore(t *testing.T) {
	samples := join(
		some(20, 0.98, 0, simulate.RouteEligible),
		some(20, 0.96, 0, simulate.RouteEligible),
		some(10, 0.99, 0, simulate.RouteReview),
	)
	res := single(t, samples, 0.05, 0.95)
	if res.Certified != nil || res.Tested != 0 {
		t.Fatalf("certified %+v after %d tests, want a refusal before any test", res.Certified, res.Tested)
	}
	if res.Needed != 24 {
		t.Fatalf("needed %d, want 24", res.Needed)
	}
	msg := res.Explain("claims")
	for _, want := range []string{"40 of 50 held-out reviewed documents could be accepted, fewer than the 59", "about 24 more reviewed documents"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}

	// In hotl at an audit sample rate of 10%, 24 more held-out documents
	// take about 240 documents.
	res.SampleRate, res.Unsampled, res.PendingAudits = 0.1, 7, 3
	msg = res.Explain("claims")
	for _, want := range []string{"about 24 more reviewed documents", "audit sample rate's 10% of documents: at that rate about 240 more documents", "7 more reviewed documents, decided in hotl outside the uniform sample", "3 documents drawn for an audit not due yet were left out"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	// Documents without a verdict when due were tested as wrong: the
	// refusal says to decide them first, not to review more or calibrate.
	res.NoVerdict, res.OverdueReviews = 2, 1
	msg = res.Explain("claims")
	for _, want := range []string{"2 of the documents tested had no person's verdict when their review or audit was due and count as wrong (1 of them still awaiting review at the gate): decide those overdue reviews and audits"} {
		if !strings.Contains(msg, want) || strings.Contains(msg, "more reviewed documents the calibration") {
			t.Errorf("message %q lacks %q, or asks for more documents", msg, want)
		}
	}
	res.NoVerdict, res.OverdueReviews = 0, 0

	// With errors: 80 accepted with 1 wrong fail (p = P(Bin(80, 0.05) <= 1)
	// = 0.0861). Going like these (1.25% wrong), some threshold passes with
	// more documents; an error rate at the budget everywhere never does.
	res = single(t, join(some(80, 0.97, 1, simulate.RouteEligible)), 0.05, 0.95)
	if res.Certified != nil || res.Stopped == nil || !near(res.Stopped.PValue, 0.08605379284822864, 1e-12) {
		t.Fatalf("1 of 80: certified %+v stopped %+v, want a failure at p 0.0861", res.Certified, res.Stopped)
	}
	// 1 in 80 wrong: n documents bring ceil(n/80) wrong; 2 of 124 is the
	// first that passes (p = 0.0495; 2 of 123: 0.0514), 44 more.
	if res.Needed != 44 || !strings.Contains(res.Explain("claims"), "stopped at its test 1, threshold 0.970, where 1 of 80") {
		t.Fatalf("needed %d, message %q", res.Needed, res.Explain("claims"))
	}
	res = single(t, join(some(100, 0.97, 5, simulate.RouteEligible), some(100, 0.9, 10, simulate.RouteEligible)), 0.05, 0.95)
	if res.Certified != nil || res.Needed != -1 || !strings.Contains(res.Explain("claims"), "more documents alone will not do") {
		t.Fatalf("error rate at the budget everywhere: certified %+v, needed %d, %q", res.Certified, res.Needed, res.Explain("claims"))
	}
	// 4.9% wrong against a budget of 5%: the arithmetic asks for a
	// hundred-thousand-fold more, which the message does not pass off as
	// a plan.
	res = single(t, join(some(1000, 0.97, 49, simulate.RouteEligible)), 0.05, 0.95)
	if msg := res.Explain("claims"); res.Certified != nil || res.Needed <= 20*1000 || !strings.Contains(msg, "so close to the budget") || !strings.Contains(msg, "more documents alone are unlikely to do") {
		t.Fatalf("rate just under the budget: needed %d, %q", res.Needed, msg)
	}
	// One wrong document at rank 31 of 141 otherwise right, with every
	// confidence its own threshold (as real confidences are): 1 of 61
	// fails the first start and 3 of 146 the second. The rate is under
	// the budget (at best 2 of 143, 1.399%, counting the next wrong one),
	// but spread evenly each start would hold a wrong document, so the
	// projection asks for far more. The message says the rate is under
	// the budget and gives the chances of a clean start: 0.98601^61 =
	// 0.4234, and at most one wrong of 146 0.3926.
	var one []certify.Sample
	for i := range 153 {
		one = append(one, certify.Sample{Confidence: 1 - float64(i)/1000, Route: simulate.RouteEligible, Wrong: i == 30 || i >= 141 && i%2 == 0})
	}
	res = test(t, one, 0.05, 0.95)
	msg = res.Explain("claims")
	for _, want := range []string{"where 3 of 146 accepted documents were wrong", "about 1.399%, under the budget", "needs none of the first 61 wrong (or, starting again, at most one of the first 146)", "all right 42% of the time, and at most one of the first 146 wrong 39%", "more documents may do, by chance"} {
		if res.Certified != nil || res.Needed <= 20*153 || !strings.Contains(msg, want) {
			t.Errorf("one wrong at rank 31: needed %d, message %q lacks %q", res.Needed, msg, want)
		}
	}
	if strings.Contains(msg, "close to the budget") {
		t.Errorf("one wrong at rank 31: %q calls 1.4%% close to a 5%% budget", msg)
	}
	// Two wrong at ranks 5 and 69: no projection passes a first test, but
	// the rate is under the budget; that is not "at no threshold".
	var two []certify.Sample
	for i := range 153 {
		two = append(two, certify.Sample{Confidence: 1 - float64(i)/1000, Route: simulate.RouteEligible, Wrong: i == 4 || i == 68 || i >= 118 && i%2 == 0})
	}
	res = test(t, two, 0.05, 0.95)
	if msg := res.Explain("claims"); res.Needed != -1 || !strings.Contains(msg, "under the budget") || strings.Contains(msg, "at no threshold") {
		t.Errorf("two wrong at ranks 5 and 69: needed %d, %q", res.Needed, msg)
	}
	// A clean record on a few documents: more documents are the answer,
	// however many times these it takes (1%: 299 for a clean record).
	res = single(t, some(5, 0.99, 0, simulate.RouteEligible), 0.01, 0.95)
	if msg := res.Explain("claims"); res.Needed <= 20*5 || strings.Contains(msg, "so close to the budget") || !strings.Contains(msg, "documents the calibration did not train on") {
		t.Fatalf("clean record on 5: needed %d, %q", res.Needed, msg)
	}
	res = single(t, some(10, 0.99, 0, simulate.RouteReview), 0.05, 0.95)
	if res.Needed != -1 || !strings.Contains(res.Explain("claims"), "rules send all 10") {
		t.Fatalf("nothing eligible: needed %d, %q", res.Needed, res.Explain("claims"))
	}
	res = single(t, nil, 0.01, 0.95)
	if res.Needed != 299 || !strings.Contains(res.Explain("claims"), "at least 299") {
		t.Fatalf("no documents: needed %d, %q", res.Needed, res.Explain("claims"))
	}
	// Every decided document outside the sample: said once, and the
	// notes follow this refusal too.
	res.Unsampled, res.PendingAudits = 7, 2
	if msg := res.Explain("claims"); !strings.Contains(msg, "none of the 7 reviewed documents") || strings.Contains(msg, "7 more reviewed documents") || !strings.Contains(msg, "2 documents drawn for an audit not due yet") {
		t.Fatalf("nothing in the sample: %q", msg)
	}
}

// TestRefusalDoesNotProjectFromALuckyCut: the 58 most confident documents
// are right and the 59th is wrong. The run of 58 without an error is the
// luckiest cut of the data: projected from its rate of 0 it would take 3
// more documents. With the wrong document in, 1 of 59 (1.69%): n accepted
// bring ceil(n/59) wrong, and the first n that passes is 153 (3 wrong,
// p = 0.0494; of the n that bring 2 wrong, not even the largest, 118,
// passes). With
// more documents the strictest threshold, 58 of 159, is the first tested:
// it reaches 153 at ceil(153·159/58) = 420 documents, 261 more.
func TestRefusalDoesNotProjectFromALuckyCut(t *testing.T) {
	samples := join(
		some(58, 0.99, 0, simulate.RouteEligible),
		some(1, 0.985, 1, simulate.RouteEligible),
		some(100, 0.5, 10, simulate.RouteEligible),
	)
	res := single(t, samples, 0.05, 0.95)
	if res.Certified != nil || res.Stopped == nil || res.Stopped.Wrong != 1 || res.Stopped.Accepted != 59 {
		t.Fatalf("certified %+v stopped %+v, want a failure at 1 of 59", res.Certified, res.Stopped)
	}
	if res.Needed != 261 {
		t.Fatalf("needed %d, want 261", res.Needed)
	}
}

// TestRefusalCountsTheFirstTest: 2 of the 60 most confident documents are
// wrong, 1 of the 140 after them. The first test, 2 of 60, fails and ends
// the sequence; 3 of all 200 would pass, but only if 2 of 60 had. More
// documents going like these make the strictest threshold the first test
// for good, at the larger of its rate (2 of 60) and 3 of 200: ceil(n/30) of
// n wrong. The first n that passes is 506 (17 wrong, p = 0.0497; 505, also
// with 17 wrong: 0.0507), at 60 of 200 accepted: ceil(506·200/60) = 1687
// documents, 1487 more. The earlier projection said 1 more: 3 of 200 pass.
func TestRefusalCountsTheFirstTest(t *testing.T) {
	samples := join(
		some(60, 0.99, 2, simulate.RouteEligible),
		some(140, 0.9, 1, simulate.RouteEligible),
	)
	res := single(t, samples, 0.05, 0.95)
	if res.Certified != nil || res.Stopped == nil || res.Stopped.Accepted != 60 || res.Stopped.Wrong != 2 || res.Tested != 1 {
		t.Fatalf("certified %+v stopped %+v after %d tests, want a failure at the first, 2 of 60", res.Certified, res.Stopped, res.Tested)
	}
	if res.Needed != 1487 {
		t.Fatalf("needed %d, want 1487", res.Needed)
	}
	// The same by brute force: the least n past 60 whose projection passes.
	for n := 61; ; n++ {
		if quality.BinomialCDF(int(math.Ceil(float64(n)/30)), n, 0.05) <= 0.05 {
			if n != 506 {
				t.Fatalf("brute force finds %d, not 506", n)
			}
			break
		}
	}
}

// TestSecondStartRecoversFromAnEarlyError: at 5% and 95%, the first start
// is at 61 accepted documents with 0.045 (0.95^61 = 0.0438 passes, 0.95^60
// does not), the second at 146 with 0.005 and one error allowed
// (P(Bin(146, 0.05) <= 1) = 0.00486; at 145, 0.00508). One wrong document
// among the 61 most confident fails the first start (p = 0.1843); the 39
// after them are not tested; at 200 accepted (2 wrong) the second start
// tests with its 0.005 and passes (p = 0.002336), and 4 of 300 passes at
// the level it carries (p = 0.000691). A single sequence stops for good at
// its first test, 1 of 61 (p = 0.1843 > 0.05).
func TestSecondStartRecoversFromAnEarlyError(t *testing.T) {
	samples := join(
		some(61, 0.99, 1, simulate.RouteEligible),
		some(39, 0.98, 0, simulate.RouteEligible),
		some(100, 0.95, 1, simulate.RouteEligible),
		some(100, 0.9, 2, simulate.RouteEligible),
	)
	res := test(t, samples, 0.05, 0.95)
	if res.MinAccepted != 61 || res.FallbackAccepted != 146 {
		t.Fatalf("starts at %d and %d, want 61 and 146", res.MinAccepted, res.FallbackAccepted)
	}
	type step struct {
		threshold, alpha, p float64
		passed              bool
	}
	want := []step{{0.99, 0.045, 0.18427919594780778, false}, {0.95, 0.005, 0.0023362941900638987, true}, {0.9, 0.005, 0.0006908339871182038, true}}
	if len(res.Steps) != len(want) {
		t.Fatalf("steps %+v, want %+v", res.Steps, want)
	}
	for i, w := range want {
		s := res.Steps[i]
		if s.Threshold != w.threshold || !near(s.Alpha, w.alpha, 1e-15) || !near(s.PValue, w.p, 1e-12) || s.Passed != w.passed {
			t.Errorf("step %d: %+v, want %+v", i, s, w)
		}
	}
	if c := res.Certified; c == nil || c.Threshold != 0.9 || c.Accepted != 300 || c.Wrong != 4 || res.Stopped != nil {
		t.Fatalf("certified %+v stopped %+v, want 0.9 with 4 of 300", res.Certified, res.Stopped)
	}
	// The certified step's bound is at the level, 95%, as its certificate
	// says (at 99.5%, the confidence it was tested at, it is within the
	// budget too).
	if b, _ := quality.UpperBound(quality.ClopperPearson, 4, 300, 0.95); !near(res.Certified.Bound, b, 1e-12) || b > 0.05 {
		t.Errorf("bound %v, want %v (within 5%%)", res.Certified.Bound, b)
	}
	one := single(t, samples, 0.05, 0.95)
	if one.Certified != nil || one.Tested != 1 || one.Stopped.Accepted != 61 {
		t.Fatalf("single sequence: certified %+v after %d tests, want a stop at its first test", one.Certified, one.Tested)
	}
}

// TestLevelCarriesOn: a sequence that passes from the first start carries
// its level to the second, which then tests at the whole 0.05: 61 clean
// (0.0438 at 0.045), 100 clean (0.00592 at 0.045), 160 with 1 wrong: at
// the second start, with 0.045 + 0.005 (p = 0.00257).
func TestLevelCarriesOn(t *testing.T) {
	samples := join(
		some(61, 0.99, 0, simulate.RouteEligible),
		some(39, 0.98, 0, simulate.RouteEligible),
		some(60, 0.97, 1, simulate.RouteEligible),
	)
	res := test(t, samples, 0.05, 0.95)
	alphas := []float64{0.045, 0.045, 0.05}
	if len(res.Steps) != 3 {
		t.Fatalf("steps %+v, want 3", res.Steps)
	}
	for i, a := range alphas {
		if s := res.Steps[i]; !near(s.Alpha, a, 1e-15) || !s.Passed {
			t.Errorf("step %d: %+v, want passed at %v", i, s, a)
		}
	}
	if !near(res.Steps[2].PValue, 0.0025696636212006376, 1e-12) || res.Certified.Threshold != 0.97 {
		t.Fatalf("certified %+v, want 0.97 (p 0.00257)", res.Certified)
	}
}

// TestPassesExactlyWhenBoundWithinBudget: the binomial test and the
// Clopper-Pearson bound are the two faces of one procedure.
func TestPassesExactlyWhenBoundWithinBudget(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for range 50 {
		var samples []certify.Sample
		for range 400 + r.IntN(800) {
			c := r.Float64()
			samples = append(samples, certify.Sample{Confidence: math.Round(c*1e3) / 1e3, Route: simulate.RouteEligible, Wrong: r.Float64() < 0.04*(1-c)})
		}
		res := test(t, samples, 0.02, 0.9)
		for _, s := range res.Steps {
			bound, err := quality.UpperBound(quality.ClopperPearson, s.Wrong, s.Accepted, 1-s.Alpha)
			if err != nil {
				t.Fatal(err)
			}
			if s.Passed != (bound <= 0.02) {
				t.Fatalf("step %+v: passed %t but bound %v against 0.02", s, s.Passed, bound)
			}
		}
		for _, s := range []*certify.Step{res.Certified, res.Stopped} {
			if s != nil && s.Passed != (s.Bound <= 0.02) {
				t.Fatalf("reported step %+v: passed %t but bound %v against 0.02", s, s.Passed, s.Bound)
			}
		}
	}
}

// TestFamilyWiseError checks the guarantee by simulation. Where every
// threshold's error rate is over the budget (each document wrong with
// probability 0.055, budget 5%, 95%), any certificate is a false one: the
// sequence starts at 61 accepted documents at 0.045, and again at 146 at
// 0.005 allowing one error, so it certifies in at most
// P(Binomial(61, 0.055) = 0) + P(Binomial(146, 0.055) <= 1) = 0.0317 +
// 0.0024 of draws, within 0.05. Where the error
// rate among accepted documents falls as the threshold rises (confidence
// uniform, a document at c wrong with probability 0.3·(1-c)², so at λ the
// rate is 0.1·(1-λ)², over 5% below λ = 0.2929), the certified threshold
// is over the budget in at most 5% of draws, and something is certified in
// most. Both up to Monte Carlo noise (sd 0.009 and 0.015).
func TestFamilyWiseError(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	draw := func(n int, wrong func(c float64) float64) []certify.Sample {
		samples := make([]certify.Sample, n)
		for i := range samples {
			c := r.Float64()
			samples[i] = certify.Sample{Confidence: c, Route: simulate.RouteEligible, Wrong: r.Float64() < wrong(c)}
		}
		return samples
	}
	const draws = 400
	falsely := 0
	for range draws {
		if test(t, draw(1000, func(float64) float64 { return 0.055 }), 0.05, 0.95).Certified != nil {
			falsely++
		}
	}
	if rate := float64(falsely) / draws; rate > 0.05+3*0.009 {
		t.Errorf("every threshold over the budget: %d of %d draws certified one (%.3f), want at most 5%%", falsely, draws, rate)
	}
	bad, certified := 0, 0
	for range draws / 2 {
		res := test(t, draw(300, func(c float64) float64 { return 0.3 * (1 - c) * (1 - c) }), 0.05, 0.95)
		if res.Certified == nil {
			continue
		}
		certified++
		if l := res.Certified.Threshold; 0.1*(1-l)*(1-l) > 0.05 {
			bad++
		}
	}
	if rate := float64(bad) / (draws / 2); rate > 0.05+3*0.015 {
		t.Errorf("%d of %d draws certified a threshold over the budget (%.3f), want at most 5%%", bad, draws/2, rate)
	}
	if certified < draws/4 {
		t.Errorf("only %d of %d draws certified anything", certified, draws/2)
	}
	t.Logf("all over budget: %d of %d certified; falling rate: %d of %d certified, %d over the budget", falsely, draws, certified, draws/2, bad)
}

func TestBadParameters(t *testing.T) {
	for _, c := range [][2]float64{{0, 0.95}, {1, 0.95}, {math.NaN(), 0.95}, {0.01, 1}, {0.01, 0}, {0.01, math.NaN()}, {-0.1, 0.9}} {
		if _, err := certify.Test(nil, c[0], c[1]); err == nil {
			t.Errorf("budget %v level %v: no error", c[0], c[1])
		}
	}
}

func TestFormatThreshold(t *testing.T) {
	for x, want := range map[float64]string{0.99: "0.990", 0.995: "0.995", 0.999: "0.999", 0.9953: "0.9953", 1: "1.000", 0.5: "0.500", 0.87654321: "0.87654321", 0: "0.000"} {
		if got := certify.FormatThreshold(x); got != want {
			t.Errorf("FormatThreshold(%v) = %q, want %q", x, got, want)
		}
	}
}

// TestRefusalBeforeTheSecondStart: one wrong document at the very top and
// 120 right ones after it, each at its own confidence, at 5% and 95%: the
// first start (61) fails on 1 of 61 and the second (146) is not reached
// with 121. Projected with the top's error scaled like the rest, no count
// of documents passes, but more documents do reach the second start, and
// the message says so rather than that more documents will not do.
func TestRefusalBeforeTheSecondStart(t *testing.T) {
	samples := some(1, 0.999, 1, simulate.RouteEligible)
	for i := range 120 {
		samples = append(samples, certify.Sample{Confidence: 0.99 - float64(i)/1000, Route: simulate.RouteEligible})
	}
	res := test(t, samples, 0.05, 0.95)
	if res.Certified != nil || res.Stopped == nil || res.Stopped.Accepted != 61 || res.Stopped.Wrong != 1 {
		t.Fatalf("certified %+v stopped %+v, want a failure at 1 of 61", res.Certified, res.Stopped)
	}
	msg := res.Explain("claims")
	if !strings.Contains(msg, "at 146 accepted ones the test starts again, allowing one wrong document among the most confident (121 could be accepted now)") || strings.Contains(msg, "will not do") {
		t.Fatalf("message %q", msg)
	}
	// 25 more right ones reach the second start, which passes 1 of 146
	// at 0.005 (p = 0.00486).
	for i := range 25 {
		samples = append(samples, certify.Sample{Confidence: 0.5 - float64(i)/1000, Route: simulate.RouteEligible})
	}
	res = test(t, samples, 0.05, 0.95)
	if c := res.Certified; c == nil || c.Accepted != 146 || c.Wrong != 1 || !near(c.Alpha, 0.005, 1e-15) {
		t.Fatalf("with 25 more: certified %+v, want 1 of 146 at 0.005", c)
	}
}

// TestAttemptShares checks the spending of the level over attempts: 0.8,
// then 0.2/(k(k-1)): 0.1, 1/30, 1/60, ...; they sum to 1.
func TestAttemptShares(t *testing.T) {
	for k, want := range map[int]float64{1: 0.8, 2: 0.1, 3: 0.2 / 6, 4: 0.2 / 12, 10: 0.2 / 90} {
		if got := certify.AttemptShare(k); math.Abs(got-want) > 1e-15 {
			t.Errorf("AttemptShare(%d) = %v, want %v", k, got, want)
		}
	}
	sum := 0.0
	for k := 1; k <= 100000; k++ {
		sum += certify.AttemptShare(k)
	}
	// The tail after n attempts is 0.2/n.
	if want := 1 - 0.2/100000; math.Abs(sum-want) > 1e-9 || sum > 1 {
		t.Errorf("shares of 100000 attempts sum to %v, want %v", sum, want)
	}
	// Attempt 2 at 5% and 95%: tested at 1 - 0.05·0.1 = 99.5%; its first
	// start needs 0.95^n <= 0.9·0.005: n = 106 (0.95^105 = 0.00459).
	res, err := certify.TestAttempt(nil, 0.05, 0.95, 2)
	if err != nil {
		t.Fatal(err)
	}
	if res.Level != 0.95 || math.Abs(res.TestedAt-0.995) > 1e-15 || res.Attempt != 2 || res.MinAccepted != 106 {
		t.Errorf("attempt 2: level %v tested at %v attempt %d min %d, want 0.95, 0.995, 2, 106", res.Level, res.TestedAt, res.Attempt, res.MinAccepted)
	}
	if _, err := certify.TestAttempt(nil, 0.05, 0.95, 0); err == nil {
		t.Error("attempt 0 accepted")
	}
}

// TestRepeatedAttemptsKeepTheLevel is the review-more-and-try-again loop:
// every threshold's error rate is over the budget (5.5% against 5%), and
// after each refusal 100 more documents are reviewed and certification is
// tried again, up to 8 times, on all documents so far. Tried at the whole
// level every time, such a loop certifies a threshold over the budget more
// often than the 5% the level states; with each attempt at its share of the
// level it stays within it.
func TestRepeatedAttemptsKeepTheLevel(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const runs, looks = 300, 8
	spent, whole := 0, 0
	for range runs {
		var samples []certify.Sample
		spentDone, wholeDone := false, false
		for look := 1; look <= looks; look++ {
			for range 100 {
				samples = append(samples, certify.Sample{Confidence: r.Float64(), Route: simulate.RouteEligible, Wrong: r.Float64() < 0.055})
			}
			if !spentDone {
				res, err := certify.TestAttempt(samples, 0.05, 0.95, look)
				if err != nil {
					t.Fatal(err)
				}
				if res.Certified != nil {
					spent++
					spentDone = true
				}
			}
			if !wholeDone && test(t, samples, 0.05, 0.95).Certified != nil {
				whole++
				wholeDone = true
			}
		}
	}
	rate := float64(spent) / runs
	if rate > 0.05+3*math.Sqrt(0.05*0.95/runs) {
		t.Errorf("with attempts counted, %d of %d loops certified a threshold over the budget (%.3f), want at most 5%%", spent, runs, rate)
	}
	if whole <= spent {
		t.Errorf("at the whole level every time, %d of %d loops certified, no more than the %d with attempts counted", whole, runs, spent)
	}
	t.Logf("loops that certified a threshold over the budget: %d of %d at the whole level every attempt, %d with attempts counted", whole, runs, spent)
}

// TestWaitFor: what a refusal says to wait for before the next attempt.
// 80 clean documents and 5 wrong at the bottom, at 0.1% and 90%: no count
// going like these is projected (needed -1: the wrong ones end the clean
// run), but the next attempt's first test needs 4709 accepted documents
// (0.999^4709 <= 0.9·0.01) and 85 could be accepted: wait for 4624. At 5%
// and 95% the first attempt certifies (wait 0).
func TestWaitFor(t *testing.T) {
	var samples []certify.Sample
	for i := range 80 {
		samples = append(samples, certify.Sample{Confidence: 0.99 - float64(i)/1000, Route: simulate.RouteEligible})
	}
	for range 5 {
		samples = append(samples, certify.Sample{Confidence: 0.5, Route: simulate.RouteEligible, Wrong: true})
	}
	res, err := certify.TestAttempt(samples, 0.001, 0.9, 1)
	if err != nil {
		t.Fatal(err)
	}
	if res.Certified != nil || res.Needed != -1 || res.NextMinAccepted != 4709 || res.Eligible != 85 || res.WaitFor() != 4624 {
		t.Errorf("at 0.1%%: certified %v, needed %d, next min %d, eligible %d, wait %d; want none, -1, 4709, 85, 4624",
			res.Certified, res.Needed, res.NextMinAccepted, res.Eligible, res.WaitFor())
	}
	if res, err = certify.TestAttempt(samples, 0.05, 0.95, 1); err != nil || res.Certified == nil || res.WaitFor() != 0 {
		t.Errorf("at 5%%: %+v, %v; want certified, wait 0", res, err)
	}
}

// TestBatchRate: the highest rate q with P(Binomial(N, q) <=
// floor(budget·N)) >= 1 - alpha, against the exact binomial sum bisected
// in Python (math.comb, 60 halvings).
func TestBatchRate(t *testing.T) {
	for _, c := range []struct {
		budget  float64
		horizon int
		alpha   float64
		want    float64
	}{
		{0.05, 400, 0.025, 0.032788425},
		{0.05, 2000, 0.025, 0.041318422},
		{0.01, 400, 0.025, 0.004070836},
		{0.02, 1000, 0.05, 0.014114052},
		// No wrong document allowed in 10: 1 - 0.975^(1/10).
		{0.05, 10, 0.025, 0.002528579},
		// 0.29·100 is 28.999999999999996 in floating point; 29 are
		// allowed (with 28 the rate would be 0.256009422).
		{0.29, 100, 0.25, 0.265636701},
	} {
		got := certify.BatchRate(c.budget, c.horizon, c.alpha)
		if !near(got, c.want, 2e-9) || got > c.want+1e-12 && quality.BinomialCDF(int(c.budget*float64(c.horizon)+1e-9), c.horizon, got) < 1-c.alpha {
			t.Errorf("BatchRate(%v, %d, %v) = %.9f, want %.9f", c.budget, c.horizon, c.alpha, got, c.want)
		}
	}
}

// TestBatchCertificateKeepsTheBatch: a certificate of the rate keeps the
// rate, not the batch. Documents are wrong with probability s·(1-c) at
// confidence c (uniform), so the rate among those accepted at λ is
// s·(1-λ)/2. On 4,000 held-out documents with s = 0.1, a 5% certificate of
// the rate passes a threshold whose rate is just under 5%, and the next
// 400 documents it accepts hold more than 20 wrong in about a fifth of
// draws (45 of 200): far more often than 5%. A batch certificate over 400 keeps the
// batch within 5% of draws, at each scale, and still certifies.
func TestBatchCertificateKeepsTheBatch(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	draw := func(n int, s float64) []certify.Sample {
		samples := make([]certify.Sample, n)
		for i := range samples {
			c := r.Float64()
			samples[i] = certify.Sample{Confidence: c, Route: simulate.RouteEligible, Wrong: r.Float64() < s*(1-c)}
		}
		return samples
	}
	batchOver := func(rate float64) bool {
		wrong := 0
		for range 400 {
			if r.Float64() < rate {
				wrong++
			}
		}
		return wrong > 20
	}
	const draws = 200
	for _, s := range []float64{0.06, 0.1, 0.14} {
		rateOver, rateCertified, batchFails, batchCertified := 0, 0, 0, 0
		for range draws {
			samples := draw(4000, s)
			rate, err := certify.TestAttempt(samples, 0.05, 0.95, 1)
			if err != nil {
				t.Fatal(err)
			}
			if rate.Certified != nil {
				rateCertified++
				if batchOver(s * (1 - rate.Certified.Threshold) / 2) {
					rateOver++
				}
			}
			batch, err := certify.TestBatchAttempt(samples, 0.05, 0.95, 400, 1)
			if err != nil {
				t.Fatal(err)
			}
			if batch.Certified == nil {
				continue
			}
			batchCertified++
			if batch.RateBudget != certify.BatchRate(0.05, 400, 0.025) || batch.Budget != 0.05 || batch.Horizon != 400 || batch.Level != 0.95 || batch.Certified.Bound > batch.RateBudget {
				t.Fatalf("batch certificate %+v, certified %+v", batch, batch.Certified)
			}
			if batchOver(s * (1 - batch.Certified.Threshold) / 2) {
				batchFails++
			}
		}
		t.Logf("scale %.2f: the next 400 over 5%% after a rate certificate in %d of %d draws (certified %d), after a batch certificate in %d (certified %d)", s, rateOver, draws, rateCertified, batchFails, batchCertified)
		if rate := float64(batchFails) / draws; rate > 0.05+3*0.0154 {
			t.Errorf("scale %.2f: a batch certificate over 400, then more than 20 wrong of the next 400, in %d of %d draws; want at most 5%%", s, batchFails, draws)
		}
		if s == 0.1 && rateOver < draws/10 {
			t.Errorf("scale 0.1: the rate certificate's next 400 over the budget in only %d of %d draws; the case this test stands on is gone", rateOver, draws)
		}
		if batchCertified < draws*3/4 {
			t.Errorf("scale %.2f: a batch certificate in only %d of %d draws", s, batchCertified, draws)
		}
	}
}

// TestBatchRefusalNamesTheRate: a refused batch certificate says the rate
// its horizon asks for, and that a longer horizon or a certificate of the
// rate asks for less.
func TestBatchRefusalNamesTheRate(t *testing.T) {
	res, err := certify.TestBatchAttempt(some(200, 0.9, 6, simulate.RouteEligible), 0.05, 0.95, 400, 1)
	if err != nil {
		t.Fatal(err)
	}
	msg := res.Explain("claims")
	for _, want := range []string{"at an error budget of 5% over each next 400 accepted documents with 95% confidence", "an error rate within 3.279%", "a longer horizon"} {
		if !strings.Contains(msg, want) {
			t.Errorf("refusal %q does not say %q", msg, want)
		}
	}
	if res.Certified != nil {
		t.Fatalf("6 of 200 wrong (3%%) certified within 3.28%%: %+v", res.Certified)
	}
	if _, err := certify.TestBatchAttempt(nil, 0.05, 0.95, -1, 1); err == nil || !strings.Contains(err.Error(), "horizon must be") {
		t.Fatalf("a negative horizon: %v", err)
	}
	rate, err := certify.TestBatchAttempt(some(200, 0.9, 0, simulate.RouteEligible), 0.05, 0.95, 0, 1)
	if err != nil || rate.Horizon != 0 || rate.RateBudget != 0 || rate.Budget != 0.05 {
		t.Fatalf("horizon 0 is a certificate of the rate: %+v, %v", rate, err)
	}
}
