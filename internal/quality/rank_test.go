package quality_test

import (
	"math"
	"testing"

	"github.com/countersign/countersign/internal/quality"
)

// TestKendallTauBWithTies: the example of SciPy's reference for
// scipy.stats.kendalltau (tau-b by default), x = [12, 2, 1, 12, 2] and
// y = [1, 4, 7, 1, 0], published result -0.47140452079103173. By hand,
// the ten pairs (i, j):
//
//	(0,1) x 12>2  y 1<4  discordant    (1,3) x 2<12 y 4>1  discordant
//	(0,2) x 12>1  y 1<7  discordant    (1,4) x 2=2  y 4>0  tied in x
//	(0,3) x 12=12 y 1=1  tied in both  (2,3) x 1<12 y 7>1  discordant
//	(0,4) x 12>2  y 1>0  concordant    (2,4) x 1<2  y 7>0  discordant
//	(1,2) x 2>1   y 4<7  discordant    (3,4) x 12>2 y 1>0  concordant
//
// C = 2, D = 6, n0 = 10, n1 (x ties) = 2, n2 (y ties) = 1:
// tau-b = (2 - 6) / sqrt((10-2)(10-1)) = -4/sqrt(72) = -0.4714045.
// Pairwise agreement: 2 concordant + 1 tied in both = 3 of 10.
func TestKendallTauBWithTies(t *testing.T) {
	x := []float64{12, 2, 1, 12, 2}
	y := []float64{1, 4, 7, 1, 0}
	tau, ok := quality.KendallTauB(x, y)
	if !ok || math.Abs(tau-(-4/math.Sqrt(72))) > 1e-12 || math.Abs(tau-(-0.47140452079103173)) > 1e-12 {
		t.Fatalf("tau-b = %v, %v; want -0.4714045", tau, ok)
	}
	share, ok := quality.PairwiseAgreement(x, y)
	if !ok || share != 0.3 {
		t.Fatalf("pairwise agreement = %v, %v; want 0.3", share, ok)
	}
}

// TestRankAgreementByHand: small rankings (rank 1 best) worked by hand.
func TestRankAgreementByHand(t *testing.T) {
	for _, tc := range []struct {
		name      string
		x, y      []float64
		tau       float64
		tauOK     bool
		agreement float64
	}{
		// Same strict order of three: C = 3 of 3.
		{"same", []float64{1, 2, 3}, []float64{1, 2, 3}, 1, true, 1},
		// Reversed: D = 3: tau -1, no pair alike.
		{"reversed", []float64{1, 2, 3}, []float64{3, 2, 1}, -1, true, 0},
		// a>b>c against b>a>c: (a,b) D, (a,c) C, (b,c) C: tau (2-1)/3.
		{"one swap", []float64{1, 2, 3}, []float64{2, 1, 3}, 1.0 / 3, true, 2.0 / 3},
		// a>b>c against a>b=c: (a,b) C, (a,c) C, (b,c) tied in y only:
		// n0 3, n1 0, n2 1: tau 2/sqrt(3·2) = 0.8165; the tie disagrees: 2/3.
		{"tie in one", []float64{1, 2, 3}, []float64{1, 2, 2}, 2 / math.Sqrt(6), true, 2.0 / 3},
		// a=b>c in both: (a,b) tied in both, (a,c) C, (b,c) C: tau
		// 2/sqrt(2·2) = 1; all three pairs alike.
		{"same tie", []float64{1, 1, 2}, []float64{1, 1, 2}, 1, true, 1},
		// One ordering ties everything: tau undefined; the pair both tie
		// (none here: y orders a, b) is the only kind that agrees: 0 of 1.
		{"all tied", []float64{1, 1}, []float64{1, 2}, 0, false, 0},
	} {
		tau, ok := quality.KendallTauB(tc.x, tc.y)
		if ok != tc.tauOK || math.Abs(tau-tc.tau) > 1e-12 {
			t.Errorf("%s: tau-b = %v, %v; want %v, %v", tc.name, tau, ok, tc.tau, tc.tauOK)
		}
		share, ok := quality.PairwiseAgreement(tc.x, tc.y)
		if !ok || math.Abs(share-tc.agreement) > 1e-12 {
			t.Errorf("%s: pairwise agreement = %v, %v; want %v", tc.name, share, ok, tc.agreement)
		}
	}
	if _, ok := quality.KendallTauB([]float64{1}, []float64{1}); ok {
		t.Error("tau-b of one item is defined")
	}
	if _, ok := quality.PairwiseAgreement([]float64{1, 2}, []float64{1}); ok {
		t.Error("pairwise agreement of orderings of different lengths is defined")
	}
}

// TestKendallW checks Kendall's W against values computed by hand.
//
// Three raters, four items, no ties: ranks (1,2,3,4), (2,1,4,3),
// (1,3,2,4). Rank sums R = 4, 6, 9, 11, their mean m(n+1)/2 = 7.5,
// S = 3.5² + 1.5² + 1.5² + 3.5² = 29, W = 12·29 / (3²·(4³-4)) = 348/540.
//
// With a tie: (1, 2.5, 2.5, 4) (items 2 and 3 tied: T = 2³-2 = 6),
// (1,2,3,4), (2,1,3,4). R = 4, 5.5, 8.5, 12, S = 12.25 + 4 + 1 + 20.25 =
// 37.5, W = 12·37.5 / (9·60 - 3·6) = 450/522; without the correction it
// would be 450/540.
//
// Two raters without ties: W = (rho + 1) / 2, rho Spearman's
// coefficient. (1,2,3,4,5) against (2,1,4,3,5): Σd² = 4, rho = 1 -
// 6·4/(5·24) = 0.8, W = 0.9.
func TestKendallW(t *testing.T) {
	for _, c := range []struct {
		name   string
		values [][]float64
		want   float64
	}{
		{"no ties", [][]float64{{1, 2, 3, 4}, {2, 1, 4, 3}, {1, 3, 2, 4}}, 348.0 / 540},
		// The same orders in other values: only the order counts.
		{"any values", [][]float64{{0, 10, 20, 30}, {1, 0, 3, 2}, {-5, 7, 6, 9}}, 348.0 / 540},
		{"a tie", [][]float64{{0, 1, 1, 2}, {1, 2, 3, 4}, {2, 1, 3, 4}}, 450.0 / 522},
		{"two raters", [][]float64{{1, 2, 3, 4, 5}, {2, 1, 4, 3, 5}}, 0.9},
		{"all alike", [][]float64{{1, 2, 3}, {1, 2, 3}, {1, 2, 3}, {1, 2, 3}}, 1},
		// Rank sums all equal: no concordance.
		{"none", [][]float64{{1, 2, 3}, {2, 3, 1}, {3, 1, 2}}, 0},
	} {
		w, ok := quality.KendallW(c.values)
		if !ok || math.Abs(w-c.want) > 1e-12 {
			t.Errorf("%s: W = %v, %v; want %v", c.name, w, ok, c.want)
		}
	}
	for name, values := range map[string][][]float64{
		"one rater":       {{1, 2, 3}},
		"one item":        {{1}, {1}},
		"lengths differ":  {{1, 2, 3}, {1, 2}},
		"every item tied": {{1, 1, 1}, {2, 2, 2}},
	} {
		if w, ok := quality.KendallW(values); ok {
			t.Errorf("%s: W = %v, want undefined", name, w)
		}
	}
}
