package storetest

import (
	"context"
	"testing"

	"github.com/countersign/countersign"
)

func testDecisions(t *testing.T, s countersign.Store) {
	ctx := context.Background()
	mustCreate(t, s, "d1")
	if err := s.OpenReview(ctx, newReview("d1", 1, t0)); err != nil {
		t.Fatal(err)
	}
	d := closeReview(t, s, "d1", countersign.ActionCorrect)
	// A retried activity records the same decision again: nothing changes.
	retry := *d
	retry.Actor = "mallory"
	if err := s.RecordDecision(ctx, &retry, true); err != nil {
		t.Fatal(err)
	}
	got, err := s.Decisions(ctx, "d1")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Actor != "bob" || got[0].Fields["party_a"] != "Acme Corporation" || got[0].Action != countersign.ActionCorrect {
		t.Fatalf("decisions = %+v", got)
	}
	r, err := s.GetReview(ctx, d.ReviewID)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != countersign.ReviewClosed || r.ClosedBy != "bob" || r.Outcome != countersign.ActionCorrect || r.ClosedAt == nil {
		t.Fatalf("review not closed by the decision: %+v", r)
	}
}
