package quality

import "math"

// Rank agreement between two orderings of the same items: x[i] and y[i]
// are item i's rank (or any value ordered alike) in each, equal values
// meaning a tie. A lower value need not mean better: both orderings only
// have to read their values the same way round.

// KendallTauB is Kendall's tau-b between two orderings: (C - D) /
// sqrt((n0 - n1)(n0 - n2)), where C and D count the pairs of items the two
// order the same way and the opposite way, n0 = n(n-1)/2 all pairs, n1
// the pairs x ties and n2 the pairs y ties (a pair both tie is in n1 and
// n2 and in neither C nor D). 1 for the same order, -1 for the reverse.
// ok is false when the lengths differ, with fewer than two items, or when
// either ordering ties every pair (the denominator is 0).
func KendallTauB(x, y []float64) (tau float64, ok bool) {
	c, d, n1, n2, n0, ok := pairCounts(x, y)
	if !ok || n1 == n0 || n2 == n0 {
		return 0, false
	}
	// Integer counts up to the one division: no rounding before it.
	return float64(c-d) / math.Sqrt(float64(n0-n1)*float64(n0-n2)), true
}

// PairwiseAgreement is the share of pairs of items the two orderings
// order alike: both rank the same one higher, or both tie them. A pair
// one ties and the other orders is a disagreement. ok is false when the
// lengths differ or with fewer than two items.
func PairwiseAgreement(x, y []float64) (share float64, ok bool) {
	c, _, _, _, n0, ok := pairCounts(x, y)
	if !ok {
		return 0, false
	}
	var both int64
	for i := range x {
		for j := i + 1; j < len(x); j++ {
			if x[i] == x[j] && y[i] == y[j] {
				both++
			}
		}
	}
	return float64(c+both) / float64(n0), true
}

// pairCounts counts concordant (c) and discordant (d) pairs, the pairs x
// ties (n1) and y ties (n2), of n0 pairs in all.
func pairCounts(x, y []float64) (c, d, n1, n2, n0 int64, ok bool) {
	if len(x) != len(y) || len(x) < 2 {
		return 0, 0, 0, 0, 0, false
	}
	for i := range x {
		for j := i + 1; j < len(x); j++ {
			n0++
			dx, dy := sign(x[i]-x[j]), sign(y[i]-y[j])
			switch {
			case dx == 0 || dy == 0:
				if dx == 0 {
					n1++
				}
				if dy == 0 {
					n2++
				}
			case dx == dy:
				c++
			default:
				d++
			}
		}
	}
	return c, d, n1, n2, n0, true
}

func sign(v float64) int {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}
