package workflows_test

import (
	"context"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/workflows"
)

// TestGoldSlippedAfterReview: at a gold rate of 1, opening a review slips a
// gold item into the queue as a document of its own, reviewed under the
// gold policy by its own workflow, which outlives nothing and slips nothing
// further; the real document's review goes on as before.
func TestGoldSlippedAfterReview(t *testing.T) {
	f := newFixture(t, nil)
	in := f.document("contract-review", "msa-northwind-harbor.txt")
	in.Policy.GoldRate = 1
	trigger := countersign.ReviewID(in.DocumentID, 1)
	goldID := countersign.GoldDocumentID("contract-review", trigger)
	goldReview := countersign.ReviewID(goldID, 1)

	// The gold item is in the queue, looking like any other review.
	f.at(30*time.Minute, func() {
		r, err := f.store.GetReview(context.Background(), goldReview)
		if err != nil || r.Status != countersign.ReviewPending || r.TaskType != "contract-review" || r.Kind != countersign.ReviewGate {
			t.Errorf("gold review = %+v, %v; want pending in the contract-review queue", r, err)
		}
	})
	// The rules miss the gold contract's second party (its name breaks
	// across a line): rita corrects the gold draft to the answer, then
	// approves the real document.
	tt, _ := f.types.Get("contract-review")
	gold := f.updateWorkflowAfter(time.Hour, workflows.ReviewWorkflowID(goldID), workflows.DecisionUpdate, workflows.DecisionRequest{
		ReviewID: goldReview, Action: countersign.ActionCorrect, Fields: tt.Gold[0].Answer, Actor: reviewer("rita"), Channel: countersign.ChannelAPI,
	})
	real := f.decideAfter(2*time.Hour, workflows.DecisionRequest{
		ReviewID: trigger, Action: countersign.ActionApprove, Actor: reviewer("rita"), Channel: countersign.ChannelAPI,
	})
	result := f.run(in)
	if result.Status != countersign.StatusAccepted {
		t.Fatalf("real document = %+v", result)
	}
	if gold.result == nil || gold.result.Status != countersign.StatusAccepted || real.result == nil {
		t.Fatalf("gold decision = %+v (%v %v), real decision = %+v", gold.result, gold.rejected, gold.failed, real.result)
	}

	g, err := f.store.GetGold(context.Background(), goldID)
	if err != nil {
		t.Fatal(err)
	}
	if g.Item != tt.Gold[0].ID || g.Trigger != trigger || g.TaskType != "contract-review" {
		t.Fatalf("gold record = %+v", g)
	}
	doc := f.stored(goldID)
	if doc.Content != tt.Gold[0].Content || doc.SubmittedBy != countersign.SystemActor || doc.Route.Mode != countersign.ModeHITL ||
		doc.Route.PolicyVersion != in.Policy.Version+"+gold" || doc.Final == nil || doc.Final.DecidedBy != "rita" {
		t.Fatalf("gold document = %+v, route %+v, final %+v", doc, doc.Route, doc.Final)
	}
	// Recorded truthfully, and nothing after the outcome: no delivery.
	want := "gold.slipped document.received draft.created confidence.scored route.decided review.opened decision.recorded document.finalized"
	if got := f.eventTypes(goldID); got != want {
		t.Fatalf("gold audit events:\n got %s\nwant %s", got, want)
	}
	if got := f.eventTypes(in.DocumentID); got != reviewedEvents {
		t.Fatalf("real audit events:\n got %s\nwant %s", got, reviewedEvents)
	}
	// The gold review slipped nothing in after itself.
	if _, err := f.store.GetGold(context.Background(), countersign.GoldDocumentID("contract-review", goldReview)); err == nil {
		t.Fatal("the gold document's own review slipped in another gold item")
	}
	// Left out of every figure: a scan finds the real document only.
	var scanned []string
	f.store.ScanDocuments(context.Background(), countersign.DocumentFilter{}, func(d *countersign.Document) error {
		scanned = append(scanned, d.ID)
		return nil
	})
	if len(scanned) != 1 || scanned[0] != in.DocumentID {
		t.Fatalf("scan = %v, want only the real document", scanned)
	}
}

// TestGoldRate: at 0.5, every second review slips an item in, the items
// taking turns.
func TestGoldRate(t *testing.T) {
	f := newFixture(t, nil)
	tt, _ := f.types.Get("contract-review")
	var slipped []string
	for i, sample := range []string{"msa-northwind-harbor.txt", "nda-blueheron-cedarridge.txt", "saas-quantumledger-maplestreet.txt", "consulting-lindqvist-fjord.txt"} {
		f.renew()
		// The gold documents wait for a person who does not come.
		f.env.SetDetachedChildWait(false)
		in := f.document("contract-review", sample)
		in.Policy.GoldRate = 0.5
		trigger := countersign.ReviewID(in.DocumentID, 1)
		f.decideAfter(time.Hour, workflows.DecisionRequest{ReviewID: trigger, Action: countersign.ActionReject, Reason: "test " + sample, Actor: reviewer("rita"), Channel: countersign.ChannelAPI})
		f.run(in)
		g, err := f.store.GetGold(context.Background(), countersign.GoldDocumentID("contract-review", trigger))
		switch {
		case i%2 == 0 && err == nil:
			t.Errorf("review %d slipped %s in; at 0.5 only every second does", i+1, g.Item)
		case i%2 == 1 && err != nil:
			t.Errorf("review %d slipped nothing in: %v", i+1, err)
		case err == nil:
			slipped = append(slipped, g.Item)
		}
	}
	if len(slipped) != 2 || slipped[0] != tt.Gold[0].ID || slipped[1] != tt.Gold[1].ID {
		t.Fatalf("items slipped = %v, want %s then %s", slipped, tt.Gold[0].ID, tt.Gold[1].ID)
	}

}
