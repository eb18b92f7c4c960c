package activities_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/activities"
)

// TestFinalizeAgainReadsItsStepBack: Finalize runs as a local activity, so
// a lost workflow task runs it again with the workflow's clock read anew.
// The second run answers with the final record the first stored and
// records nothing more; another outcome under the same event ID is still a
// conflict, and leaves the document as it was.
func TestFinalizeAgainReadsItsStepBack(t *testing.T) {
	ctx := context.Background()
	first := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	s := processingDocument(t, first)
	a := &activities.Activities{Store: s, TaskTypes: oneTaskType{}, Now: func() time.Time { return first }}
	step := activities.Step{EventID: "review/d1/4", DocumentID: "d1", TaskTypeVersion: "v", PolicyVersion: "p"}
	draft := &countersign.Draft{Fields: countersign.Fields{"party": "Acme"}, Extractor: "rules"}
	in := activities.FinalizeInput{Step: step, Draft: draft, Outcome: countersign.OutcomeAutoAccept, At: first}
	r1, err := a.Finalize(ctx, in)
	if err != nil {
		t.Fatal(err)
	}

	in.At = first.Add(3 * time.Second)
	r2, err := a.Finalize(ctx, in)
	if err != nil {
		t.Fatalf("Finalize again with a later clock: %v, want its first answer", err)
	}
	if r2.Status != countersign.StatusAccepted || !r2.Final.DecidedAt.Equal(first) || r2.Final.Lineage == nil || len(r2.Final.Lineage.AuditEvents) != len(r1.Final.Lineage.AuditEvents) {
		t.Fatalf("second answer %s %+v, want the first: accepted, decided at %v, with its lineage", r2.Status, r2.Final, first)
	}
	events, err := s.DocumentAudit(ctx, "d1")
	if err != nil || len(events) != 1 {
		t.Fatalf("%d events (%v), want the one document.finalized", len(events), err)
	}

	in.Outcome, in.Reasons = countersign.OutcomeReject, []string{"a reject rule"}
	if _, err := a.Finalize(ctx, in); !errors.Is(err, countersign.ErrConflict) {
		t.Fatalf("another outcome under a recorded event ID: %v, want a conflict", err)
	}
	doc, err := s.GetDocument(ctx, "d1")
	if err != nil || doc.Status != countersign.StatusAccepted || !doc.Final.DecidedAt.Equal(first) {
		t.Fatalf("document after the conflict: %+v (%v), want it accepted as first finalized", doc, err)
	}
}

// oneTaskType resolves every version to one task type.
type oneTaskType struct{}

func (oneTaskType) Version(context.Context, string) (*countersign.TaskType, error) {
	return &countersign.TaskType{Name: "t", Version: "v"}, nil
}

func (oneTaskType) Current(ctx context.Context, _ string) (*countersign.TaskType, error) {
	return oneTaskType{}.Version(ctx, "")
}

// staleFirstRead is a store whose first read of a document's trail misses
// what is recorded: a run of a step that read the trail before another
// run of the same step recorded its event.
type staleFirstRead struct {
	countersign.Store
	read bool
}

func (s *staleFirstRead) DocumentAudit(ctx context.Context, id string) ([]countersign.AuditEvent, error) {
	if !s.read {
		s.read = true
		return nil, nil
	}
	return s.Store.DocumentAudit(ctx, id)
}

// TestFinalizeRunningTwiceAtOnce: two runs of Finalize at once (a
// workflow task taken for lost while its local activity still ran), the
// second reading the trail before the first recorded its event: the
// second's record is refused, and it makes the stored final record the
// event's again instead of failing the document.
func TestFinalizeRunningTwiceAtOnce(t *testing.T) {
	ctx := context.Background()
	first := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	s := processingDocument(t, first)
	step := activities.Step{EventID: "review/d1/4", DocumentID: "d1", TaskTypeVersion: "v", PolicyVersion: "p"}
	in := activities.FinalizeInput{Step: step, Draft: &countersign.Draft{Fields: countersign.Fields{"party": "Acme"}}, Outcome: countersign.OutcomeAutoAccept, At: first}
	if _, err := (&activities.Activities{Store: s, TaskTypes: oneTaskType{}, Now: func() time.Time { return first }}).Finalize(ctx, in); err != nil {
		t.Fatal(err)
	}
	in.At = first.Add(2 * time.Second)
	late := &activities.Activities{Store: &staleFirstRead{Store: s}, TaskTypes: oneTaskType{}, Now: func() time.Time { return in.At }}
	r, err := late.Finalize(ctx, in)
	if err != nil || !r.Final.DecidedAt.Equal(first) {
		t.Fatalf("the second run: %+v, %v; want the first run's record, decided at %v", r, err, first)
	}
	doc, err := s.GetDocument(ctx, "d1")
	if err != nil || doc.Status != countersign.StatusAccepted || !doc.Final.DecidedAt.Equal(first) {
		t.Fatalf("stored document %+v, %v; want accepted, decided at %v as its event says", doc, err, first)
	}
}
