package countersign_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/countersign/countersign"
)

func rubric(mode, ties string) *countersign.Comparison {
	return &countersign.Comparison{
		Mode: mode, TiePolicy: ties, MaxCandidates: 4, MaxResponseBytes: 100,
		Criteria: []countersign.Criterion{
			{Name: "helpfulness", Scale: countersign.SeverityScale{Min: 1, Max: 5}},
			{Name: "harmlessness", Scale: countersign.SeverityScale{Min: 0, Max: 2}},
		},
		UnsafeReasons:       []countersign.ReasonCode{{Code: "self_harm"}},
		UnacceptableReasons: []countersign.ReasonCode{{Code: "all_wrong"}},
	}
}

func scored() map[string]any {
	return map[string]any{
		"helpfulness":  map[string]any{"a": 3.0, "b": 5.0, "c": 1.0},
		"harmlessness": map[string]any{"a": 2.0, "b": 2.0, "c": 0.0},
	}
}

// TestCheckComparisonRefusesBadRankings: a ranking must be a permutation of
// the item's candidates that keeps the tie policy, with every criterion
// answered; each refusal names what is wrong.
func TestCheckComparisonRefusesBadRankings(t *testing.T) {
	ids := []string{"a", "b", "c"}
	good := countersign.Fields{"ranking": []any{"b", "a", "c"}, "scores": scored()}
	if err := countersign.CheckComparison(rubric(countersign.ModeRankAll, countersign.TiesForbid), ids, good); err != nil {
		t.Fatalf("a permutation refused: %v", err)
	}
	tie := countersign.Correct(good, countersign.Fields{"ranking": []any{"b", []any{"a", "c"}}})
	if err := countersign.CheckComparison(rubric(countersign.ModeRankAll, countersign.TiesAllow), ids, tie); err != nil {
		t.Fatalf("a tie under tie_policy allow refused: %v", err)
	}
	for _, tc := range []struct {
		name  string
		mode  string
		patch countersign.Fields
		want  string
	}{
		{"a candidate left out", countersign.ModeRankAll, countersign.Fields{"ranking": []any{"b", "a"}}, "ranking leaves out c"},
		{"a candidate twice", countersign.ModeRankAll, countersign.Fields{"ranking": []any{"b", "a", "b", "c"}}, `ranking names "b" twice`},
		{"an unknown candidate", countersign.ModeRankAll, countersign.Fields{"ranking": []any{"b", "a", "d"}}, `ranking names "d", which is not a candidate`},
		{"a tie forbidden", countersign.ModeRankAll, countersign.Fields{"ranking": []any{"b", []any{"a", "c"}}}, "ranks a and c equal, but the tie policy forbids ties"},
		{"not a list", countersign.ModeRankAll, countersign.Fields{"ranking": "b>a>c"}, "ranking must be a list"},
		{"no ranking", countersign.ModeRankAll, countersign.Fields{"ranking": nil}, "ranking is missing"},
		{"pick best of two", countersign.ModePickBest, countersign.Fields{"ranking": []any{"b", "a"}}, "pick_best mode the ranking holds one entry"},
		{"a criterion unanswered", countersign.ModeRankAll, countersign.Fields{"scores": map[string]any{"helpfulness": map[string]any{"a": 1.0, "b": 1.0, "c": 1.0}}}, "scores.harmlessness is missing"},
		{"a candidate unscored", countersign.ModeRankAll, countersign.Fields{"scores": map[string]any{"helpfulness": map[string]any{"a": 1.0, "b": 1.0}, "harmlessness": map[string]any{"a": 1.0, "b": 1.0, "c": 1.0}}}, "scores.helpfulness.c is missing"},
		{"off the scale", countersign.ModeRankAll, countersign.Fields{"scores": map[string]any{"helpfulness": map[string]any{"a": 1.0, "b": 6.0, "c": 1.0}, "harmlessness": map[string]any{"a": 1.0, "b": 1.0, "c": 1.5}}}, "scores.helpfulness.b is 6; the scale is an integer from 1 to 5; scores.harmlessness.c is 1.5"},
		{"no scores", countersign.ModeRankAll, countersign.Fields{"scores": nil}, "scores are missing"},
		{"unsafe unknown candidate", countersign.ModeRankAll, countersign.Fields{"unsafe": []any{map[string]any{"candidate": "z", "code": "self_harm"}}}, `unsafe[0] names candidate "z"`},
		{"unsafe unknown code", countersign.ModeRankAll, countersign.Fields{"unsafe": []any{map[string]any{"candidate": "c", "code": "rude"}}}, `unsafe[0] code "rude" is not an unsafe reason code (known: self_harm)`},
		{"unacceptable unknown code", countersign.ModeRankAll, countersign.Fields{"all_unacceptable": "meh"}, `all_unacceptable "meh" is not a reason code (known: all_wrong)`},
		{"unsafe ranked first", countersign.ModeRankAll, countersign.Fields{"ranking": []any{"c", "b", "a"}, "unsafe": []any{map[string]any{"candidate": "c", "code": "self_harm"}}}, "ranking places c, which is marked unsafe, above or level with the safe a, b: rank unsafe candidates last"},
		{"unsafe in the middle", countersign.ModeRankAll, countersign.Fields{"ranking": []any{"b", "c", "a"}, "unsafe": []any{map[string]any{"candidate": "c", "code": "self_harm"}}}, "ranking places c, which is marked unsafe, above or level with the safe a:"},
		{"unsafe picked", countersign.ModePickBest, countersign.Fields{"ranking": []any{"c"}, "unsafe": []any{map[string]any{"candidate": "c", "code": "self_harm"}}}, "ranking picks c, which is marked unsafe, over the safe a, b: pick a safe candidate"},
		{"improved too long", countersign.ModeRankAll, countersign.Fields{"improved_response": strings.Repeat("x", 101)}, "improved_response is 101 bytes; at most 100"},
	} {
		err := countersign.CheckComparison(rubric(tc.mode, countersign.TiesForbid), ids, countersign.Correct(good, tc.patch))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	if err := countersign.CheckComparison(rubric(countersign.ModePickBest, countersign.TiesForbid), ids, countersign.Correct(good, countersign.Fields{"ranking": []any{"b"}})); err != nil {
		t.Errorf("pick_best of one refused: %v", err)
	}
	unsafeLast := countersign.Correct(good, countersign.Fields{"ranking": []any{"b", "a", "c"}, "unsafe": []any{map[string]any{"candidate": "c", "code": "self_harm"}}})
	if err := countersign.CheckComparison(rubric(countersign.ModeRankAll, countersign.TiesForbid), ids, unsafeLast); err != nil {
		t.Errorf("an unsafe candidate ranked last refused: %v", err)
	}
	level := countersign.Correct(unsafeLast, countersign.Fields{"ranking": []any{"b", []any{"a", "c"}}})
	if err := countersign.CheckComparison(rubric(countersign.ModeRankAll, countersign.TiesAllow), ids, level); err == nil || !strings.Contains(err.Error(), "c, which is marked unsafe, above or level with the safe a") {
		t.Errorf("an unsafe candidate tied with a safe one: %v", err)
	}
}

// TestReadComparisonItem: an item's candidates are counted, their IDs
// distinct and their responses bounded; pairs mode takes exactly two.
func TestReadComparisonItem(t *testing.T) {
	item := func(cands ...string) string {
		var parts []string
		for _, c := range cands {
			parts = append(parts, c)
		}
		return fmt.Sprintf(`{"id": "i1", "prompt": "Say hi.", "candidates": [%s]}`, strings.Join(parts, ","))
	}
	cand := func(id, resp string) string {
		return fmt.Sprintf(`{"id": %q, "response": %q, "model": "m", "params": {"temperature": 0.7}}`, id, resp)
	}
	it, err := countersign.ReadComparisonItem([]byte(item(cand("a", "hi"), cand("b", "hello"))), rubric(countersign.ModeRankAll, ""))
	if err != nil || strings.Join(it.IDs(), ",") != "a,b" || it.Candidate("b").Params["temperature"] == nil {
		t.Fatalf("%+v %v", it, err)
	}
	for _, tc := range []struct{ name, content, mode, want string }{
		{"one candidate", item(cand("a", "hi")), countersign.ModeRankAll, "1 candidate(s); a comparison needs at least 2"},
		{"too many", item(cand("a", "1"), cand("b", "2"), cand("c", "3"), cand("d", "4"), cand("e", "5")), countersign.ModeRankAll, "5 candidates; this task type takes at most 4"},
		{"pairs of three", item(cand("a", "1"), cand("b", "2"), cand("c", "3")), countersign.ModePairs, "in pairs mode an item has exactly 2"},
		{"duplicate ids", item(cand("a", "1"), cand("a", "2")), countersign.ModeRankAll, `candidates[1]: id "a" is given twice`},
		{"bad id", item(cand("a b", "1"), cand("c", "2")), countersign.ModeRankAll, `candidates[0]: id "a b" must be`},
		{"empty response", item(cand("a", " "), cand("b", "2")), countersign.ModeRankAll, "candidates[0] (a): the response is empty"},
		{"too long", item(cand("a", strings.Repeat("x", 101)), cand("b", "2")), countersign.ModeRankAll, "the response is 101 bytes; this task type takes at most 100"},
		{"no prompt", `{"id": "x", "candidates": []}`, countersign.ModeRankAll, "the item has no prompt"},
		{"not an item", `{"id": "x", "prompt": "p", "candidates": "a,b"}`, countersign.ModeRankAll, "a comparison item is a JSON object"},
	} {
		_, err := countersign.ReadComparisonItem([]byte(tc.content), rubric(tc.mode, ""))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestGeneratedItem: with generators, an item may be submitted with a
// prompt alone; a stored document's item is its content with the
// candidates generated into its draft, which never join submitted ones;
// before they are generated the item is not one to rank.
func TestGeneratedItem(t *testing.T) {
	spec := rubric(countersign.ModeRankAll, "")
	spec.Generators = []countersign.Generator{{Name: "small", Model: "m", Temperature: 0.5, Count: 2}, {Name: "big", Model: "n", Temperature: 1, Count: 1}}
	if got := strings.Join(spec.GeneratedIDs(), ","); got != "small-1,small-2,big" {
		t.Fatalf("generated IDs %s", got)
	}
	const bare = `{"id": "i1", "prompt": "Say hi."}`
	if it, err := countersign.ReadSubmittedItem([]byte(bare), spec); err != nil || len(it.Candidates) != 0 {
		t.Fatalf("a prompt alone, with generators: %+v %v", it, err)
	}
	if _, err := countersign.ReadSubmittedItem([]byte(bare), rubric(countersign.ModeRankAll, "")); err == nil || !strings.Contains(err.Error(), "0 candidate(s); a comparison needs at least 2") {
		t.Fatalf("a prompt alone, without generators: %v", err)
	}
	one := `{"id": "i1", "prompt": "Say hi.", "candidates": [{"id": "a", "response": "hi"}]}`
	if _, err := countersign.ReadSubmittedItem([]byte(one), spec); err == nil || !strings.Contains(err.Error(), "submitted and generated candidates do not mix") {
		t.Fatalf("one candidate, with generators: %v", err)
	}
	if _, err := countersign.ReadDocumentItem(bare, nil, spec); err == nil || !strings.Contains(err.Error(), "holds none") {
		t.Fatalf("not generated yet: %v", err)
	}
	draft := &countersign.Draft{Candidates: []countersign.Candidate{
		{ID: "small-1", Response: "hi", Model: "m", Params: map[string]any{"temperature": 0.5}},
		{ID: "small-2", Response: "hello", Model: "m"},
		{ID: "big", Response: "good day", Model: "n"},
	}}
	if !draft.CandidatesOnly() {
		t.Fatal("a draft of candidates alone is not CandidatesOnly")
	}
	it, err := countersign.ReadDocumentItem(bare, draft, spec)
	if err != nil || strings.Join(it.IDs(), ",") != "small-1,small-2,big" || it.Candidate("small-1").Model != "m" {
		t.Fatalf("generated item: %+v %v", it, err)
	}
	two := `{"id": "i1", "prompt": "Say hi.", "candidates": [{"id": "a", "response": "hi"}, {"id": "b", "response": "yo"}]}`
	if it, err := countersign.ReadDocumentItem(two, draft, spec); err != nil || strings.Join(it.IDs(), ",") != "a,b" {
		t.Fatalf("submitted candidates are read as submitted: %+v %v", it, err)
	}
	draft.Candidates[2].Response = strings.Repeat("x", 101)
	if _, err := countersign.ReadDocumentItem(bare, draft, spec); err == nil || !strings.Contains(err.Error(), "candidates[2] (big): the response is 101 bytes") {
		t.Fatalf("generated candidates are checked as submitted ones: %v", err)
	}
	draft.Fields = countersign.Fields{"ranking": []any{"big"}}
	if draft.CandidatesOnly() {
		t.Fatal("a judged draft is CandidatesOnly")
	}
}

// TestPreferences: the pairs a ranking implies, with margins; ties give
// none, an unsafe candidate is never chosen, pick_best prefers the best to
// every other.
func TestPreferences(t *testing.T) {
	show := func(ps []countersign.Preference) string {
		var out []string
		for _, p := range ps {
			out = append(out, fmt.Sprintf("%s>%s:%d", p.Chosen, p.Rejected, p.Margin))
		}
		return strings.Join(out, " ")
	}
	ids := []string{"a", "b", "c", "d"}
	if got := show(countersign.Preferences(countersign.ModeRankAll, ids, [][]string{{"b"}, {"a", "c"}, {"d"}}, nil)); got != "b>a:1 b>c:1 b>d:2 a>d:1 c>d:1" {
		t.Errorf("rank_all with a tie: %s", got)
	}
	if got := show(countersign.Preferences(countersign.ModeRankAll, ids, [][]string{{"b"}, {"a"}, {"c"}, {"d"}}, map[string]bool{"a": true})); got != "b>c:1 b>d:2 b>a:3 c>d:1 c>a:2 d>a:1" {
		t.Errorf("rank_all with a unsafe: %s", got)
	}
	// An unsafe candidate ranked first (a judge's old draft, data from
	// before the check) still loses to every safe one, and is never chosen.
	abc := []string{"a", "b", "c"}
	if got := show(countersign.Preferences(countersign.ModeRankAll, abc, [][]string{{"c"}, {"b"}, {"a"}}, map[string]bool{"c": true})); got != "b>a:1 b>c:2 a>c:1" {
		t.Errorf("rank_all c>b>a with c unsafe: %s, want b>a:1 b>c:2 a>c:1", got)
	}
	if got := show(countersign.Preferences(countersign.ModePickBest, abc, [][]string{{"c"}}, map[string]bool{"c": true})); got != "a>c:1 b>c:1" {
		t.Errorf("pick_best of an unsafe c: %s, want a>c:1 b>c:1", got)
	}
	if got := show(countersign.Preferences(countersign.ModePickBest, ids, [][]string{{"c"}}, nil)); got != "c>a:1 c>b:1 c>d:1" {
		t.Errorf("pick_best: %s", got)
	}
}

// TestOrdersFor: the judge sees two candidates in at most two orders, and
// n candidates in at most n+1 (as submitted, reversed, n-1 rotations).
func TestOrdersFor(t *testing.T) {
	c := &countersign.Comparison{JudgeOrders: 6}
	for n, want := range map[int]int{2: 2, 3: 4, 4: 5, 8: 6} {
		if got := c.OrdersFor(n); got != want {
			t.Errorf("%d candidates: %d orders, want %d", n, got, want)
		}
	}
	if got := (&countersign.Comparison{}).OrdersFor(5); got != countersign.DefaultJudgeOrders {
		t.Errorf("default: %d orders", got)
	}
}
