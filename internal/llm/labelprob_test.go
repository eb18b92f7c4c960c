package llm

import (
	"encoding/json"
	"slices"
	"testing"

	openai "github.com/sashabaranov/go-openai"

	"github.com/countersign/countersign"
)

var socLabels = []string{"true_positive", "benign_true_positive", "false_positive", "needs_investigation"}

// labelAnswer aligns the tokens of an answer whose only field, label, has
// the value they spell between `{"label": {"value": ` and `, "quote": "x"}}`
// (the first and last token given here carry the JSON around it), and
// returns the label probability of the value over labels.
func labelAnswer(t *testing.T, labels []string, tokens ...openai.LogProb) (countersign.LabelProbability, bool) {
	t.Helper()
	var content string
	for _, tok := range tokens {
		content += tok.Token
	}
	aligned := alignTokens(content, tokens, []string{"label"})
	if aligned == nil {
		t.Fatalf("tokens do not align with %s", content)
	}
	lp, ok := aligned.labelProbabilities(content, map[string][]string{"label": labels})["label"]
	return lp, ok
}

// TestLabelProbability works the label probability out by hand on three
// layouts of top_logprobs.
func TestLabelProbability(t *testing.T) {
	head := logProb(`{"label": {"value": `, 1, nil)
	tail := logProb(` "quote": "x"}}`, 1, nil)
	cases := []struct {
		name   string
		labels []string
		tokens []openai.LogProb
		want   countersign.LabelProbability
	}{{
		// Where the labels part (the first word), false holds 0.25 and
		// benign 0.1 for their labels, unknown 0.05 for none. Further on,
		// _pos is true_positive written otherwise (0.6·0.05 for it) and
		// _negative no label (0.6·0.05 outside). true_positive gets
		// 0.6·0.9 + 0.03 = 0.57 of the 0.57 + 0.35 given any label.
		name:   "tokens of their own",
		labels: socLabels,
		tokens: []openai.LogProb{head,
			logProb(`"`, 1, map[string]float64{`"`: 1}),
			logProb(`true`, 0.6, map[string]float64{`true`: 0.6, `false`: 0.25, `benign`: 0.1, `unknown`: 0.05}),
			logProb(`_positive`, 0.9, map[string]float64{`_positive`: 0.9, `_pos`: 0.05, `_negative`: 0.05}),
			logProb(`",`, 1, map[string]float64{`",`: 1}),
			tail},
		want: countersign.LabelProbability{Prob: 0.6196, Rival: []string{"false_positive"}, RivalProb: 0.2717, Outside: 0.08},
	}, {
		// The quotes share tokens with the JSON around the value: ` "true`
		// is another label (0.3), ` null` none (0.05), and `"true`
		// differs from ` "false` before the value starts, in the JSON,
		// so it is left out. _positive", after the value is the same
		// label whatever follows.
		name:   "quotes in the tokens",
		labels: socLabels,
		tokens: []openai.LogProb{logProb(`{"label": {"value":`, 1, nil),
			logProb(` "false`, 0.6, map[string]float64{` "true`: 0.3, `"true`: 0.05, ` null`: 0.05}),
			logProb(`_positive",`, 1, map[string]float64{`_positive",`: 1}),
			tail},
		want: countersign.LabelProbability{Prob: 0.6667, Rival: []string{"true_positive"}, RivalProb: 0.3333, Outside: 0.05},
	}, {
		// benign begins two labels: its 0.9·0.4 and ben's 0.9·0.1 count
		// once, for both, against true_positive's 0.9·0.5; the null
		// before any label is outside the set.
		name:   "a rival shared by two labels",
		labels: []string{"benign_true_positive", "benign_false_positive", "true_positive"},
		tokens: []openai.LogProb{head,
			logProb(`"`, 0.9, map[string]float64{`null`: 0.1}),
			logProb(`true`, 0.5, map[string]float64{`benign`: 0.4, `ben`: 0.1}),
			logProb(`_positive`, 1, map[string]float64{`_positive`: 1}),
			logProb(`",`, 1, map[string]float64{`",`: 1}),
			tail},
		want: countersign.LabelProbability{Prob: 0.5, Rival: []string{"benign_true_positive", "benign_false_positive"}, RivalProb: 0.5, Outside: 0.1},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := labelAnswer(t, c.labels, c.tokens...)
			if !ok || !countersign.SameValue(got, c.want) {
				t.Errorf("label probability = %+v (%v), want %+v", got, ok, c.want)
			}
		})
	}
}

// TestLabelProbabilityOfLabelsSharingAPrefix: true_positive and
// true_positive_confirmed share `"true_positive`; the probability the
// model gave that prefix is theirs together until the token where they
// part, and counts once. tr, true_positive's first word written otherwise,
// begins both, so its 0.1 goes on with the written true's 0.7.
func TestLabelProbabilityOfLabelsSharingAPrefix(t *testing.T) {
	labels := []string{"true_positive", "true_positive_confirmed", "false_positive"}
	head := logProb(`{"label": {"value": `, 1, nil)
	tail := logProb(` "quote": "x"}}`, 1, nil)
	word := logProb(`true`, 0.7, map[string]float64{`true`: 0.7, `false`: 0.2, `tr`: 0.1})

	// Drafted true_positive: after the shared prefix (0.8), _confirmed
	// (0.2) is the other label and "} (0.1) the same one as ",: 0.8·0.8
	// of 1 for true_positive; false_positive's 0.2 is the likeliest rival.
	got, ok := labelAnswer(t, labels, head,
		logProb(`"`, 1, map[string]float64{`"`: 1}), word,
		logProb(`_positive`, 1, map[string]float64{`_positive`: 1}),
		logProb(`",`, 0.7, map[string]float64{`",`: 0.7, `_confirmed`: 0.2, `"}`: 0.1}),
		tail)
	want := countersign.LabelProbability{Prob: 0.64, Rival: []string{"false_positive"}, RivalProb: 0.2}
	if !ok || !countersign.SameValue(got, want) {
		t.Errorf("true_positive: %+v (%v), want %+v", got, ok, want)
	}

	// Drafted true_positive_confirmed: where it wrote _confirmed (0.6),
	// the closing quote, alone or with its comma, is true_positive
	// (0.8·0.4).
	got, ok = labelAnswer(t, labels, head,
		logProb(`"`, 1, map[string]float64{`"`: 1}), word,
		logProb(`_positive`, 1, map[string]float64{`_positive`: 1}),
		logProb(`_confirmed`, 0.6, map[string]float64{`_confirmed`: 0.6, `",`: 0.3, `"`: 0.1}),
		logProb(`",`, 1, map[string]float64{`",`: 1}),
		tail)
	want = countersign.LabelProbability{Prob: 0.48, Rival: []string{"true_positive"}, RivalProb: 0.32}
	if !ok || !countersign.SameValue(got, want) {
		t.Errorf("true_positive_confirmed: %+v (%v), want %+v", got, ok, want)
	}
}

// TestLabelProbabilityAbsent: no figure where the endpoint sent no
// top_logprobs for the value's tokens, for a value outside the labels, or
// for a field that is no label set; and a value the model was sure of
// among the labels is 1 however much it gave a null.
func TestLabelProbabilityAbsent(t *testing.T) {
	head := logProb(`{"label": {"value": `, 1, nil)
	tail := logProb(` "quote": "x"}}`, 1, nil)
	if got, ok := labelAnswer(t, socLabels, head, logProb(`"true`, 0.6, nil), logProb(`_positive",`, 1, nil), tail); ok {
		t.Errorf("without top_logprobs: %+v, want no figure", got)
	}
	if got, ok := labelAnswer(t, socLabels, head, logProb(`"true`, 0.6, map[string]float64{`"false`: 0.4}), logProb(`_positive",`, 1, nil), tail); ok {
		t.Errorf("with top_logprobs at some of the value's tokens only: %+v, want no figure", got)
	}
	if got, ok := labelAnswer(t, socLabels, head, logProb(`"suspicious",`, 0.6, map[string]float64{`"true`: 0.4}), tail); ok {
		t.Errorf("a value outside the labels: %+v, want no figure", got)
	}
	got, ok := labelAnswer(t, socLabels, head, logProb(`"true`, 0.3, map[string]float64{`null`: 0.7}), logProb(`_positive",`, 1, map[string]float64{`_positive",`: 1}), tail)
	if want := (countersign.LabelProbability{Prob: 1, Outside: 0.7}); !ok || !countersign.SameValue(got, want) {
		t.Errorf("mass outside the set only: %+v (%v), want %+v", got, ok, want)
	}

	schema := `{"type": "object", "properties": {
		"label": {"type": "string", "enum": ["a", "b"]},
		"optional": {"type": ["string", "null"], "enum": ["x", "y", null]},
		"one": {"type": "string", "enum": ["only"]},
		"mixed": {"enum": ["a", 1]},
		"free": {"type": "string"}}}`
	got2 := fieldLabels(&countersign.TaskType{Schema: json.RawMessage(schema)})
	if len(got2) != 2 || !slices.Equal(got2["label"], []string{"a", "b"}) || !slices.Equal(got2["optional"], []string{"x", "y"}) {
		t.Errorf("label sets %v, want label's and optional's only", got2)
	}
}
