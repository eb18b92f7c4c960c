package export_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/export"
)

// comparisonDocuments are three decided comparison items: a ranking with a
// tie and an unsafe candidate, a pick_best, and one marked all
// unacceptable, with an improved response.
func comparisonDocuments() []*countersign.Document {
	item := func(id string, cands ...string) string {
		var list []map[string]any
		for _, c := range cands {
			list = append(list, map[string]any{"id": c, "response": "answer " + c, "model": "m-" + c})
		}
		raw, _ := json.Marshal(map[string]any{"id": id, "prompt": "prompt " + id, "candidates": list})
		return string(raw)
	}
	doc := func(id, content string, fields countersign.Fields) *countersign.Document {
		return &countersign.Document{
			ID: "doc-" + id, ExternalID: id, TaskType: "ranking", TaskTypeVersion: "tt9", Status: countersign.StatusAccepted, Content: content, CreatedAt: base,
			Draft: &countersign.Draft{Fields: fields, Extractor: "openai", Model: "judge"},
			Final: &countersign.Final{Fields: fields, Outcome: countersign.OutcomeHumanReview, Action: countersign.ActionCorrect, DecidedBy: "rita"},
		}
	}
	scores := map[string]any{"helpfulness": map[string]any{"a": 5.0, "b": 3.0, "c": 3.0, "d": 1.0}}
	return []*countersign.Document{
		doc("tie", item("tie", "a", "b", "c", "d"), countersign.Fields{
			"ranking": []any{"a", []any{"b", "c"}, "d"}, "scores": scores,
			"unsafe":            []any{map[string]any{"candidate": "b", "code": "self_harm"}},
			"improved_response": "a better answer",
		}),
		doc("best", item("best", "a", "b", "c"), countersign.Fields{"ranking": []any{"c"}}),
		doc("none", item("none", "a", "b"), countersign.Fields{"ranking": []any{"a", "b"}, "all_unacceptable": "all_wrong"}),
	}
}

// TestComparisonExports: the pairs a ranking implies (ties give none, an
// unsafe candidate is never chosen, pick_best prefers the best to every
// other, an all-unacceptable item gives none), a ranked line per item,
// and SFT from the improved response only.
func TestComparisonExports(t *testing.T) {
	run := func(format export.Format) []map[string]any {
		var out strings.Builder
		docs := append(testDocuments(), comparisonDocuments()...)
		if _, err := export.Run(t.Context(), &memStore{docs: docs}, (&fakeGuidelines{calls: map[string]int{}}).get, export.Filter{}, format, &out, nil); err != nil {
			t.Fatal(err)
		}
		var lines []map[string]any
		sc := bufio.NewScanner(strings.NewReader(out.String()))
		for sc.Scan() {
			var l map[string]any
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, l)
		}
		return lines
	}
	var pairs []string
	for _, l := range run(export.Pairwise) {
		pairs = append(pairs, fmt.Sprintf("%s:%s>%s:%v:%v", l["item_id"], l["chosen_id"], l["rejected_id"], l["margin"], l["score_margin"]))
		if l["chosen"] != "answer "+l["chosen_id"].(string) || l["prompt"] != "prompt "+l["item_id"].(string) || l["chosen_model"] != "m-"+l["chosen_id"].(string) {
			t.Errorf("pairwise line %v", l)
		}
	}
	// helpfulness scaled over 1..5: a 1, b and c 0.5, d 0.
	// b is unsafe (tied with c in data from before unsafe candidates had
	// to be ranked last): it counts as ranked below every safe candidate,
	// rejected by each, never chosen.
	want := []string{"tie:a>c:1:0.5", "tie:a>d:2:1", "tie:a>b:3:0.5", "tie:c>d:1:0.5", "tie:c>b:2:0", "tie:d>b:1:-0.5", "best:c>a:1:0", "best:c>b:1:0"}
	if !slices.Equal(pairs, want) {
		t.Errorf("pairs %v\nwant  %v", pairs, want)
	}
	ranked := run(export.Ranked)
	if len(ranked) != 3 || fmt.Sprint(ranked[0]["ranking"]) != "[[a] [b c] [d]]" || ranked[2]["all_unacceptable"] != "all_wrong" {
		t.Fatalf("ranked %v", ranked)
	}
	if c := ranked[0]["candidates"].([]any)[1].(map[string]any); c["rank"] != 2.0 || c["unsafe"] != "self_harm" || c["scores"].(map[string]any)["helpfulness"] != 3.0 {
		t.Errorf("ranked candidate b: %v", c)
	}
	if c := ranked[1]["candidates"].([]any)[0].(map[string]any); c["rank"] != 0.0 {
		t.Errorf("pick_best leaves the others unranked: %v", c)
	}
	sft := run(export.Improved)
	if len(sft) != 1 || fmt.Sprint(sft[0]["messages"]) != "[map[content:prompt tie role:user] map[content:a better answer role:assistant]]" {
		t.Errorf("improved %v", sft)
	}
}

// TestScoreMarginOnScale: score_margin scales scores on the criterion's
// declared scale (1..5 in the pinned version tt9), not by the scores the
// item happens to hold: 5 against 4 is 0.25, 5 against 1 is 1.
func TestScoreMarginOnScale(t *testing.T) {
	doc := func(id string, a, b float64) *countersign.Document {
		raw, _ := json.Marshal(map[string]any{"id": id, "prompt": "p", "candidates": []map[string]any{{"id": "a", "response": "x"}, {"id": "b", "response": "y"}}})
		fields := countersign.Fields{"ranking": []any{"a", "b"}, "scores": map[string]any{"helpfulness": map[string]any{"a": a, "b": b}}}
		return &countersign.Document{
			ID: "doc-" + id, ExternalID: id, TaskType: "ranking", TaskTypeVersion: "tt9", Status: countersign.StatusAccepted, Content: string(raw), CreatedAt: base,
			Draft: &countersign.Draft{Fields: fields, Extractor: "openai", Model: "judge"},
			Final: &countersign.Final{Fields: fields, Outcome: countersign.OutcomeHumanReview, Action: countersign.ActionCorrect, DecidedBy: "rita"},
		}
	}
	var out strings.Builder
	store := &memStore{docs: []*countersign.Document{doc("close", 5, 4), doc("far", 5, 1)}}
	if _, err := export.Run(t.Context(), store, (&fakeGuidelines{calls: map[string]int{}}).get, export.Filter{}, export.Pairwise, &out, nil); err != nil {
		t.Fatal(err)
	}
	got := map[string]any{}
	sc := bufio.NewScanner(strings.NewReader(out.String()))
	for sc.Scan() {
		var l map[string]any
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		got[l["item_id"].(string)] = l["score_margin"]
	}
	if got["close"] != 0.25 || got["far"] != 1.0 {
		t.Errorf("score_margin %v, want close 0.25 (5 vs 4 on 1..5), far 1 (5 vs 1)", got)
	}
	// A version that is no comparison cannot scale the scores: the export
	// says so.
	store.docs[0].TaskTypeVersion = "tt1"
	_, err := export.Run(t.Context(), store, (&fakeGuidelines{calls: map[string]int{}}).get, export.Filter{}, export.Pairwise, &strings.Builder{}, nil)
	if err == nil || !strings.Contains(err.Error(), "task type version tt1 is not a comparison") {
		t.Errorf("a version without a rubric: %v", err)
	}
}
