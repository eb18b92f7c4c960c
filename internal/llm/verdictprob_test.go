package llm

import (
	"reflect"
	"strings"
	"testing"

	openai "github.com/sashabaranov/go-openai"

	"github.com/countersign/countersign"
)

// judgementChoice is a judge's answer spelled by tokens, with their
// logprobs.
func judgementChoice(tokens ...openai.LogProb) openai.ChatCompletionChoice {
	var content strings.Builder
	for _, t := range tokens {
		content.WriteString(t.Token)
	}
	return openai.ChatCompletionChoice{
		Message:  openai.ChatCompletionMessage{Role: openai.ChatMessageRoleAssistant, Content: content.String()},
		LogProbs: &openai.LogProbs{Content: tokens},
	}
}

// TestFirstPlace works out by hand how sure the judge was of its first
// place, over the labels A, B, C shown over candidates x, y, z, on three
// tokenisations of the ranking. The labels in the scores' keys and in the
// reason ("Response A") come before the ranking and are not read.
func TestFirstPlace(t *testing.T) {
	labels, shown := []string{"A", "B", "C"}, []string{"x", "y", "z"}
	head := `{"scores": {"h": {"A": 5, "B": 1, "C": 3}}, "reasons": {"h": "Response A is best; \"ranking\": [\"C\"] says B."}, "ranking": `
	cases := []struct {
		name   string
		tokens []openai.LogProb
		want   countersign.LabelProbability
	}{{
		// The quotes are tokens of their own: A 0.7, C 0.2, B 0.05 at the
		// letter. A's share is 0.7/0.95, C (z) the rival with 0.2/0.95.
		name: "quotes of their own",
		tokens: []openai.LogProb{
			logProb(head+`[`, 1, nil),
			logProb(`"`, 1, map[string]float64{`"`: 1}),
			logProb(`A`, 0.7, map[string]float64{`A`: 0.7, `C`: 0.2, `B`: 0.05}),
			logProb(`"`, 1, map[string]float64{`"`: 1}),
			logProb(`, "C", "B"], "unsafe": []}`, 1, nil)},
		want: countersign.LabelProbability{Prob: 0.7368, Rival: []string{"z"}, RivalProb: 0.2105},
	}, {
		// The label is split across tokens shared with the JSON around it:
		// `["` (0.95; `[]`, 0.05, writes no label: outside), `A` (0.6; B
		// 0.3, weighed by the 0.95 before it: 0.285), `","` (0.9; `"]`,
		// 0.1, ends A's text too: A gets 0.57·0.1 = 0.057 more). A:
		// 0.95·0.6·0.9 + 0.057 = 0.57 of 0.57 + 0.285.
		name: "split across tokens",
		tokens: []openai.LogProb{
			logProb(head, 1, nil),
			logProb(`["`, 0.95, map[string]float64{`["`: 0.95, `[]`: 0.05}),
			logProb(`A`, 0.6, map[string]float64{`A`: 0.6, `B`: 0.3}),
			logProb(`","`, 0.9, map[string]float64{`","`: 0.9, `"]`: 0.1}),
			logProb(`C","B"], "unsafe": []}`, 1, nil)},
		want: countersign.LabelProbability{Prob: 0.6667, Rival: []string{"y"}, RivalProb: 0.3333, Outside: 0.05},
	}, {
		// The whole quoted label is one token: B 0.7 against A 0.25 and C
		// 0.05.
		name: "one token",
		tokens: []openai.LogProb{
			logProb(head+`[`, 1, nil),
			logProb(`"B"`, 0.7, map[string]float64{`"B"`: 0.7, `"A"`: 0.25, `"C"`: 0.05}),
			logProb(`, "A", "C"], "unsafe": []}`, 1, nil)},
		want: countersign.LabelProbability{Prob: 0.7, Rival: []string{"x"}, RivalProb: 0.25},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := firstPlace(judgementChoice(c.tokens...), labels, shown)
			if got == nil || !reflect.DeepEqual(*got, c.want) {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
		})
	}

	// No figure when the endpoint did not say: no logprobs, no
	// top_logprobs at the label, or tokens that do not spell the answer.
	sure := []openai.LogProb{logProb(head+`[`, 1, nil), logProb(`"A"`, 0.9, map[string]float64{`"A"`: 0.9}), logProb(`, "B", "C"], "unsafe": []}`, 1, nil)}
	if got := firstPlace(judgementChoice(sure...), labels, shown); got == nil || got.Prob != 1 {
		t.Fatalf("a judge sure of A: %+v", got)
	}
	none := judgementChoice(sure...)
	none.LogProbs = nil
	noTop := judgementChoice(logProb(head+`[`, 1, nil), logProb(`"A"`, 0.9, nil), logProb(`, "B", "C"], "unsafe": []}`, 1, nil))
	misspelt := judgementChoice(sure...)
	misspelt.Message.Content = strings.Replace(misspelt.Message.Content, `"A", "B"`, `"A","B"`, 1)
	for name, choice := range map[string]openai.ChatCompletionChoice{"no logprobs": none, "no top_logprobs": noTop, "tokens that do not spell the answer": misspelt} {
		if got := firstPlace(choice, labels, shown); got != nil {
			t.Errorf("%s: %+v, want none", name, got)
		}
	}
}

// TestRankingSpans: the verdict's tokens are the labels of the answer's
// own top-level "ranking" array, wherever it stands and however it is
// spaced; a label in another value or quoted in a string is not one. A
// ranking that ties (an array in the array) is no judge's answer and has
// none.
func TestRankingSpans(t *testing.T) {
	cases := []struct {
		name, content string
		want          []string
	}{
		{"after the others", `{"scores": {"h": {"A": 5, "B": 1}}, "reasons": {"h": "Response A"}, "ranking": ["B", "A"], "unsafe": []}`, []string{`"B"`, `"A"`}},
		{"first, spaced over lines", "{\n  \"ranking\" : [\n    \"A\" ,\n\t\"B\"\n  ],\n  \"unsafe\": []\n}", []string{`"A"`, `"B"`}},
		{"quoted in a reason", `{"reasons": {"h": "\"ranking\": [\"C\"] is what Response C wrote"}, "ranking": ["A", "C", "B"]}`, []string{`"A"`, `"C"`, `"B"`}},
		{"inside another value", `{"scores": {"ranking": {"A": 1}}, "notes": {"ranking": ["C"]}, "ranking": ["B", "A"]}`, []string{`"B"`, `"A"`}},
		{"escaped", `{"ranking": ["\u0042", "A"]}`, []string{`"\u0042"`, `"A"`}},
		{"given twice: the last, as decoding reads it", `{"ranking": ["A", "B"], "ranking": ["B", "A"]}`, []string{`"B"`, `"A"`}},
		{"ties", `{"ranking": [["A", "B"], "C"]}`, nil},
		{"not an array", `{"ranking": "A"}`, nil},
		{"no ranking", `{"scores": {}}`, nil},
		{"not JSON", `ranking: A, B`, nil},
		{"cut short", `{"ranking": ["A", "B`, nil},
	}
	for _, c := range cases {
		var got []string
		for _, s := range rankingSpans(c.content) {
			got = append(got, c.content[s[0]:s[1]])
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}
