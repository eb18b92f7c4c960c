package storetest

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/countersign/countersign"
)

// testBatchReads: the events and decisions of several documents at once, as
// audit verification reads them, and nothing of the other documents.
func testBatchReads(t *testing.T, s countersign.Store) {
	ctx := context.Background()
	for _, id := range []string{"d1", "d2", "d3"} {
		mustCreate(t, s, id)
	}
	var want []string
	for i, e := range []struct{ doc, typ string }{
		{"d1", countersign.EventDocumentReceived}, {"d2", countersign.EventDocumentReceived}, {"d3", countersign.EventDocumentReceived},
		{"d1", countersign.EventDraftCreated}, {"d3", countersign.EventDocumentFinalized}, {"d1", countersign.EventDocumentFinalized},
	} {
		ev := event(fmt.Sprintf("review/%s/%d", e.doc, i), e.doc, map[string]any{"i": i})
		ev.Type = e.typ
		if _, err := s.AppendAudit(ctx, ev); err != nil {
			t.Fatal(err)
		}
		if e.doc != "d2" && e.typ != countersign.EventDraftCreated {
			want = append(want, ev.ID)
		}
	}
	events, err := s.AuditOfDocuments(ctx, []string{"d3", "d1", "nope"}, []string{countersign.EventDocumentReceived, countersign.EventDocumentFinalized})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i, e := range events {
		got = append(got, e.ID)
		if i > 0 && e.Seq <= events[i-1].Seq {
			t.Fatalf("events out of chain order: %+v", events)
		}
	}
	if !reflect.DeepEqual(got, want) || events[0].Hash == "" || string(events[0].Data) != `{"i":0}` {
		t.Fatalf("AuditOfDocuments(d3, d1; received, finalized) = %v, want %v, whole events", got, want)
	}
	if all, err := s.AuditOfDocuments(ctx, []string{"d1"}, nil); err != nil || len(all) != 3 {
		t.Fatalf("AuditOfDocuments(d1; any type) = %d events, %v; want 3", len(all), err)
	}
	if none, err := s.AuditOfDocuments(ctx, nil, nil); err != nil || len(none) != 0 {
		t.Fatalf("AuditOfDocuments(no documents) = %v, %v", none, err)
	}

	var decided []countersign.Decision
	for _, doc := range []string{"d1", "d2", "d3"} {
		for n := 1; n <= 2; n++ {
			r := newReview(doc, n, t0)
			if err := s.OpenReview(ctx, r); err != nil {
				t.Fatal(err)
			}
			d := countersign.Decision{ID: r.ID + "/1", ReviewID: r.ID, DocumentID: doc, Action: countersign.ActionCorrect,
				Fields: countersign.Fields{"n": float64(n)}, Reason: "r", Actor: "bob", Role: countersign.RoleReviewer,
				Channel: countersign.ChannelWeb, At: t0.Add(time.Duration(3-n) * time.Hour)}
			if err := s.RecordDecision(ctx, &d, true); err != nil {
				t.Fatal(err)
			}
			d.At = d.At.Truncate(time.Microsecond)
			decided = append(decided, d)
		}
	}
	decisions, err := s.DecisionsOfDocuments(ctx, []string{"d3", "d1"})
	if err != nil {
		t.Fatal(err)
	}
	byDoc := map[string][]countersign.Decision{}
	for _, d := range decisions {
		byDoc[d.DocumentID] = append(byDoc[d.DocumentID], d)
	}
	// Each document's in the order they were made: review 2 was decided first.
	wantByDoc := map[string][]countersign.Decision{"d1": {decided[1], decided[0]}, "d3": {decided[5], decided[4]}}
	if len(decisions) != 4 || !reflect.DeepEqual(byDoc, wantByDoc) {
		t.Fatalf("DecisionsOfDocuments(d3, d1) = %+v\nwant %+v", byDoc, wantByDoc)
	}
	if none, err := s.DecisionsOfDocuments(ctx, nil); err != nil || len(none) != 0 {
		t.Fatalf("DecisionsOfDocuments(no documents) = %v, %v", none, err)
	}
}
