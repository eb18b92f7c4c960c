package scoring_test

import (
	"strings"
	"testing"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/schema"
	"github.com/countersign/countersign/internal/scoring"
	"github.com/countersign/countersign/internal/tasktype"
)

const pairSpec = `
name: pair
guideline: Rank the answers.
extractor: openai
model: {name: judge, temperature: 0}
comparison:
  rubric: [{name: helpfulness, scale: {min: 1, max: 5}}]
  unsafe_reasons: [{code: self_harm}]
  unacceptable_reasons: [{code: all_wrong}]
policy: {mode: hotl, auto_accept_threshold: 0.9}
`

const pairItem = `{"id": "p1", "prompt": "2+2?", "candidates": [{"id": "x", "response": "4"}, {"id": "y", "response": "5"}]}`

// TestVerdictProb: the ranking's verdict_prob is the mean, over the
// judgements that came with top_logprobs, of the probability each gave its
// own first place; an unsure one is named in a reason with its rival; it
// weighs 0 by default (recorded, out of the raw score) and, weighed 1,
// counts beside schema and position; without top_logprobs it is absent,
// not 0 or 1.
func TestVerdictProb(t *testing.T) {
	tt, err := tasktype.Parse([]byte(pairSpec), "pair.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if w, ok := tt.Weights[countersign.SignalVerdictProb]; !ok || w != 0 {
		t.Fatalf("verdict_prob's default weight %v (%v), want 0", w, ok)
	}
	compiled, err := schema.Compile(tt.Schema)
	if err != nil {
		t.Fatal(err)
	}
	lp := func(p float64, rival string) *countersign.LabelProbability {
		return &countersign.LabelProbability{Prob: p, Rival: []string{rival}, RivalProb: 1 - p}
	}
	draft := func(first, second []*countersign.LabelProbability) *countersign.Draft {
		return &countersign.Draft{
			Fields: countersign.Fields{"ranking": []any{"x", "y"}, "scores": map[string]any{"helpfulness": map[string]any{"x": 5.0, "y": 1.0}}},
			Orders: []countersign.JudgeOrder{
				{Order: []string{"x", "y"}, Ranking: []string{"x", "y"}, FirstPlace: first},
				{Order: []string{"y", "x"}, Ranking: []string{"x", "y"}, FirstPlace: second},
			},
		}
	}
	score := func(d *countersign.Draft) countersign.FieldScore {
		c := scoring.Score(scoring.Input{TaskType: tt, Schema: compiled, Draft: d, Content: pairItem})
		return c.Fields["ranking"]
	}

	// At the default weight the figure is recorded and the raw score is
	// schema and position alone.
	rank := score(draft([]*countersign.LabelProbability{lp(0.6, "y")}, []*countersign.LabelProbability{lp(0.9, "y")}))
	if v := rank.Signals[countersign.SignalVerdictProb]; v != 0.75 || rank.Raw != 1 {
		t.Errorf("default weight: verdict_prob %v, raw %v; want 0.75 recorded and raw 1", v, rank.Raw)
	}
	tt.Weights[countersign.SignalVerdictProb] = 1

	// Order 1 gave x 0.6 (y 0.4), order 2 x 0.9: mean 0.75; the raw score
	// is (schema 1 + position 1 + 0.75) / 3 = 0.9167.
	rank = score(draft([]*countersign.LabelProbability{lp(0.6, "y")}, []*countersign.LabelProbability{lp(0.9, "y")}))
	if v, ok := rank.Signals[countersign.SignalVerdictProb]; !ok || v != 0.75 || rank.Raw != 0.9167 {
		t.Errorf("verdict_prob %v (%v), raw %v; want 0.75 and 0.9167: %+v", v, ok, rank.Raw, rank)
	}
	reasons := strings.Join(rank.Reasons, "; ")
	if !strings.Contains(reasons, "the judge was unsure of its first place") || !strings.Contains(reasons, "in order 1 (shown x,y) it gave x 0.60 and y 0.40") || strings.Contains(reasons, "order 2") {
		t.Errorf("reasons %q, want order 1 named with x 0.60 and y 0.40, order 2 (0.9) not", reasons)
	}

	// One order's answer came without top_logprobs: the mean is the
	// other's, 0.6; raw (1 + 1 + 0.6) / 3.
	rank = score(draft([]*countersign.LabelProbability{lp(0.6, "y")}, nil))
	if v := rank.Signals[countersign.SignalVerdictProb]; v != 0.6 || rank.Raw != 0.8667 {
		t.Errorf("one order read: verdict_prob %v, raw %v; want 0.6 and 0.8667", v, rank.Raw)
	}

	// None came with them: absent, and the raw score is schema and
	// position alone.
	rank = score(draft(nil, nil))
	if v, ok := rank.Signals[countersign.SignalVerdictProb]; ok || rank.Raw != 1 {
		t.Errorf("no top_logprobs: verdict_prob %v recorded, raw %v; want absent and 1", v, rank.Raw)
	}
	rank = score(draft([]*countersign.LabelProbability{nil}, []*countersign.LabelProbability{nil}))
	if _, ok := rank.Signals[countersign.SignalVerdictProb]; ok {
		t.Errorf("judgements without figures: verdict_prob recorded %+v", rank)
	}

	// With two samples per order, each sample's figure is of its own first
	// place: the second sample of order 2 put y first, with 0.55 (x 0.45),
	// the first's figure is missing. Mean of 0.9, 0.8 and 0.55: 0.75.
	d := draft([]*countersign.LabelProbability{lp(0.9, "y"), lp(0.8, "y")}, []*countersign.LabelProbability{nil, lp(0.55, "x")})
	d.Orders[0].Samples = [][]string{{"x", "y"}}
	d.Orders[1].Samples = [][]string{{"y", "x"}}
	rank = score(d)
	reasons = strings.Join(rank.Reasons, "; ")
	if v := rank.Signals[countersign.SignalVerdictProb]; v != 0.75 || !strings.Contains(reasons, "in order 2 (shown y,x), usable sample 2 it gave y 0.55 and x 0.45") || strings.Contains(reasons, "order 1 (shown x,y), usable sample") {
		t.Errorf("samples: verdict_prob %v, reasons %q; want 0.75 naming order 2's second sample only", v, reasons)
	}

	// Weighed 0 again (the default), it is kept for calibration, out of
	// the raw score.
	tt.Weights[countersign.SignalVerdictProb] = 0
	rank = score(draft([]*countersign.LabelProbability{lp(0.6, "y")}, []*countersign.LabelProbability{lp(0.9, "y")}))
	if v := rank.Signals[countersign.SignalVerdictProb]; v != 0.75 || rank.Raw != 1 {
		t.Errorf("weighed 0: verdict_prob %v, raw %v; want 0.75 recorded and raw 1", v, rank.Raw)
	}
}
