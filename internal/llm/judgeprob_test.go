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

// hesitant is a judge's answer whose first-place label the model wrote
// with probability p, giving rival the rest, every other token sure.
func hesitant(answer string, p float64, rival string) llmtest.Choice {
	at := strings.Index(answer, `"ranking": ["`) + len(`"ranking": ["`)
	return llmtest.Choice{Content: answer, Tokens: llmtest.Doubt(answer, at, p, map[string]float64{rival: 1 - p})}
}

// TestJudgeVerdictProb: the judge's requests ask for logprobs and the top
// 5 top_logprobs, and over real HTTP the probability the wire gave each
// order's first-place label becomes the ranking's verdict_prob, mapped
// back to candidate IDs. Two candidates, two orders: as submitted the
// judge wrote A (x) at 0.6 against B (y) 0.4; reversed, B (x) at 0.9
// against A (y) 0.1. verdict_prob is (0.6 + 0.9) / 2 = 0.75, order 1 is
// named as unsure, and, with the task type weighing it 1 (its default is
// 0), the raw score (schema 1, position 1, 0.75) / 3 = 0.9167. A judge that wrote its labels as sure has 1 and confidence 1; an
// endpoint that sends no logprobs, or no top_logprobs, gives no figure.
// With two samples per order, each sample's figure is kept in turn.
func TestJudgeVerdictProb(t *testing.T) {
	tt, err := tasktype.Parse([]byte(rankingSpec), "ranking.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tt.Weights[countersign.SignalVerdictProb] = 1
	compiled, err := schema.Compile(tt.Schema)
	if err != nil {
		t.Fatal(err)
	}
	pair := `{"id": "i2", "prompt": "2+2?", "candidates": [{"id": "x", "response": "4"}, {"id": "y", "response": "5"}]}`
	judgement := func(ranking string) string {
		return `{"scores": {"helpfulness": {"A": 3, "B": 3}}, "reasons": {"helpfulness": "Response A and Response B"}, "ranking": ` + ranking + `, "unsafe": []}`
	}
	srv := llmtest.New(t)
	srv.Enqueue(
		llmtest.Reply{Choices: []llmtest.Choice{hesitant(judgement(`["A", "B"]`), 0.6, "B")}},
		llmtest.Reply{Choices: []llmtest.Choice{hesitant(judgement(`["B", "A"]`), 0.9, "A")}},
	)
	draft, err := extractWith(t, srv, tt, pair)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range srv.Requests() {
		if !r.LogProbs || r.TopLogProbs != 5 {
			t.Fatalf("the judge's request asked logprobs %v, top_logprobs %d; want true, 5", r.LogProbs, r.TopLogProbs)
		}
	}
	if len(draft.Orders) != 2 {
		t.Fatalf("orders %+v", draft.Orders)
	}
	for k, want := range []countersign.LabelProbability{
		{Prob: 0.6, Rival: []string{"y"}, RivalProb: 0.4},
		{Prob: 0.9, Rival: []string{"y"}, RivalProb: 0.1},
	} {
		got := draft.Orders[k].FirstPlace
		if len(got) != 1 || got[0] == nil || got[0].Prob != want.Prob || strings.Join(got[0].Rival, ",") != "y" || got[0].RivalProb != want.RivalProb {
			t.Fatalf("order %d's first place: %+v, want %+v", k+1, got, want)
		}
	}
	c := scoring.Score(scoring.Input{TaskType: tt, Schema: compiled, Draft: draft, Content: pair})
	rank := c.Fields["ranking"]
	if rank.Signals[countersign.SignalVerdictProb] != 0.75 || rank.Signals[countersign.SignalPosition] != 1 || rank.Raw != 0.9167 ||
		!strings.Contains(strings.Join(rank.Reasons, "; "), "in order 1 (shown x,y) it gave x 0.60 and y 0.40") {
		t.Fatalf("an unsure judge's ranking: %+v", rank)
	}

	// Sure: every token at logprob -0.001, no other token in
	// top_logprobs.
	srv.Enqueue(llmtest.Answer(judgement(`["A", "B"]`)), llmtest.Answer(judgement(`["B", "A"]`)))
	if draft, err = extractWith(t, srv, tt, pair); err != nil {
		t.Fatal(err)
	}
	c = scoring.Score(scoring.Input{TaskType: tt, Schema: compiled, Draft: draft, Content: pair})
	if v := c.Fields["ranking"].Signals[countersign.SignalVerdictProb]; v != 1 || c.Overall != 1 {
		t.Fatalf("a sure judge: verdict_prob %v, overall %v; want 1 and 1", v, c.Overall)
	}

	// No logprobs, or empty top_logprobs: nothing recorded, not a 0.
	srv.Enqueue(
		llmtest.Reply{Choices: []llmtest.Choice{{Content: judgement(`["A", "B"]`), NoLogprobs: true}}},
		llmtest.Reply{Choices: []llmtest.Choice{{Content: judgement(`["B", "A"]`), NoTopLogprobs: true}}},
	)
	if draft, err = extractWith(t, srv, tt, pair); err != nil {
		t.Fatal(err)
	}
	c = scoring.Score(scoring.Input{TaskType: tt, Schema: compiled, Draft: draft, Content: pair})
	if v, ok := c.Fields["ranking"].Signals[countersign.SignalVerdictProb]; ok || draft.Orders[0].FirstPlace != nil || draft.Orders[1].FirstPlace != nil || c.Overall != 1 {
		t.Fatalf("no top_logprobs: verdict_prob %v recorded, orders %+v, overall %v", v, draft.Orders, c.Overall)
	}

	// Two samples per order: the first sample of order 1 came without
	// logprobs, so its figure is nil and the second's follows it; order 2
	// reads both. Mean of 0.8, 0.7 and 0.95: 0.8167.
	two := strings.Replace(rankingSpec, "model: {name: judge, temperature: 0}", "model: {name: judge, temperature: 1, samples: 2}", 1)
	if tt, err = tasktype.Parse([]byte(two), "ranking.yaml"); err != nil {
		t.Fatal(err)
	}
	bare := llmtest.Choice{Content: judgement(`["A", "B"]`), NoLogprobs: true}
	srv.Enqueue(
		llmtest.Reply{Choices: []llmtest.Choice{bare, hesitant(judgement(`["A", "B"]`), 0.8, "B")}},
		llmtest.Reply{Choices: []llmtest.Choice{hesitant(judgement(`["B", "A"]`), 0.7, "A"), hesitant(judgement(`["B", "A"]`), 0.95, "A")}},
	)
	if draft, err = extractWith(t, srv, tt, pair); err != nil {
		t.Fatal(err)
	}
	first, second := draft.Orders[0].FirstPlace, draft.Orders[1].FirstPlace
	if len(first) != 2 || first[0] != nil || first[1] == nil || first[1].Prob != 0.8 || len(second) != 2 || second[0].Prob != 0.7 || second[1].Prob != 0.95 {
		t.Fatalf("first places per sample: %+v / %+v", first, second)
	}
	c = scoring.Score(scoring.Input{TaskType: tt, Schema: compiled, Draft: draft, Content: pair})
	if v := c.Fields["ranking"].Signals[countersign.SignalVerdictProb]; v != 0.8167 {
		t.Fatalf("samples: verdict_prob %v, want 0.8167", v)
	}
}

// TestVerdictProbSpeaksForTheRankingRead: an answer that gives its ranking
// twice, as "ranking" and as "RANKING", is read as the judgement's ranking
// by the last (keys match regardless of case), while the verdict tokens
// are found under the exact key; the figure of a label the ranking does
// not put first is not kept.
func TestVerdictProbSpeaksForTheRankingRead(t *testing.T) {
	tt, err := tasktype.Parse([]byte(rankingSpec), "ranking.yaml")
	if err != nil {
		t.Fatal(err)
	}
	pair := `{"id": "i3", "prompt": "2+2?", "candidates": [{"id": "x", "response": "4"}, {"id": "y", "response": "5"}]}`
	twice := `{"scores": {"helpfulness": {"A": 3, "B": 3}}, "reasons": {"helpfulness": "alike"}, "ranking": ["A", "B"], "unsafe": [], "RANKING": ["B", "A"]}`
	srv := llmtest.New(t)
	srv.Enqueue(
		llmtest.Reply{Choices: []llmtest.Choice{hesitant(twice, 0.6, "B")}},
		llmtest.Reply{Choices: []llmtest.Choice{hesitant(twice, 0.6, "B")}},
	)
	draft, err := extractWith(t, srv, tt, pair)
	if err != nil {
		t.Fatal(err)
	}
	if len(draft.Orders) == 0 {
		t.Fatalf("no usable order: %+v", draft)
	}
	for k, o := range draft.Orders {
		for _, fp := range o.FirstPlace {
			if fp != nil {
				t.Errorf("order %d (ranking %v) kept a first-place figure %+v read from another label", k+1, o.Ranking, fp)
			}
		}
	}
}
