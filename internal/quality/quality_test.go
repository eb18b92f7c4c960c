package quality_test

import (
	"encoding/json"
	"maps"
	"math"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/quality"
)

// z95 is the standard normal quantile at 0.95, and z95sq its square,
// 2.7055434540954146 (2.705543454095414567... exactly).
const (
	z95   = 1.6448536269514722
	z95sq = z95 * z95
)

func near(got, want, tol float64) bool { return math.Abs(got-want) <= tol }

func bound(t *testing.T, method string, k, n int, level float64) float64 {
	t.Helper()
	b, err := quality.UpperBound(method, k, n, level)
	if err != nil {
		t.Fatalf("UpperBound(%s, %d, %d, %g): %v", method, k, n, level, err)
	}
	return b
}

// binomialCDF is P(X <= k) for X ~ Binomial(n, p), summed term by term with
// coefficients from math.Lgamma: independent of the package's recurrence.
func binomialCDF(k, n int, p float64) float64 {
	lg := func(x int) float64 { v, _ := math.Lgamma(float64(x)); return v }
	var sum float64
	for i := 0; i <= k; i++ {
		logCoef := lg(n+1) - lg(i+1) - lg(n-i+1)
		sum += math.Exp(logCoef + float64(i)*math.Log(p) + float64(n-i)*math.Log1p(-p))
	}
	return sum
}

func TestMethodNamesMatchSupervision(t *testing.T) {
	if quality.Wilson != countersign.BoundWilson || quality.ClopperPearson != countersign.BoundClopperPearson || quality.ConfidenceSequence != countersign.BoundConfidenceSequence {
		t.Fatalf("methods %q, %q, %q differ from countersign's %q, %q, %q",
			quality.Wilson, quality.ClopperPearson, quality.ConfidenceSequence, countersign.BoundWilson, countersign.BoundClopperPearson, countersign.BoundConfidenceSequence)
	}
}

// The Wilson bound of 0 escaped in 1 audit is z²/(1+z²), so z comes back as
// sqrt(u/(1-u)); this checks the normal quantile in all three branches of
// AS 241. Reference values: z = √2·erfinv(2·level−1) to 30 digits.
func TestNormalQuantileThroughWilson(t *testing.T) {
	for _, c := range []struct {
		level, z float64
	}{
		{0.8, 0.841621233572914363803568103728},      // |q| <= 0.425: central branch
		{0.95, z95},                                  // tail branch, r <= 5
		{0.975, 1.95996398454005385560443064983},     // tail branch
		{0.99, 2.32634787404084076763718923689},      // tail branch
		{1 - 1e-12, 7.03448691004783520569240056856}, // r = sqrt(-ln 1e-12) = 5.26 > 5: far tail branch
	} {
		u := bound(t, quality.Wilson, 0, 1, c.level)
		if z := math.Sqrt(u / (1 - u)); !near(z, c.z, 1e-9) {
			t.Errorf("level %g: z = %.17g, want %.17g", c.level, z, c.z)
		}
	}
	// At p = 1/2 the Wilson bounds at level and 1-level are symmetric about
	// 1/2, (1/2 + z²/4 ± z·s)/(1 + z²/2) summing to 1, which holds only if
	// the quantile below 1/2 is the negated one above.
	for _, level := range []float64{0.6, 0.95, 0.999, 1 - 1e-12} {
		sum := bound(t, quality.Wilson, 1, 2, level) + bound(t, quality.Wilson, 1, 2, 1-level)
		if !near(sum, 1, 1e-12) {
			t.Errorf("level %g: bounds at level and 1-level sum to %.17g, want 1", level, sum)
		}
	}
}

func TestUpperBoundWilson(t *testing.T) {
	for _, c := range []struct {
		name  string
		k, n  int
		level float64
		want  float64
	}{
		// p = 0: (z²/2n + z·z/2n)/(1 + z²/n) = z²/(n + z²)
		// = 2.7055434540954146/62.7055434540954146 = 0.0431467985932703.
		{"0 of 60", 0, 60, 0.95, z95sq / (60 + z95sq)},
		// p = 0.05, z²/2n = 0.0135277172704771, p(1-p)/n = 0.000475,
		// z²/4n² = 0.0000676385863524, sqrt(0.0005426385863524) =
		// 0.0232946042325768, times z = 0.0383162142603531;
		// (0.05 + 0.0135277172704771 + 0.0383162142603531)/1.0270554345409541
		// = 0.0991610852790528.
		{"5 of 100", 5, 100, 0.95, 0.0991610852790528},
		// 3/120: p = 0.025, computed the same way: 0.0609121845544568.
		{"3 of 120", 3, 120, 0.95, 0.0609121845544568},
		{"no audits", 0, 0, 0.95, 1},
		// p = 1: (1 + z²/2n + z²/2n)/(1 + z²/n) = 1.
		{"all escaped", 7, 7, 0.95, 1},
	} {
		if got := bound(t, quality.Wilson, c.k, c.n, c.level); !near(got, c.want, 1e-13) {
			t.Errorf("%s: UpperBound = %.17g, want %.17g", c.name, got, c.want)
		}
	}
}

func TestUpperBoundClopperPearson(t *testing.T) {
	for _, c := range []struct {
		name  string
		k, n  int
		level float64
		want  float64
	}{
		// k = 0: (1-p)^n = 0.05, p = 1 - 0.05^(1/59) = 0.0495076098882269.
		{"0 of 59", 0, 59, 0.95, 1 - math.Pow(0.05, 1.0/59)},
		// k = n-1: P(X <= n-1) = 1 - p^n = 0.05, p = 0.95^(1/n);
		// 0.95^(1/100) = 0.999487198583737708.
		{"99 of 100", 99, 100, 0.95, math.Pow(0.95, 1.0/100)},
		// 0.95^(1/1000) = 0.999948708021090982; the partial sums reach
		// about 10^1000 here, far past the float range.
		{"999 of 1000", 999, 1000, 0.95, math.Pow(0.95, 1.0/1000)},
		// Root of Σ_{i<=3} C(50,i) p^i (1-p)^(50-i) = 0.05, solved to 30
		// digits: 0.147837176364181240548688015139.
		{"3 of 50", 3, 50, 0.95, 0.147837176364181240548688015139},
		{"no audits", 0, 0, 0.95, 1},
		{"all escaped", 4, 4, 0.95, 1},
	} {
		if got := bound(t, quality.ClopperPearson, c.k, c.n, c.level); !near(got, c.want, 1e-12) {
			t.Errorf("%s: UpperBound = %.17g, want %.17g", c.name, got, c.want)
		}
	}
	// At the bound, seeing k or fewer errors has probability 1 - level.
	for _, c := range []struct{ k, n int }{{3, 50}, {1, 20}, {10, 200}, {40, 400}} {
		p := bound(t, quality.ClopperPearson, c.k, c.n, 0.95)
		if cdf := binomialCDF(c.k, c.n, p); !near(cdf, 0.05, 1e-9) {
			t.Errorf("%d of %d: P(X <= %d | p = %.17g) = %.17g, want 0.05", c.k, c.n, c.k, p, cdf)
		}
	}
}

func TestUpperBoundRefusesBadInput(t *testing.T) {
	for _, c := range []struct {
		name   string
		method string
		k, n   int
		level  float64
	}{
		{"unknown method", "wald", 0, 10, 0.95},
		{"empty method", "", 0, 10, 0.95},
		{"level 1", quality.Wilson, 0, 10, 1},
		{"level 0", quality.ClopperPearson, 0, 10, 0},
		{"level NaN", quality.Wilson, 0, 10, math.NaN()},
		{"more escaped than audits", quality.Wilson, 11, 10, 0.95},
		{"negative escaped", quality.ClopperPearson, -1, 10, 0.95},
		{"negative audits", quality.Wilson, 0, -1, 0.95},
	} {
		if _, err := quality.UpperBound(c.method, c.k, c.n, c.level); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}

// The bound never claims a rate below the one observed, and asking for more
// confidence or finding more errors never lowers it.
func TestUpperBoundProperties(t *testing.T) {
	levels := []float64{0.5, 0.8, 0.9, 0.95, 0.975, 0.99, 0.999}
	for _, method := range []string{quality.Wilson, quality.ClopperPearson} {
		for _, n := range []int{1, 2, 5, 10, 30, 59, 100, 250} {
			prevK := make([]float64, len(levels))
			for k := 0; k <= n; k++ {
				prevLevel := 0.0
				for j, level := range levels {
					b := bound(t, method, k, n, level)
					if rate := float64(k) / float64(n); b < rate || b > 1 {
						t.Errorf("%s %d of %d at %g: bound %.17g outside [%g, 1]", method, k, n, level, b, rate)
					}
					if b < prevLevel {
						t.Errorf("%s %d of %d: bound %.17g at %g below %.17g at the level before", method, k, n, b, level, prevLevel)
					}
					if b < prevK[j] {
						t.Errorf("%s %d of %d at %g: bound %.17g below %.17g with one error fewer", method, k, n, level, b, prevK[j])
					}
					prevLevel, prevK[j] = b, b
				}
			}
		}
	}
}

func TestMinAudits(t *testing.T) {
	for _, c := range []struct {
		method        string
		budget, level float64
		want          int
	}{
		// (1-b)^n <= 1-level: n >= ln 0.05/ln 0.95 = 58.40 → 59.
		{quality.ClopperPearson, 0.05, 0.95, 59},
		// z²/(n+z²) <= b: n >= z²(1-b)/b = 2.7055434540954146·19 = 51.41 → 52.
		{quality.Wilson, 0.05, 0.95, 52},
		// ln 0.01/ln 0.99 = 458.21 → 459.
		{quality.ClopperPearson, 0.01, 0.99, 459},
		// z(0.99)² = 5.4118944310543411, ·99 = 535.78 → 536.
		{quality.Wilson, 0.01, 0.99, 536},
		// 0 escaped of 1 audit: z²/(1+z²) = 0.73 and 1 - 0.05 = 0.95.
		{quality.Wilson, 0.8, 0.95, 1},
		{quality.ClopperPearson, 0.95, 0.95, 1},
	} {
		got, err := quality.MinAudits(c.method, c.budget, c.level)
		if err != nil || got != c.want {
			t.Errorf("MinAudits(%s, %g, %g) = %d, %v; want %d", c.method, c.budget, c.level, got, err, c.want)
			continue
		}
		// The minimum is the first n that meets the budget, judged by the
		// same UpperBound the supervisor uses.
		if b := bound(t, c.method, 0, got, c.level); b > c.budget {
			t.Errorf("%s: bound of 0 of %d is %.17g > budget %g", c.method, got, b, c.budget)
		}
		if got > 1 {
			if b := bound(t, c.method, 0, got-1, c.level); b <= c.budget {
				t.Errorf("%s: bound of 0 of %d is %.17g, already within budget %g", c.method, got-1, b, c.budget)
			}
		}
	}
	for _, c := range []struct {
		name          string
		method        string
		budget, level float64
	}{
		{"budget 0", quality.Wilson, 0, 0.95},
		{"budget 1", quality.Wilson, 1, 0.95},
		{"budget NaN", quality.ClopperPearson, math.NaN(), 0.95},
		{"level 1", quality.ClopperPearson, 0.05, 1},
		{"level 0", quality.Wilson, 0.05, 0},
		{"unknown method", "bayes", 0.05, 0.95},
		{"budget too small to audit", quality.ClopperPearson, 1e-300, 0.95},
	} {
		if _, err := quality.MinAudits(c.method, c.budget, c.level); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}

func TestHistogram(t *testing.T) {
	var h quality.Histogram
	h.Add(0.95, false) // 0.95·100 rounds to exactly 95: bucket 95
	h.Add(0.29, true)  // 0.29·100 = 28.999999999999996: still bucket 29
	h.Add(1.0, true)   // 1 has no bucket of its own: the last
	h.Add(0.999, false)
	h.Add(1.7, false) // clamped to 1
	h.Add(-0.2, true) // clamped to 0
	h.Add(0.0049, false)
	h.Add(math.NaN(), true)

	want := quality.Histogram{}
	want[0] = quality.Tally{Audits: 3, Escaped: 2}
	want[29] = quality.Tally{Audits: 1, Escaped: 1}
	want[95] = quality.Tally{Audits: 1}
	want[99] = quality.Tally{Audits: 3, Escaped: 1}
	if h != want {
		t.Fatalf("histogram = %v, want %v", h, want)
	}
	if got := h.Total(); got != (quality.Tally{Audits: 8, Escaped: 4}) {
		t.Errorf("Total = %+v, want 8 audits, 4 escaped", got)
	}
	for _, c := range []struct {
		t    float64
		want quality.Tally
	}{
		{0, quality.Tally{Audits: 8, Escaped: 4}},
		{-1, quality.Tally{Audits: 8, Escaped: 4}},
		{0.01, quality.Tally{Audits: 5, Escaped: 2}},  // buckets 29, 95, 99
		{0.29, quality.Tally{Audits: 5, Escaped: 2}},  // bucket 29 starts at 0.29
		{0.291, quality.Tally{Audits: 4, Escaped: 1}}, // ceil(29.1) = 30
		{0.95, quality.Tally{Audits: 4, Escaped: 1}},  // buckets 95, 99
		{0.96, quality.Tally{Audits: 3, Escaped: 1}},  // bucket 99
		{0.99, quality.Tally{Audits: 3, Escaped: 1}},
		{0.991, quality.Tally{}}, // ceil(99.1) = 100: no bucket starts above 0.99
		{1, quality.Tally{}},
		{2, quality.Tally{}},
	} {
		if got := h.Above(c.t); got != c.want {
			t.Errorf("Above(%g) = %+v, want %+v", c.t, got, c.want)
		}
	}
}

// Every confidence written as a multiple of 0.01 lands in its own bucket,
// and a threshold at that value counts it, whatever float64 rounding does.
func TestHistogramEdges(t *testing.T) {
	var h quality.Histogram
	for i := range quality.Buckets {
		h.Add(float64(i)/100, false)
	}
	for i := range quality.Buckets {
		if h[i].Audits != 1 {
			t.Errorf("bucket %d holds %d audits, want 1", i, h[i].Audits)
		}
		if got := h.Above(float64(i) / 100).Audits; got != quality.Buckets-i {
			t.Errorf("Above(%g) = %d audits, want %d", float64(i)/100, got, quality.Buckets-i)
		}
	}
}

func TestHistogramJSON(t *testing.T) {
	var h quality.Histogram
	h.Add(0.5, true)
	data, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	var back quality.Histogram
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if back != h {
		t.Fatalf("round trip = %v, want %v", back, h)
	}
	var first []map[string]int
	if err := json.Unmarshal(data, &first); err != nil || len(first) != quality.Buckets || first[50]["audits"] != 1 || first[50]["escaped"] != 1 {
		t.Fatalf("histogram serializes as %s", data)
	}
}

func TestThreshold(t *testing.T) {
	// Errors sit at low confidence:
	//   bucket 70: 20 audits, 5 escaped
	//   bucket 80: 20 audits, 3 escaped
	//   bucket 90: 60 audits, 0 escaped
	//   bucket 95: 40 audits, 0 escaped
	// Wilson at 0.95, budget 0.05:
	//   t in (0.70, 0.80]: 3 of 120, p = 0.025: bound 0.0609 > 0.05
	//   t in (0.80, 0.90]: 0 of 100: z²/(100+z²) = 2.7055/102.7055 = 0.0263 <= 0.05
	//   t in (0.90, 0.95]: 0 of 40: 2.7055/42.7055 = 0.0634 > 0.05
	// Clopper-Pearson at 0.95, budget 0.05:
	//   0 of 100: 1 - 0.05^(1/100) = 0.0295 <= 0.05
	var h quality.Histogram
	fill := func(conf float64, audits, escaped int) {
		for i := range audits {
			h.Add(conf, i < escaped)
		}
	}
	fill(0.70, 20, 5)
	fill(0.80, 20, 3)
	fill(0.90, 60, 0)
	fill(0.95, 40, 0)

	for _, c := range []struct {
		name      string
		method    string
		minAudits int
		current   float64
		want      float64
		ok        bool
	}{
		{"first clean threshold above the errors", quality.Wilson, 52, 0.70, 0.81, true},
		{"from below every bucket", quality.Wilson, 52, 0, 0.81, true},
		{"a negative current is no floor", quality.Wilson, 52, -1, 0.81, true},
		{"strictly above current", quality.Wilson, 52, 0.81, 0.82, true},
		{"current between multiples of 0.01", quality.Wilson, 52, 0.855, 0.86, true},
		{"exact bound", quality.ClopperPearson, 59, 0.70, 0.81, true},
		{"minAudits 0 counts only the bound", quality.Wilson, 0, 0.70, 0.81, true},
		// Above 0.90 only the 40 audits of bucket 95 remain: too few to
		// show 0.05 (bound 0.0634).
		{"too few audits left", quality.Wilson, 0, 0.90, 0, false},
		{"more audits required than exist", quality.Wilson, 101, 0.70, 0, false},
		{"current at the top", quality.Wilson, 52, 0.99, 0, false},
		{"current above 1", quality.Wilson, 52, 1.5, 0, false},
	} {
		got, ok, err := quality.Threshold(&h, c.method, 0.05, 0.95, c.minAudits, c.current)
		if err != nil || ok != c.ok || got != c.want {
			t.Errorf("%s: Threshold = %g, %t, %v; want %g, %t", c.name, got, ok, err, c.want, c.ok)
		}
	}

	// Errors at every confidence: 1 in 10 everywhere, so no threshold
	// leaves a clean enough record and the task type goes to review.
	var bad quality.Histogram
	for i := range quality.Buckets {
		for j := range 10 {
			bad.Add(float64(i)/100, j == 0)
		}
	}
	if got, ok, err := quality.Threshold(&bad, quality.Wilson, 0.05, 0.95, 0, 0.5); err != nil || ok {
		t.Errorf("errors everywhere: Threshold = %g, %t, %v; want none", got, ok, err)
	}
	if _, ok, err := quality.Threshold(nil, quality.Wilson, 0.05, 0.95, 0, 0.5); err != nil || ok {
		t.Errorf("nil histogram: ok %t, err %v; want none", ok, err)
	}

	for _, c := range []struct {
		name          string
		method        string
		budget, level float64
		minAudits     int
		current       float64
	}{
		{"unknown method", "wald", 0.05, 0.95, 0, 0.5},
		{"budget 0", quality.Wilson, 0, 0.95, 0, 0.5},
		{"level 1", quality.Wilson, 0.05, 1, 0, 0.5},
		{"negative minAudits", quality.Wilson, 0.05, 0.95, -1, 0.5},
		{"NaN current", quality.Wilson, 0.05, 0.95, 0, math.NaN()},
	} {
		if _, _, err := quality.Threshold(&h, c.method, c.budget, c.level, c.minAudits, c.current); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}

func TestEvaluate(t *testing.T) {
	// Clopper-Pearson at 0.95, budget 0.05: MinAudits = 59.
	//   0 of 58: 1 - 0.05^(1/58) = 0.0503 > 0.05, but too few audits to judge
	//   0 of 59: 1 - 0.05^(1/59) = 0.0495 <= 0.05
	//   1 of 59: above the clean record's bound, and over 0.05
	for _, c := range []struct {
		name      string
		tally     quality.Tally
		minAudits int
		breached  bool
	}{
		{"no audits", quality.Tally{}, 0, false},
		{"bad but too few to judge", quality.Tally{Audits: 10, Escaped: 5}, 0, false},
		{"one short of the minimum", quality.Tally{Audits: 58}, 0, false},
		{"clean at the minimum", quality.Tally{Audits: 59}, 0, false},
		{"one error at the minimum", quality.Tally{Audits: 59, Escaped: 1}, 0, true},
		{"beyond the minimum", quality.Tally{Audits: 200, Escaped: 12}, 0, true},
		{"explicit minimum not reached", quality.Tally{Audits: 59, Escaped: 1}, 100, false},
		{"explicit minimum reached", quality.Tally{Audits: 100, Escaped: 6}, 100, true},
	} {
		e, err := quality.Evaluate(nil, c.tally, quality.ClopperPearson, 0.05, 0.95, c.minAudits)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if e.Breached != c.breached {
			t.Errorf("%s: breached = %t, want %t (%+v)", c.name, e.Breached, c.breached, e)
		}
	}

	e, err := quality.Evaluate(nil, quality.Tally{Audits: 59, Escaped: 1}, quality.ClopperPearson, 0.05, 0.95, 0)
	if err != nil {
		t.Fatal(err)
	}
	// P(X >= 1) = 1 - (1-p)^59 = 0.05: p = 1 - 0.95^(1/59).
	want := quality.Estimate{
		Audits: 59, Escaped: 1, Rate: 1.0 / 59,
		Bound:  bound(t, quality.ClopperPearson, 1, 59, 0.95),
		Lower:  e.Lower,
		Budget: 0.05, Level: 0.95, Method: quality.ClopperPearson,
		MinAudits: 59, Rule: quality.RuleShowMet, Breached: true,
	}
	if !near(e.Lower, -math.Expm1(math.Log(0.95)/59), 1e-12) {
		t.Errorf("lower bound of 1 of 59 = %.17g, want 1 - 0.95^(1/59)", e.Lower)
	}
	if e != want {
		t.Errorf("Evaluate = %+v, want %+v", e, want)
	}
	data, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal(data, &fields); err != nil {
		t.Fatal(err)
	}
	keys := slices.Sorted(maps.Keys(fields))
	wantKeys := []string{"audits", "bound", "breached", "budget", "escaped", "level", "lower", "method", "min_audits", "rate", "rule"}
	if !reflect.DeepEqual(keys, wantKeys) {
		t.Errorf("JSON keys = %v, want %v", keys, wantKeys)
	}

	if e, err := quality.Evaluate(nil, quality.Tally{}, quality.Wilson, 0.05, 0.95, 0); err != nil || e.Rate != 0 || e.Bound != 1 || e.MinAudits != 52 {
		t.Errorf("no audits: %+v, %v; want rate 0, bound 1, min audits 52", e, err)
	}

	for _, c := range []struct {
		name          string
		tally         quality.Tally
		method        string
		budget, level float64
		minAudits     int
	}{
		{"unknown method", quality.Tally{}, "wald", 0.05, 0.95, 0},
		{"budget 1", quality.Tally{}, quality.Wilson, 1, 0.95, 0},
		{"budget 0 with explicit minimum", quality.Tally{}, quality.Wilson, 0, 0.95, 10},
		{"level 0", quality.Tally{}, quality.Wilson, 0.05, 0, 0},
		{"negative minimum", quality.Tally{}, quality.Wilson, 0.05, 0.95, -1},
		{"more escaped than audits", quality.Tally{Audits: 1, Escaped: 2}, quality.Wilson, 0.05, 0.95, 0},
	} {
		if _, err := quality.Evaluate(nil, c.tally, c.method, c.budget, c.level, c.minAudits); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}

// repeat returns n copies of the pair a, b.
func repeat(n int, a, b string) [][2]string {
	out := make([][2]string, n)
	for i := range out {
		out[i] = [2]string{a, b}
	}
	return out
}

func TestCohenKappa(t *testing.T) {
	yesNo := slices.Concat(
		repeat(20, "yes", "yes"),
		repeat(5, "yes", "no"),
		repeat(10, "no", "yes"),
		repeat(15, "no", "no"),
	)
	threeLabels := slices.Concat(
		repeat(4, "a", "a"),
		repeat(3, "b", "b"),
		repeat(1, "c", "c"),
		repeat(1, "a", "b"),
		repeat(1, "b", "c"),
	)
	for _, c := range []struct {
		name  string
		pairs [][2]string
		want  float64
		ok    bool
	}{
		// po = (20+15)/50 = 0.7; A says yes 25/50, B says yes 30/50;
		// pe = 0.5·0.6 + 0.5·0.4 = 0.5; kappa = (0.7-0.5)/(1-0.5) = 0.4.
		{"2x2", yesNo, 0.4, true},
		// po = 8/10; A: a 5, b 4, c 1; B: a 4, b 4, c 2;
		// pe = (5·4 + 4·4 + 1·2)/100 = 0.38; kappa = 0.42/0.62 = 21/31.
		{"3 labels", threeLabels, 21.0 / 31, true},
		// po = 0; pe = 0.5·0.5 + 0.5·0.5 = 0.5; kappa = -0.5/0.5 = -1.
		{"always disagree", [][2]string{{"yes", "no"}, {"no", "yes"}}, -1, true},
		// po = 0, pe = 0 (A only x, B only y): kappa = 0.
		{"disjoint labels", [][2]string{{"x", "y"}, {"x", "y"}}, 0, true},
		// pe = 1·1 = 1: undefined.
		{"one label throughout", repeat(3, "ok", "ok"), 0, false},
		{"no pairs", nil, 0, false},
	} {
		got, ok := quality.CohenKappa(c.pairs)
		if ok != c.ok || !near(got, c.want, 1e-15) {
			t.Errorf("%s: CohenKappa = %.17g, %t; want %.17g, %t", c.name, got, ok, c.want, c.ok)
		}
	}
	// The order of the items does not change a single bit.
	forward, _ := quality.CohenKappa(threeLabels)
	backward := slices.Clone(threeLabels)
	slices.Reverse(backward)
	reversed, _ := quality.CohenKappa(backward)
	if math.Float64bits(forward) != math.Float64bits(reversed) {
		t.Errorf("kappa %.17g forward, %.17g reversed", forward, reversed)
	}
}

func TestPercentAgreement(t *testing.T) {
	for _, c := range []struct {
		name  string
		pairs [][2]string
		want  float64
		ok    bool
	}{
		{"35 of 50", slices.Concat(repeat(35, "a", "a"), repeat(15, "a", "b")), 0.7, true},
		{"all", repeat(4, "x", "x"), 1, true},
		{"none", repeat(4, "x", "y"), 0, true},
		{"no pairs", nil, 0, false},
	} {
		got, ok := quality.PercentAgreement(c.pairs)
		if ok != c.ok || got != c.want {
			t.Errorf("%s: PercentAgreement = %g, %t; want %g, %t", c.name, got, ok, c.want, c.ok)
		}
	}
}

func TestPercentile(t *testing.T) {
	// 1s..10s out of order; nearest rank is ceil(p/100 · 10).
	ds := []time.Duration{7, 3, 10, 1, 9, 2, 8, 5, 4, 6}
	for i := range ds {
		ds[i] *= time.Second
	}
	orig := slices.Clone(ds)
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{
		{50, 5 * time.Second},   // ceil(5) = 5
		{90, 9 * time.Second},   // ceil(9) = 9
		{100, 10 * time.Second}, // ceil(10) = 10
		{95, 10 * time.Second},  // ceil(9.5) = 10
		{10, 1 * time.Second},   // ceil(1) = 1
		{0.1, 1 * time.Second},  // ceil(0.01) = 1
		{0, 1 * time.Second},    // clamped
		{250, 10 * time.Second}, // clamped
	} {
		got, ok := quality.Percentile(ds, c.p)
		if !ok || got != c.want {
			t.Errorf("p%g = %v, %t; want %v", c.p, got, ok, c.want)
		}
	}
	if !slices.Equal(ds, orig) {
		t.Errorf("Percentile reordered its input: %v", ds)
	}
	if got, ok := quality.Percentile(nil, 50); ok || got != 0 {
		t.Errorf("no durations: %v, %t; want 0, false", got, ok)
	}
}
