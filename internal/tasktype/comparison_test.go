package tasktype_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/schema"
	"github.com/countersign/countersign/internal/tasktype"
)

// TestComparisonDeclaresFields: the example's comparison declares the
// ranking fields, JSON intake by /id, and a schema that holds scores to
// each criterion's scale and codes to the taxonomy.
func TestComparisonDeclaresFields(t *testing.T) {
	src, err := os.ReadFile("../../examples/response-ranking/tasktype.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tt, err := tasktype.Parse(src, "response-ranking.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(tt.FieldOrder, ","); got != "ranking,scores,reasons,unsafe,all_unacceptable,improved_response" {
		t.Fatalf("field order %s", got)
	}
	if got := strings.Join(tt.Required, ","); got != "ranking" {
		t.Fatalf("required %s", got)
	}
	c := tt.Comparison
	if c == nil || c.Mode != countersign.ModeRankAll || c.TiePolicy != countersign.TiesForbid || len(c.Criteria) != 3 || c.Criteria[2].Scale != (countersign.SeverityScale{Min: 1, Max: 5}) || c.Orders() != 2 {
		t.Fatalf("comparison %+v", c)
	}
	if !tt.Input.JSON() || tt.Input.ID != "/id" || tt.Input.Map["category"] != "/category" {
		t.Fatalf("input %+v", tt.Input)
	}
	compiled, err := schema.Compile(tt.Schema)
	if err != nil {
		t.Fatal(err)
	}
	ok := countersign.Fields{
		"ranking": []any{"b", "a"},
		"scores":  map[string]any{"helpfulness": map[string]any{"a": 2.0, "b": 5.0}, "correctness": map[string]any{"a": 1.0, "b": 5.0}, "harmlessness": map[string]any{"a": 5.0, "b": 5.0}},
		"unsafe":  []any{map[string]any{"candidate": "a", "code": "harmful_misinformation"}},
	}
	if err := compiled.Validate(ok); err != nil {
		t.Fatalf("a ranking refused: %v", err)
	}
	for name, patch := range map[string]countersign.Fields{
		"score off the scale":     {"scores": map[string]any{"helpfulness": map[string]any{"a": 9.0}, "correctness": map[string]any{}, "harmlessness": map[string]any{}}},
		"criterion missing":       {"scores": map[string]any{"helpfulness": map[string]any{}}},
		"unknown criterion":       {"scores": map[string]any{"helpfulness": map[string]any{}, "correctness": map[string]any{}, "harmlessness": map[string]any{}, "style": map[string]any{}}},
		"unknown unsafe code":     {"unsafe": []any{map[string]any{"candidate": "a", "code": "rude"}}},
		"unknown unacceptable":    {"all_unacceptable": "meh"},
		"a tie of one":            {"ranking": []any{[]any{"a"}, "b"}},
		"a number in the ranking": {"ranking": []any{1.0, 2.0}},
		"no ranking":              {"ranking": nil},
	} {
		if err := compiled.Validate(countersign.Correct(ok, patch)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestComparisonLoadErrors: what is wrong with a comparison is named by
// its key.
func TestComparisonLoadErrors(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"empty rubric", "comparison: {rubric: [], unsafe_reasons: [{code: x}], unacceptable_reasons: [{code: y}]}", "comparison.rubric: is empty"},
		{"bad mode", "comparison: {mode: vote, rubric: [{name: a, scale: {min: 1, max: 5}}], unsafe_reasons: [{code: x}], unacceptable_reasons: [{code: y}]}", `comparison.mode: unknown mode "vote"`},
		{"bad ties", "comparison: {tie_policy: sometimes, rubric: [{name: a, scale: {min: 1, max: 5}}], unsafe_reasons: [{code: x}], unacceptable_reasons: [{code: y}]}", "comparison.tie_policy"},
		{"bad scale", "comparison: {rubric: [{name: a, scale: {min: 5, max: 1}}], unsafe_reasons: [{code: x}], unacceptable_reasons: [{code: y}]}", "comparison.rubric[0].scale"},
		{"no scale", "comparison: {rubric: [{name: a}], unsafe_reasons: [{code: x}], unacceptable_reasons: [{code: y}]}", "comparison.rubric[0].scale: needs min and max"},
		{"twice", "comparison: {rubric: [{name: a, scale: {min: 1, max: 5}}, {name: a, scale: {min: 1, max: 5}}], unsafe_reasons: [{code: x}], unacceptable_reasons: [{code: y}]}", `comparison.rubric[1].name: "a" is listed twice`},
		{"no unsafe codes", "comparison: {rubric: [{name: a, scale: {min: 1, max: 5}}], unacceptable_reasons: [{code: y}]}", "comparison.unsafe_reasons: is empty"},
		{"too many candidates", "comparison: {max_candidates: 40, rubric: [{name: a, scale: {min: 1, max: 5}}], unsafe_reasons: [{code: x}], unacceptable_reasons: [{code: y}]}", "comparison.max_candidates"},
		{"fields too", "comparison: {rubric: [{name: a, scale: {min: 1, max: 5}}], unsafe_reasons: [{code: x}], unacceptable_reasons: [{code: y}]}\nfields: {type: object, properties: {x: {type: string}}}", "fields: is declared by comparison"},
		{"text input", "comparison: {rubric: [{name: a, scale: {min: 1, max: 5}}], unsafe_reasons: [{code: x}], unacceptable_reasons: [{code: y}]}\ninput: {format: text}", "input.format: a comparison's items are JSON"},
	} {
		_, err := tasktype.Parse([]byte("name: cmp\nguideline: Rank.\n"+tc.yaml+"\n"), "cmp.yaml")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestComparisonGoldHoldsAKnownRanking: a comparison task type's gold item
// may hold a known ranking alone as its answer (the reviewers' report
// compares people's rankings to it); a ranking of the wrong shape is
// refused by the schema.
func TestComparisonGoldHoldsAKnownRanking(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "examples", "response-ranking", "tasktype.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	item := `{"id":"g1","prompt":"p","candidates":[{"id":"a","response":"A"},{"id":"b","response":"B"}]}`
	gold := "\ngold:\n  rate: 0.05\n  items:\n    - id: g1\n      content: '" + item + "'\n      answer: {ranking: [b, a]}\n"
	tt, err := tasktype.Parse(append(raw, gold...), "gold ranking")
	if err != nil {
		t.Fatal(err)
	}
	if len(tt.Gold) != 1 || fmt.Sprint(tt.Gold[0].Answer["ranking"]) != "[b a]" {
		t.Fatalf("gold %+v", tt.Gold)
	}
	bad := strings.Replace(gold, "{ranking: [b, a]}", "{ranking: 7}", 1)
	if _, err := tasktype.Parse(append(raw, bad...), "bad gold ranking"); err == nil || !strings.Contains(err.Error(), "answer") {
		t.Fatalf("a ranking of the wrong shape: %v", err)
	}
}

// TestComparisonGenerators: a comparison's generators are read with their
// defaults (names g1, g2, ... by place, one candidate each) and give the
// candidate IDs the item's candidates get; what is wrong with one is named
// by its key.
func TestComparisonGenerators(t *testing.T) {
	const head = "name: cmp\nguideline: Rank.\nextractor: openai\npolicy: {mode: hitl}\ncomparison:\n  rubric: [{name: a, scale: {min: 1, max: 5}}]\n  unsafe_reasons: [{code: x}]\n  unacceptable_reasons: [{code: y}]\n"
	tt, err := tasktype.Parse([]byte(head+"  generators:\n    - {model: small, temperature: 0.2, count: 2, seed: 7}\n    - {name: big, model: org/big-1, temperature: 1, base_url: 'http://127.0.0.1:9/v1', api_key_env: BIG_KEY, max_output_tokens: 300}\n"), "cmp.yaml")
	if err != nil {
		t.Fatal(err)
	}
	gens := tt.Comparison.Generators
	if len(gens) != 2 || gens[0].Name != "g1" || gens[0].Count != 2 || *gens[0].Seed != 7 || gens[1].Name != "big" || gens[1].Count != 1 || gens[1].Temperature != 1 || gens[1].APIKeyEnv != "BIG_KEY" {
		t.Fatalf("generators %+v", gens)
	}
	if got := strings.Join(tt.Comparison.GeneratedIDs(), ","); got != "g1-1,g1-2,big" {
		t.Fatalf("generated IDs %s", got)
	}
	for _, tc := range []struct{ name, gens, want string }{
		{"no model", "[{temperature: 1, count: 2}]", "comparison.generators[0].model: is required"},
		{"no temperature", "[{model: m, count: 2}]", "comparison.generators[0].temperature: is required"},
		{"hot", "[{model: m, temperature: 3, count: 2}]", "comparison.generators[0].temperature: must be from 0 to 2 (got 3)"},
		{"too few", "[{model: m, temperature: 1}]", "comparison.generators: make 1 candidate(s); a comparison needs at least 2"},
		{"too many", "[{model: m, temperature: 1, count: 9}]", "comparison.generators: make 9 candidates; this task type takes at most 8"},
		{"same name", "[{name: a, model: m, temperature: 1}, {name: a, model: n, temperature: 1}]", `comparison.generators[1].name: "a" is listed twice`},
		{"same ID", "[{name: a, model: m, temperature: 1, count: 2}, {name: a-1, model: n, temperature: 1}]", `comparison.generators[1].name: gives candidate ID "a-1", which generator a gives too`},
		{"bad name", "[{name: 'a b', model: m, temperature: 1}, {model: n, temperature: 1}]", "comparison.generators[0].name: must be 1 to 40 letters"},
		{"bad count", "[{model: m, temperature: 1, count: 0}, {model: n, temperature: 1}]", "comparison.generators[0].count: must be from 1 to 16 (got 0)"},
		{"cold copies", "[{model: m, temperature: 0, count: 2}]", "comparison.generators[0].count: 2 candidates at temperature 0 are the same answer"},
		{"bad endpoint", "[{model: m, temperature: 1, base_url: 'ftp://x'}, {model: n, temperature: 1}]", "comparison.generators[0].base_url: must be an http or https URL"},
		{"key in place of its variable", "[{model: m, temperature: 1, api_key_env: 'sk-abc def'}, {model: n, temperature: 1}]", "comparison.generators[0].api_key_env: must name an environment variable"},
		{"pairs of three", "[{model: m, temperature: 1, count: 3}]\n  mode: pairs", "in pairs mode an item has exactly 2"},
		{"seed past 2^53", "[{model: m, temperature: 1, count: 2, seed: 9007199254740993}]", "comparison.generators[0].seed: must be within ±9007199254740991 (got 9007199254740993)"},
		{"too much for the history", "[{model: m, temperature: 1, count: 8}]\n  max_response_bytes: 200000", "make 8 candidates of up to 200000 bytes each (comparison.max_response_bytes), 1600000 in all, over the 1048576"},
	} {
		_, err := tasktype.Parse([]byte(head+"  generators: "+tc.gens+"\n"), "cmp.yaml")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	rules := strings.Replace(head, "extractor: openai", "extractor: rules", 1) + "  generators: [{model: m, temperature: 1, count: 2}]\n"
	if _, err := tasktype.Parse([]byte(rules), "cmp.yaml"); err == nil || !strings.Contains(err.Error(), "comparison.generators: need a model to generate candidates, but the extractor is rules") {
		t.Errorf("generators with the rules extractor: %v", err)
	}
}
