package activities_test

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/countersign/countersign/activities"
	"github.com/countersign/countersign/internal/store/sqlite"
)

// taken counts the units of the first n of a stratum that the draw takes.
func taken(n int64, rate, offset float64) int64 {
	var k int64
	for i := int64(1); i <= n; i++ {
		if activities.SystematicFrom(i, rate, offset) {
			k++
		}
	}
	return k
}

// Each band carries its fraction from one document to the next: of its
// first n documents it audits floor(n·rate + offset), never a whole audit
// fewer than its share; over bands, rate·n on average, for every n, where
// rounding down lost up to one audit per band (defect 4).
func TestAuditDrawKeepsEachBandsShare(t *testing.T) {
	const strata, horizon = 20000, 60
	for _, rate := range []float64{0.1, 0.07, 0.25} {
		sum := make([]float64, horizon+1)
		for i := range strata {
			offset := activities.Offset(activities.Stratum(fmt.Sprintf("type-%d", i), 0.93))
			if offset < 0 || offset >= 1 {
				t.Fatalf("offset %g outside [0,1)", offset)
			}
			var k int64
			for n := int64(1); n <= horizon; n++ {
				if activities.SystematicFrom(n, rate, offset) {
					k++
				}
				if want := int64(math.Floor(float64(n)*rate + offset + 1e-9)); k != want {
					t.Fatalf("rate %g, offset %g: %d of the first %d taken, want floor(n·rate + offset) = %d", rate, offset, k, n, want)
				}
				sum[n] += float64(k)
			}
		}
		// floor(x + U) - x is uniform on (-1, 1)-ish with variance at most
		// 1/4: three standard errors of the mean over the strata.
		margin := 3 * 0.5 / math.Sqrt(strata)
		for n := 1; n <= horizon; n++ {
			if mean := sum[n] / strata; math.Abs(mean-rate*float64(n)) > margin {
				t.Errorf("rate %g: the first %d documents of a band got %.4f audits on average, want %.4f ± %.4f", rate, n, mean, rate*float64(n), margin)
			}
		}
		// A band of one document is audited as often as the rate says.
		if ones := sum[1] / strata; math.Abs(ones-rate) > 3*math.Sqrt(rate*(1-rate)/strata) {
			t.Errorf("rate %g: a band of one was audited in %.4f of strata, want %g", rate, ones, rate)
		}
	}

	// Defect 4: 48 auto-accepted documents over five bands at 10% got 4
	// audits, rounded down per band, and the band of one never any.
	bands := []int64{30, 10, 5, 2, 1}
	var before, after float64
	var oneAudited int
	const types = 5000
	for i := range types {
		for j, n := range bands {
			stratum := activities.Stratum(fmt.Sprintf("claims-%d", i), 0.8+0.05*float64(j))
			before += float64(taken(n, 0.1, 0))
			after += float64(taken(n, 0.1, activities.Offset(stratum)))
			if n == 1 && activities.SystematicFrom(1, 0.1, activities.Offset(stratum)) {
				oneAudited++
			}
		}
	}
	if before/types != 4 {
		t.Fatalf("rounding each band down gives %.2f audits of 48, the defect says 4", before/types)
	}
	if mean := after / types; math.Abs(mean-4.8) > 3*math.Sqrt(5*0.25/types) {
		t.Errorf("48 documents over five bands got %.3f audits on average, want 4.8", mean)
	}
	if share := float64(oneAudited) / types; math.Abs(share-0.1) > 3*math.Sqrt(0.09/types) {
		t.Errorf("the band of one was audited in %.4f of task types, want 0.1", share)
	}

	// The gold draw keeps its start at 0: one after every twentieth.
	for n := int64(1); n <= 60; n++ {
		if got, want := activities.Systematic(n, 0.05), n%20 == 0; got != want {
			t.Errorf("gold draw of review %d: %t, want %t", n, got, want)
		}
	}
}

// A retried draw of the same document gets the same answer, and the answer
// is the stratum's systematic draw from its own offset.
func TestDrawAuditRetriesDrawTheSame(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "countersign.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	a := &activities.Activities{Store: s}
	const rate = 0.3
	stratum := activities.Stratum("claims", 0.97)
	offset := activities.Offset(stratum)
	for i := range 12 {
		in := activities.DrawInput{DocumentID: fmt.Sprintf("d%d", i), TaskType: "claims", Confidence: 0.97, Rate: rate}
		first, err := a.DrawAudit(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		again, err := a.DrawAudit(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if *again != *first {
			t.Fatalf("document %d drawn again: %+v, first %+v", i, again, first)
		}
		if first.N != int64(i+1) || first.Stratum != stratum || first.Sampled != activities.SystematicFrom(first.N, rate, offset) {
			t.Fatalf("document %d: %+v, want number %d in %s, sampled %t", i, first, i+1, stratum, activities.SystematicFrom(first.N, rate, offset))
		}
	}
}
