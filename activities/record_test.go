package activities_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/activities"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/store/sqlite"
)

// TestRetryAfterUpgradeFindsItsEvent: a worker of an earlier version recorded
// a decision without the "at" its event carries now, then died before
// reporting; the upgraded worker's retry finds that event as its own. Other
// data under the same event ID is still a conflict.
func TestRetryAfterUpgradeFindsItsEvent(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	s := processingDocument(t, now)
	if err := s.OpenReview(ctx, &countersign.Review{ID: "d1-r1", DocumentID: "d1", TaskType: "t", CreatedAt: now, DueAt: now}); err != nil {
		t.Fatal(err)
	}
	d := &countersign.Decision{ID: "d1-r1/1", ReviewID: "d1-r1", DocumentID: "d1", Action: countersign.ActionApprove, Actor: "rita",
		Role: countersign.RoleReviewer, Channel: countersign.ChannelAPI, At: now}
	step := activities.Step{EventID: "review/d1/5", DocumentID: "d1", TaskTypeVersion: "v", PolicyVersion: "p"}
	earlier := func(action countersign.Action) map[string]any {
		return map[string]any{"review_id": d.ReviewID, "decision_id": d.ID, "action": action, "fields": nil, "reason": "", "role": d.Role,
			"versions": map[string]string{"task_type": "v", "policy": "p"}}
	}
	data, _ := audit.Canonical(earlier(d.Action))
	if _, err := s.AppendAudit(ctx, countersign.AuditEvent{ID: step.EventID, DocumentID: "d1", Type: countersign.EventDecisionRecorded, Actor: "rita",
		Channel: countersign.ChannelAPI, At: now, Data: data}); err != nil {
		t.Fatal(err)
	}
	a := &activities.Activities{Store: s, Now: func() time.Time { return now }}
	if err := a.RecordDecision(ctx, activities.DecisionInput{Step: step, Decision: d}); err != nil {
		t.Fatalf("the retry after the upgrade: %v, want its event found", err)
	}

	other := *d
	other.ID, other.Action = "d1-r1/2", countersign.ActionReject
	step.EventID = "review/d1/6"
	data, _ = audit.Canonical(earlier(countersign.ActionApprove))
	if _, err := s.AppendAudit(ctx, countersign.AuditEvent{ID: step.EventID, DocumentID: "d1", Type: countersign.EventDecisionRecorded, Actor: "rita",
		Channel: countersign.ChannelAPI, At: now, Data: data}); err != nil {
		t.Fatal(err)
	}
	if err := a.RecordDecision(ctx, activities.DecisionInput{Step: step, Decision: &other}); !errors.Is(err, countersign.ErrConflict) {
		t.Fatalf("another decision under a recorded event ID: %v, want a conflict", err)
	}
}

// processingDocument is a SQLite store, closed when the test ends, holding
// one document, d1 of task type t at version v, processing since at.
func processingDocument(t *testing.T, at time.Time) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "countersign.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, _, err := s.CreateDocument(context.Background(), &countersign.Document{ID: "d1", TaskType: "t", TaskTypeVersion: "v", Content: "x", Status: countersign.StatusProcessing, CreatedAt: at}); err != nil {
		t.Fatal(err)
	}
	return s
}
