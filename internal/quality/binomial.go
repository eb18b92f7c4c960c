package quality

import "math"

// BinomialCDF is P(X <= k) for X ~ Binomial(n, p): the p-value of the
// one-sided test of "the rate is above p" after k events in n trials. It is
// 0 for k < 0, 1 for k >= n, and follows the limits at p = 0 and p = 1.
func BinomialCDF(k, n int, p float64) float64 {
	switch {
	case k < 0:
		return 0
	case k >= n:
		return 1
	case p <= 0:
		return 1
	case p >= 1:
		return 0
	}
	return min(math.Exp(logBinomialCDF(k, n, p)), 1)
}
