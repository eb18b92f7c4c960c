package quality

import (
	"cmp"
	"math"
	"slices"
)

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

// KendallW is Kendall's coefficient of concordance of m raters who each
// ordered the same n items: values[j][i] is item i's rank (or any value
// ordered alike, equal values a tie) by rater j. Each rater's values are
// turned into ranks 1..n, tied items taking the mean of the ranks they
// span; then, with R_i the sum of item i's ranks and S the sum of squared
// deviations of R_i from their mean m(n+1)/2,
//
//	W = 12 S / (m²(n³ - n) - m ΣT),  T = Σ (t³ - t) over each rater's ties of t items,
//
// the form corrected for ties (Kendall and Babington Smith 1939; Siegel
// and Castellan, Nonparametric Statistics, 1988). 1 when every rater orders the items alike, 0 when
// the rank sums are all equal. ok is false with fewer than two raters or
// items, when the raters' lengths differ, or when every rater ties every
// item (the denominator is 0).
func KendallW(values [][]float64) (w float64, ok bool) {
	m := len(values)
	if m < 2 {
		return 0, false
	}
	n := len(values[0])
	if n < 2 {
		return 0, false
	}
	sums := make([]float64, n)
	var ties float64
	for _, v := range values {
		if len(v) != n {
			return 0, false
		}
		r, t := midRanks(v)
		ties += t
		for i := range r {
			sums[i] += r[i]
		}
	}
	mean := float64(m) * float64(n+1) / 2
	var s float64
	for _, r := range sums {
		s += (r - mean) * (r - mean)
	}
	fm, fn := float64(m), float64(n)
	denom := fm*fm*(fn*fn*fn-fn) - fm*ties
	if denom <= 0 {
		return 0, false
	}
	return 12 * s / denom, true
}

// midRanks ranks values 1..n, lowest first, tied values taking the mean
// of the ranks they span, and returns the tie term Σ (t³ - t) over the
// groups of t tied values.
func midRanks(values []float64) (ranks []float64, ties float64) {
	order := make([]int, len(values))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(values[a], values[b]) })
	ranks = make([]float64, len(values))
	for start := 0; start < len(order); {
		end := start + 1
		for end < len(order) && values[order[end]] == values[order[start]] {
			end++
		}
		// Ranks start+1 .. end, their mean.
		mid := float64(start+1+end) / 2
		for _, i := range order[start:end] {
			ranks[i] = mid
		}
		if t := float64(end - start); t > 1 {
			ties += t*t*t - t
		}
		start = end
	}
	return ranks, ties
}
