package quality_test

import (
	"testing"

	"github.com/countersign/countersign/internal/quality"
)

// TestBinomialCDF against sums worked exactly (rational arithmetic) and a
// binomial table, and against the direct sum with Lgamma coefficients.
func TestBinomialCDF(t *testing.T) {
	for _, c := range []struct {
		k, n int
		p    float64
		want float64
	}{
		{2, 10, 0.5, 56.0 / 1024},            // (1 + 10 + 45) / 2^10
		{0, 59, 0.05, 0.048494525249423236},  // 0.95^59
		{0, 299, 0.01, 0.04953625663766248},  // 0.99^299: the fewest clean accepted documents that pass 1% at 95%
		{0, 298, 0.01, 0.050036622866325736}, // 0.99^298: one fewer does not
		{1, 100, 0.05, 0.03708120932735521},  // 0.95^100 + 100·0.05·0.95^99
		{5, 20, 0.3, 0.4163708294474814},     // tables: n=20, p=0.3, x<=5: 0.4164
		{-1, 10, 0.5, 0}, {10, 10, 0.5, 1}, {3, 10, 0, 1}, {3, 10, 1, 0},
	} {
		if got := quality.BinomialCDF(c.k, c.n, c.p); !near(got, c.want, 1e-13) {
			t.Errorf("BinomialCDF(%d, %d, %g) = %.17g, want %.17g", c.k, c.n, c.p, got, c.want)
		}
	}
	for _, c := range []struct {
		k, n int
		p    float64
	}{{7, 500, 0.01}, {40, 1000, 0.05}, {0, 5000, 0.001}, {3, 59, 0.2}} {
		if got, want := quality.BinomialCDF(c.k, c.n, c.p), binomialCDF(c.k, c.n, c.p); !near(got, want, 1e-12*max(1, want)) {
			t.Errorf("BinomialCDF(%d, %d, %g) = %.15g, the direct sum %.15g", c.k, c.n, c.p, got, want)
		}
	}
}
