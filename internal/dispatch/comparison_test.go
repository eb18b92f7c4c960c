package dispatch

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/store/sqlite"
	"github.com/countersign/countersign/internal/tasktype"
)

const pinnedRanking = `
name: ranking
guideline: Rank the answers.
comparison:
  rubric: [{name: helpfulness, scale: {min: 1, max: 5}}]
  unsafe_reasons: [{code: self_harm}]
  unacceptable_reasons: [{code: all_wrong}]
policy: {mode: hitl}
`

const currentRanking = `
name: ranking
guideline: Label the answer.
fields:
  type: object
  properties:
    ranking: {type: string}
policy: {mode: hitl}
`

// TestCheckComparisonUsesThePinnedVersion: a document pinned to a
// comparison version of a task type is held to CheckComparison even when
// the task type of that name, as loaded now, is no comparison.
func TestCheckComparisonUsesThePinnedVersion(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "countersign.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	pinned, err := tasktype.Parse([]byte(pinnedRanking), "ranking.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutTaskType(ctx, countersign.TaskTypeSnapshot{Name: pinned.Name, Version: pinned.Version, Source: []byte(pinnedRanking), CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	registry, err := tasktype.LoadFS(fstest.MapFS{"ranking.yaml": {Data: []byte(currentRanking)}}, "test")
	if err != nil {
		t.Fatal(err)
	}
	if current, err := registry.Get("ranking"); err != nil || current.Comparison != nil || current.Version == pinned.Version {
		t.Fatalf("the current task type should be another, no comparison: %+v, %v", current, err)
	}
	item := `{"id": "i1", "prompt": "2+2?", "candidates": [{"id": "x", "response": "4"}, {"id": "y", "response": "5"}]}`
	if _, _, err := s.CreateDocument(ctx, &countersign.Document{ID: "d1", TaskType: "ranking", TaskTypeVersion: pinned.Version, Content: item, Status: countersign.StatusAwaitingReview, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	d := &Dispatcher{Store: s, TaskTypes: registry, Resolver: tasktype.NewResolver(registry, s)}
	bad := countersign.Fields{"ranking": []any{"x", "x"}, "scores": map[string]any{"helpfulness": map[string]any{"x": 5.0, "y": 1.0}}}
	err = d.checkComparison(ctx, nil, "d1", countersign.ActionCorrect, bad, "")
	if err == nil || !strings.Contains(err.Error(), `ranking names "x" twice`) || countersign.ErrorCode(err) != countersign.CodeInvalid {
		t.Fatalf("a ranking naming x twice on a document pinned to a comparison: %v", err)
	}
	good := countersign.Fields{"ranking": []any{"x", "y"}, "scores": map[string]any{"helpfulness": map[string]any{"x": 5.0, "y": 1.0}}}
	if err := d.checkComparison(ctx, nil, "d1", countersign.ActionCorrect, good, ""); err != nil {
		t.Fatalf("a good ranking: %v", err)
	}
}
