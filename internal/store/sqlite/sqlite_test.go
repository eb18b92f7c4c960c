package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/store/sqlite"
	"github.com/countersign/countersign/internal/store/storetest"
)

func open(t *testing.T) countersign.Store {
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "countersign.db"))
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
			if _, err := s.(*sqlite.Store).DB().ExecContext(context.Background(), statement); err != nil {
				t.Fatalf("%s: %v", statement, err)
			}
		},
	})
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "countersign.db")
	ctx := context.Background()
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	doc := &countersign.Document{ID: "d1", TaskType: "t", TaskTypeVersion: "v", Content: "body", Status: countersign.StatusProcessing}
	if _, _, err := s.CreateDocument(ctx, doc); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.GetDocument(ctx, "d1")
	if err != nil || got.Content != "body" {
		t.Fatalf("after reopening: %+v, %v", got, err)
	}
}
