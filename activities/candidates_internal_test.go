package activities

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/store/sqlite"
)

// TestStoredCandidatesOverAnotherAttempts: two attempts of one drafting
// step ran side by side (the first's heartbeat lost while its worker still
// reached the model and the store); the first recorded its candidates, the
// second wrote its own over them. Recording what the store holds then
// adds a replacement event naming the stored candidates and the event they
// replace, instead of failing the item for good; recording it again, or
// recording the first attempt's candidates, finds its own event.
func TestStoredCandidatesOverAnotherAttempts(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "countersign.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	if _, _, err := s.CreateDocument(ctx, &countersign.Document{ID: "d1", TaskType: "t", TaskTypeVersion: "v", Content: "{}", Status: countersign.StatusProcessing, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	a := &Activities{Store: s, Now: func() time.Time { return now }}
	step := Step{EventID: "review/d1/2", DocumentID: "d1", TaskTypeVersion: "v", PolicyVersion: "p"}
	first := []countersign.Candidate{{ID: "warm", Response: "Canberra.", Model: "m", Params: map[string]any{"temperature": 1.0}}}
	second := []countersign.Candidate{{ID: "warm", Response: "It is Canberra.", Model: "m", Params: map[string]any{"temperature": 1.0}}}
	if err := a.recordStored(ctx, step, first); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := a.recordStored(ctx, step, second); err != nil {
			t.Fatalf("the second attempt's stored candidates: %v, want a replacement event", err)
		}
	}
	if err := a.recordStored(ctx, step, first); err != nil {
		t.Fatalf("the first attempt's candidates again: %v, want its own event found", err)
	}
	events, err := s.DocumentAudit(ctx, "d1")
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 || events[0].ID != CandidatesEventID(step) || !strings.HasPrefix(events[1].ID, CandidatesEventID(step)+"/replaced-") ||
		!strings.Contains(string(events[1].Data), `"replaces":"`+CandidatesEventID(step)+`"`) || events[1].Type != countersign.EventCandidatesGenerated {
		t.Fatalf("events %+v, want the first attempt's candidates.generated and one replacement naming it", events)
	}
}
