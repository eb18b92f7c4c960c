package llm_test

import (
	"strings"
	"testing"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/llm/llmtest"
	"github.com/countersign/countersign/internal/schema"
	"github.com/countersign/countersign/internal/scoring"
	"github.com/countersign/countersign/internal/tasktype"
)

const rankingSpec = `
name: ranking
guideline: Rank the answers.
extractor: openai
model: {name: judge, temperature: 0}
comparison:
  rubric: [{name: helpfulness, scale: {min: 1, max: 5}}]
  unsafe_reasons: [{code: self_harm}]
  unacceptable_reasons: [{code: all_wrong}]
  judge_orders: 3
policy: {mode: hotl, auto_accept_threshold: 0.9}
`

const rankingItem = `{"id": "i1", "prompt": "2+2?", "candidates": [
  {"id": "x", "response": "4"}, {"id": "y", "response": "5"}, {"id": "z", "response": "four, I think"}]}`

// TestJudgeOrders: three candidates are shown as submitted, reversed and
// rotated by one, always under the labels A, B, C; the draft maps each
// order's labels back to candidate IDs. A judge whose answers agree gives
// the position signal 1; one order's unusable answer leaves the position
// bias unmeasured, which scores 0.
func TestJudgeOrders(t *testing.T) {
	tt, err := tasktype.Parse([]byte(rankingSpec), "ranking.yaml")
	if err != nil {
		t.Fatal(err)
	}
	compiled, err := schema.Compile(tt.Schema)
	if err != nil {
		t.Fatal(err)
	}
	judge := func(ranking, scores string) llmtest.Reply {
		return llmtest.Answer(`{"scores": {"helpfulness": ` + scores + `}, "reasons": {"helpfulness": "Response A is right."}, "ranking": ` + ranking + `, "unsafe": []}`)
	}
	srv := llmtest.New(t)
	srv.Enqueue(
		judge(`["A", "C", "B"]`, `{"A": 5, "B": 1, "C": 3}`), // x, y, z
		judge(`["C", "A", "B"]`, `{"A": 3, "B": 1, "C": 5}`), // z, y, x
		judge(`["C", "B", "A"]`, `{"A": 1, "B": 3, "C": 5}`), // y, z, x
	)
	draft, err := extractWith(t, srv, tt, rankingItem)
	if err != nil {
		t.Fatal(err)
	}
	var shown []string
	for _, r := range srv.Requests() {
		user := r.Messages[1].Content
		shown = append(shown, string(user[strings.Index(user, "Response A:\n<<<\n")+16]))
		if !strings.Contains(user, "Response C:") || strings.Contains(user, `"x"`) {
			t.Fatalf("request shows %s", user)
		}
	}
	if got := strings.Join(shown, ","); got != "4,f,5" {
		t.Errorf("first shown per order: %s, want as submitted (4), reversed (four), rotated (5)", got)
	}
	if got := countersign.SameValue(draft.Fields["ranking"], []any{"x", "z", "y"}); !got || len(draft.Orders) != 3 {
		t.Fatalf("ranking %v, orders %+v", draft.Fields["ranking"], draft.Orders)
	}
	if r := draft.Fields["reasons"].(map[string]any)["helpfulness"]; r != "candidate x is right." {
		t.Errorf("reasons %v", r)
	}
	score := func(d *countersign.Draft) *countersign.Confidence {
		return scoring.Score(scoring.Input{TaskType: tt, Schema: compiled, Draft: d, Content: rankingItem})
	}
	if c := score(draft); c.Fields["ranking"].Signals[countersign.SignalPosition] != 1 || c.Overall != 1 {
		t.Errorf("a steady judge: %+v", c)
	}

	srv.Enqueue(
		judge(`["A", "C", "B"]`, `{"A": 5, "B": 1, "C": 3}`),
		llmtest.Answer(`{"ranking": "C"}`),
		judge(`["C", "B", "A"]`, `{"A": 1, "B": 3, "C": 5}`),
	)
	draft, err = extractWith(t, srv, tt, rankingItem)
	if err != nil {
		t.Fatal(err)
	}
	if len(draft.Orders) != 2 || len(draft.Notes) != 1 || !strings.Contains(draft.Notes[0], "order 2 (z, y, x): the judge's answer was unusable") {
		t.Fatalf("orders %+v, notes %v", draft.Orders, draft.Notes)
	}
	c := score(draft)
	if rank := c.Fields["ranking"]; rank.Signals[countersign.SignalPosition] != 0 || !strings.Contains(strings.Join(rank.Reasons, ";"), "only 2 of the 3 orders") {
		t.Errorf("a judge with an unusable order: %+v", rank)
	}

	// Two candidates have two orders only, however many the task type
	// asks for: both seen, the position is measured.
	pair := `{"id": "i2", "prompt": "2+2?", "candidates": [{"id": "x", "response": "4"}, {"id": "y", "response": "5"}]}`
	srv.Enqueue(judge(`["A", "B"]`, `{"A": 5, "B": 1}`), judge(`["B", "A"]`, `{"A": 1, "B": 5}`))
	before := len(srv.Requests())
	if draft, err = extractWith(t, srv, tt, pair); err != nil {
		t.Fatal(err)
	}
	c = scoring.Score(scoring.Input{TaskType: tt, Schema: compiled, Draft: draft, Content: pair})
	if n := len(srv.Requests()) - before; n != 2 || c.Fields["ranking"].Signals[countersign.SignalPosition] != 1 || c.Overall != 1 {
		t.Errorf("a pair: %d requests, %+v", n, c.Fields["ranking"])
	}
}
