package certify

import (
	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/quality"
)

// A certificate bounds the error rate among the documents a threshold
// accepts: the chance that a document accepted at it is wrong. What people
// count is different: the wrong documents among the next few hundred it
// accepted. Even at a rate just within the budget, such a batch lands over
// the budget nearly half the time, by chance (at a rate of 4.9%, 40% of
// batches of 400 hold more than 20 wrong). A batch certificate bounds that
// realized rate instead: with probability at least the level, the next
// Horizon documents accepted at the threshold hold at most
// floor(budget·Horizon) wrong ones.
//
// It splits 1 - level in two. BatchShare of it covers the batch's own
// chance: BatchRate is the highest rate at which Horizon accepted documents
// keep the budget with probability at least 1 - BatchShare·(1-level). The
// rest certifies, as Test does, that the rate is within BatchRate. Either
// fails with at most its share, so both hold with probability at least the
// level: the wrong documents of a batch at a rate within BatchRate are
// stochastically fewer than at BatchRate itself.
//
// The price is a stricter rate, at 95%: for 5% over 400 documents, 3.28%;
// over 2,000, 4.13%; over 10,000, 4.59%; for 1% over 400, 0.41%. A batch
// allows floor(budget·Horizon) wrong documents, so the rate is a sawtooth
// in the horizon (at 5%, 419 asks for 3.13%, stricter than 400's 3.28%).
// A horizon so short that the budget allows no wrong document in it
// (under 20 at 5%) asks for 1 - (1 - BatchShare·(1-level))^(1/Horizon):
// 0.25% over 10 at 95%.

// BatchShare is the share of 1 - level a batch certificate leaves to the
// batch's own chance; the rest certifies the rate.
const BatchShare = 0.5

// MaxHorizon bounds the documents a batch certificate covers; beyond it
// the batch's chance is negligible and a rate certificate says as much.
const MaxHorizon = 10_000_000

// BatchRate is the highest error rate q at which horizon accepted
// documents hold at most floor(budget·horizon) wrong ones with
// probability at least 1 - alpha: P(Binomial(horizon, q) <= floor(budget·
// horizon)) >= 1 - alpha, and at most budget (for any alpha up to a
// half it is below it). It is found by bisection to within 1e-9, rounded
// down, so never above the exact value.
func BatchRate(budget float64, horizon int, alpha float64) float64 {
	// A hair over the product (countersign.Certificate.Allowed), so that
	// 29% of 100 allows 29, not the 28 that 0.29·100 = 28.999999999999996
	// would.
	allowed := (&countersign.Certificate{Budget: budget, Horizon: horizon}).Allowed()
	keeps := func(q float64) bool { return quality.BinomialCDF(allowed, horizon, q) >= 1-alpha }
	lo, hi := 0.0, budget
	for hi-lo > 1e-9 {
		mid := (lo + hi) / 2
		if keeps(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

// BatchRateAt is the rate a batch certificate over horizon accepted
// documents tests at level: BatchRate with BatchShare of 1 - level.
func BatchRateAt(budget, level float64, horizon int) float64 {
	return BatchRate(budget, horizon, BatchShare*(1-level))
}

// CheckHorizon says what is wrong with a batch certificate's horizon, or
// nil; 0 asks for a certificate of the rate.
func CheckHorizon(horizon int) error {
	if horizon < 0 || horizon > MaxHorizon {
		return countersign.Errorf(countersign.CodeInvalid, "horizon must be a number of accepted documents from 1 to %d (0 or none: certify the error rate itself), not %d", MaxHorizon, horizon)
	}
	return nil
}

// TestBatchAttempt is TestAttempt for a batch certificate over horizon
// accepted documents (see BatchRate); horizon 0 is TestAttempt. The
// sequence tests the rate BatchRate(budget, horizon, BatchShare·(1-level))
// at level 1 - (1-BatchShare)·(1-level), spread over the attempts as
// TestAttempt does. The result states budget, level and horizon, with
// RateBudget the rate tested.
func TestBatchAttempt(samples []Sample, budget, level float64, horizon, k int) (*Result, error) {
	if horizon == 0 {
		return TestAttempt(samples, budget, level, k)
	}
	if err := Check(budget, level); err != nil {
		return nil, err
	}
	if err := CheckHorizon(horizon); err != nil {
		return nil, err
	}
	rate := BatchRateAt(budget, level, horizon)
	res, err := TestAttempt(samples, rate, 1-(1-BatchShare)*(1-level), k)
	if err != nil {
		return nil, err
	}
	res.Budget, res.RateBudget, res.Horizon, res.Level = budget, rate, horizon, level
	return res, nil
}

// tested is the error rate the sequence tested against: the budget, or a
// batch certificate's stricter rate.
func (r *Result) tested() float64 {
	if r.Horizon > 0 {
		return r.RateBudget
	}
	return r.Budget
}
