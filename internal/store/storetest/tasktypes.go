package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/countersign/countersign"
)

func testTaskTypes(t *testing.T, s countersign.Store) {
	ctx := context.Background()
	snap := countersign.TaskTypeSnapshot{Name: "contract-review", Version: "v1", Source: []byte("name: contract-review\n"), CreatedAt: t0}
	for range 2 {
		if err := s.PutTaskType(ctx, snap); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.GetTaskType(ctx, "v1")
	if err != nil || string(got.Source) != string(snap.Source) || got.Name != snap.Name {
		t.Fatalf("GetTaskType = %+v, %v", got, err)
	}
	if _, err := s.GetTaskType(ctx, "v2"); !errors.Is(err, countersign.ErrNotFound) {
		t.Fatalf("GetTaskType(unknown) = %v, want not found", err)
	}
}
