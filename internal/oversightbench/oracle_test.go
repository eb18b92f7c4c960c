package oversightbench

import (
	"errors"
	"math"
	"reflect"
	"testing"

	"github.com/countersign/countersign"
)

func claimNotice() *Notice {
	return &Notice{Truth: countersign.Fields{
		"claim_number": "CLM-2025-004817", "policy_number": "HX-4471-2209",
		"loss_date": "2025-03-12", "report_date": "2025-03-14", "claimant_name": "Maria Gonzalez",
		"amount_claimed": 3420.5, "currency": "USD", "incident_type": "water_damage",
	}}
}

func with(f countersign.Fields, changes countersign.Fields) countersign.Fields {
	return countersign.Correct(f, changes)
}

func TestOracleApprovesWhatIsRight(t *testing.T) {
	n := claimNotice()
	draft := with(n.Truth, countersign.Fields{"claimant_name": "maria  GONZALEZ"})
	for _, kind := range []countersign.ReviewKind{countersign.ReviewGate, countersign.ReviewAudit} {
		d, err := Decide(n, draft, kind)
		if err != nil || d.Action != countersign.ActionApprove || d.Fields != nil {
			t.Errorf("%s of a right draft (a name differing in case and spaces only): %+v, %v; want approve", kind, d, err)
		}
	}
	if !Right(n, draft) {
		t.Error("Right says a right draft is wrong")
	}
}

func TestOracleCorrectsToTheTruth(t *testing.T) {
	n := claimNotice()
	delete(n.Truth, "amount_claimed")
	delete(n.Truth, "currency")
	// A look-alike date, a misread amount the notice does not state, a
	// missing claimant, and an amount invented from the deductible.
	draft := with(n.Truth, countersign.Fields{"loss_date": "2025-03-14", "claimant_name": nil, "amount_claimed": 500.0, "currency": "USD"})
	d, err := Decide(n, draft, countersign.ReviewGate)
	if err != nil {
		t.Fatal(err)
	}
	want := countersign.Fields{"loss_date": "2025-03-12", "claimant_name": "Maria Gonzalez", "amount_claimed": nil, "currency": nil}
	if d.Action != countersign.ActionCorrect || !reflect.DeepEqual(d.Fields, want) {
		t.Fatalf("decision %+v; want a correction %v", d, want)
	}
	if got := countersign.Correct(draft, d.Fields); !Right(n, got) {
		t.Fatalf("the corrected fields %v are still wrong", got)
	}
	if Right(n, draft) || !reflect.DeepEqual(WrongFields(n, draft), []string{"loss_date", "claimant_name", "amount_claimed", "currency"}) {
		t.Fatalf("wrong fields %v", WrongFields(n, draft))
	}
	audit, err := Decide(n, draft, countersign.ReviewAudit)
	if err != nil || audit.Action != countersign.ActionCorrect || !reflect.DeepEqual(audit.Fields, want) {
		t.Fatalf("audit of the same fields: %+v, %v; want the same correction", audit, err)
	}
}

func TestOracleCorrectsAFailedDraft(t *testing.T) {
	n := claimNotice()
	d, err := Decide(n, nil, countersign.ReviewGate)
	if err != nil || d.Action != countersign.ActionCorrect || !reflect.DeepEqual(d.Fields, n.Truth) {
		t.Fatalf("decision on no draft: %+v, %v; want every true field entered", d, err)
	}
}

func TestOracleRejectsWhatIsNotAClaim(t *testing.T) {
	n := &Notice{Truth: countersign.Fields{}, Reject: "not a claim notice: a renewal request"}
	draft := countersign.Fields{"policy_number": "HX-4471-2209"}
	d, err := Decide(n, draft, countersign.ReviewGate)
	if err != nil || d.Action != countersign.ActionReject || d.Reason != n.Reject {
		t.Fatalf("decision: %+v, %v; want a rejection with the reason", d, err)
	}
	if Right(n, draft) || Right(n, countersign.Fields{}) {
		t.Fatal("nothing accepted is right for a document to reject")
	}
	if _, err := Decide(n, draft, countersign.ReviewAudit); !errors.Is(err, ErrCannotAudit) {
		t.Fatalf("audit of an accepted non-claim: %v; want ErrCannotAudit", err)
	}
}

func TestPerfectShare(t *testing.T) {
	for _, c := range []struct {
		n, wrong int
		budget   float64
		want     float64
	}{
		{100, 0, 0.01, 0},
		{100, 1, 0.01, 0},      // 1 of 100 is within 1%
		{100, 2, 0.01, 0.02},   // (2-1)/(1-0.01) = 1.0101: two reviews
		{100, 20, 0.05, 0.16},  // (20-5)/0.95 = 15.8: 16, leaving 4 of 84 = 4.8%
		{200, 50, 0.05, 0.215}, // (50-10)/0.95 = 42.1: 43, leaving 7 of 157 = 4.5%
	} {
		got := PerfectShare(c.n, c.wrong, c.budget)
		r := int(math.Round(got * float64(c.n)))
		left := float64(c.wrong-r) / float64(c.n-r)
		if left > c.budget+1e-12 || r > 0 && float64(c.wrong-r+1)/float64(c.n-r+1) <= c.budget {
			t.Errorf("PerfectShare(%d, %d, %v) = %v: reviewing %d leaves %.4f; not the least that keeps the budget", c.n, c.wrong, c.budget, got, r, left)
		}
		if math.Abs(got-c.want) > 1e-12 {
			t.Errorf("PerfectShare(%d, %d, %v) = %v, want %v", c.n, c.wrong, c.budget, got, c.want)
		}
	}
}

func TestBestThreshold(t *testing.T) {
	docs := []Scored{
		{0.99, false}, {0.98, false}, {0.97, true}, {0.95, false}, {0.95, false},
		{0.9, false}, {0.9, true}, {0.8, false}, {0.5, true}, {0.2, true},
	}
	// Accepting down to 0.95: 1 wrong of 5 (20%); to 0.9: 2 of 7 (28.6%);
	// to 0.8: 2 of 8 (25%); to 0.5: 3 of 9.
	if got := BestThreshold(docs, 0.25); got.Threshold != 0.8 || got.ReviewShare != 0.2 || got.ErrorRate != 0.25 {
		t.Errorf("budget 25%%: %+v; want threshold 0.8, 2 of 10 reviewed", got)
	}
	if got := BestThreshold(docs, 0.2); got.Threshold != 0.95 || got.ReviewShare != 0.5 {
		t.Errorf("budget 20%%: %+v; want threshold 0.95 (ties accepted together), 5 of 10 reviewed", got)
	}
	if got := BestThreshold(docs, 0.0); got.Threshold != 0.98 || got.ReviewShare != 0.8 {
		t.Errorf("budget 0: %+v; want threshold 0.98", got)
	}
	if got := BestThreshold([]Scored{{0.9, true}}, 0.05); got.ReviewShare != 1 || got.Threshold <= 1 {
		t.Errorf("no threshold keeps the budget: %+v; want everything reviewed", got)
	}
}
