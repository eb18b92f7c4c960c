package storetest

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
)

// testGold: gold records round-trip, adding one twice keeps the first, and
// gold documents are scanned only when asked for.
func testGold(t *testing.T, s countersign.Store) {
	ctx := context.Background()
	for i, id := range []string{"real1", "gold1", "real2", "gold2"} {
		doc := newDocument(id)
		doc.CreatedAt = t0.Add(time.Duration(i) * time.Minute)
		if _, _, err := s.CreateDocument(ctx, doc); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.GetGold(ctx, "real1"); !errors.Is(err, countersign.ErrNotFound) {
		t.Fatalf("GetGold(real document) = %v, want not found", err)
	}
	answered := &countersign.GoldDocument{
		DocumentID: "gold1", TaskType: "contract-review", Item: "acme-lease",
		Answer:  countersign.Fields{"party_a": "Acme Corp", "term_months": float64(24), "renewal": true},
		Trigger: "real1-r1", CreatedAt: t0.Add(time.Hour + 123456*time.Nanosecond),
	}
	rejected := &countersign.GoldDocument{
		DocumentID: "gold2", TaskType: "contract-review", Item: "spam",
		Reject: true, Trigger: "real2-r1", CreatedAt: t0.Add(2 * time.Hour),
	}
	for _, g := range []*countersign.GoldDocument{answered, rejected} {
		if err := s.AddGold(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	again := *answered
	again.Item = "other"
	if err := s.AddGold(ctx, &again); err != nil {
		t.Fatalf("AddGold again = %v, want a no-op", err)
	}
	for _, want := range []*countersign.GoldDocument{answered, rejected} {
		got, err := s.GetGold(ctx, want.DocumentID)
		if err != nil {
			t.Fatal(err)
		}
		w := *want
		w.CreatedAt = w.CreatedAt.Truncate(time.Microsecond)
		if !reflect.DeepEqual(got, &w) {
			t.Errorf("GetGold(%s) = %+v, want %+v", want.DocumentID, got, &w)
		}
	}
	if got := strings.Join(scanIDs(t, s, countersign.DocumentFilter{}), ","); got != "real1,real2" {
		t.Errorf("scan without gold = %q, want real1,real2", got)
	}
	if got := strings.Join(scanIDs(t, s, countersign.DocumentFilter{Gold: true}), ","); got != "gold1,gold2" {
		t.Errorf("scan of gold = %q, want gold1,gold2", got)
	}
	if got := strings.Join(scanIDs(t, s, countersign.DocumentFilter{Gold: true, Since: t0.Add(2 * time.Minute)}), ","); got != "gold2" {
		t.Errorf("scan of gold since the third document = %q, want gold2", got)
	}
	if err := s.AddGold(ctx, &countersign.GoldDocument{DocumentID: "nope", TaskType: "x", Item: "y", Trigger: "z", CreatedAt: t0}); err == nil {
		t.Error("AddGold for a document that is not stored succeeded")
	}
}
