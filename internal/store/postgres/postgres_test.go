package postgres_test

import (
	"context"
	"errors"
	"testing"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/store/postgres"
	"github.com/countersign/countersign/internal/store/postgres/pgtest"
	"github.com/countersign/countersign/internal/store/storetest"
)

func open(t *testing.T) countersign.Store {
	s, err := postgres.Open(context.Background(), pgtest.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		New: open,
		Exec: func(t *testing.T, s countersign.Store, statement string) {
			tamper(t, s.(*postgres.Store).Pool(), statement)
		},
	})
}

func TestMigrationsAreIdempotent(t *testing.T) {
	url := pgtest.Database(t)
	for range 2 {
		s, err := postgres.Open(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
}

// TestRefusedDataIsNotRetried: data Postgres cannot keep (a NUL character in
// text) is an invalid error, so activities give up instead of retrying
// forever.
func TestRefusedDataIsNotRetried(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	doc := &countersign.Document{ID: "d1", TaskType: "t", TaskTypeVersion: "v", Content: "body", Status: countersign.StatusProcessing}
	if _, _, err := s.CreateDocument(ctx, doc); err != nil {
		t.Fatal(err)
	}
	if err := s.OpenReview(ctx, &countersign.Review{ID: "d1-r1", DocumentID: "d1", TaskType: "t"}); err != nil {
		t.Fatal(err)
	}
	err := s.RecordDecision(ctx, &countersign.Decision{ID: "d1-r1/1", ReviewID: "d1-r1", DocumentID: "d1", Action: countersign.ActionReject, Reason: "bad\x00byte"}, true)
	if !errors.Is(err, countersign.ErrInvalid) {
		t.Fatalf("NUL in a reason: %v, want an invalid error", err)
	}
	nul := &countersign.Document{ID: "d2", TaskType: "t", TaskTypeVersion: "v", Content: "a\x00b", Status: countersign.StatusProcessing}
	if _, _, err := s.CreateDocument(ctx, nul); !errors.Is(err, countersign.ErrInvalid) {
		t.Fatalf("NUL in content: %v, want an invalid error", err)
	}
}
