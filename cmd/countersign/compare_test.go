package main

import (
	"testing"

	"github.com/countersign/countersign"
)

// TestMergeScores: --score replaces the criteria it gives and keeps the
// draft's others; without draft scores it says there were none to keep.
func TestMergeScores(t *testing.T) {
	draft := map[string]any{
		"helpfulness": map[string]any{"a": 5.0, "b": 1.0},
		"correctness": map[string]any{"a": 4.0, "b": 2.0},
	}
	given := map[string]any{"helpfulness": map[string]any{"a": 2, "b": 4}}
	got, kept := mergeScores(draft, given)
	want := map[string]any{"helpfulness": map[string]any{"a": 2, "b": 4}, "correctness": map[string]any{"a": 4.0, "b": 2.0}}
	if !kept || !countersign.SameValue(got, want) {
		t.Errorf("merged %v (kept %v), want %v", got, kept, want)
	}
	if draft["helpfulness"].(map[string]any)["a"] != 5.0 {
		t.Errorf("the draft was changed: %v", draft)
	}
	if got, kept := mergeScores(nil, given); kept || !countersign.SameValue(got, given) {
		t.Errorf("no draft: %v (kept %v)", got, kept)
	}
}
