package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/countersign/countersign"
)

// testUnstartedDocuments: the documents intake stored without their review
// workflow are those still processing, stored before the cut-off, whose
// trail holds nothing but a recovery; oldest first, at most the limit. The
// submission's channel is kept.
func testUnstartedDocuments(t *testing.T, s countersign.Store) {
	ctx := context.Background()
	store := func(id string, at time.Time, status countersign.Status, events ...string) {
		t.Helper()
		doc := newDocument(id)
		doc.CreatedAt, doc.Channel = at, countersign.ChannelCLI
		if _, _, err := s.CreateDocument(ctx, doc); err != nil {
			t.Fatal(err)
		}
		if status != countersign.StatusProcessing {
			if err := s.UpdateDocument(ctx, id, countersign.DocumentUpdate{Status: &status}); err != nil {
				t.Fatal(err)
			}
		}
		for i, typ := range events {
			e := event(id+"/"+string(rune('a'+i)), id, map[string]any{})
			e.Type = typ
			if _, err := s.AppendAudit(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
	}
	store("late", t0.Add(3*time.Minute), countersign.StatusProcessing)
	store("orphan", t0.Add(time.Minute), countersign.StatusProcessing)
	store("recovered", t0.Add(2*time.Minute), countersign.StatusProcessing, countersign.EventDocumentRecovered)
	store("received", t0, countersign.StatusProcessing, countersign.EventDocumentRecovered, countersign.EventDocumentReceived)
	store("running", t0, countersign.StatusProcessing, countersign.EventDocumentReceived)
	store("waiting", t0, countersign.StatusAwaitingReview)
	store("failed", t0, countersign.StatusFailed)
	store("edge", t0.Add(3*time.Minute), countersign.StatusProcessing)

	cut := t0.Add(3 * time.Minute)
	got, err := s.UnstartedDocuments(ctx, cut, 10)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"orphan", "recovered"}; !slices.Equal(got, want) {
		t.Fatalf("UnstartedDocuments(before %s) = %v, want %v", cut.Format(time.TimeOnly), got, want)
	}
	if got, err := s.UnstartedDocuments(ctx, cut.Add(time.Microsecond), 3); err != nil || !slices.Equal(got, []string{"orphan", "recovered", "edge"}) {
		t.Fatalf("UnstartedDocuments(limit 3) = %v, %v; want orphan, recovered, edge", got, err)
	}
	if got, err := s.UnstartedDocuments(ctx, t0, 10); err != nil || len(got) != 0 {
		t.Fatalf("UnstartedDocuments(before the first) = %v, %v; want none", got, err)
	}
	doc, err := s.GetDocument(ctx, "orphan")
	if err != nil || doc.Channel != countersign.ChannelCLI {
		t.Fatalf("GetDocument: channel %q, %v; want cli", doc.Channel, err)
	}
}
