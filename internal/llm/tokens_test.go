package llm

import (
	"math"
	"testing"

	openai "github.com/sashabaranov/go-openai"

	"github.com/countersign/countersign"
)

// logProb is a token the model wrote with probability p, and the other
// tokens it weighed there with theirs.
func logProb(text string, p float64, tops map[string]float64) openai.LogProb {
	lp := openai.LogProb{Token: text, LogProb: math.Log(p), Bytes: []byte(text)}
	for other, q := range tops {
		lp.TopLogProbs = append(lp.TopLogProbs, openai.TopLogProbs{Token: other, LogProb: math.Log(q)})
	}
	return lp
}

// TestAlternativesAtTheValuesEdge: a token that spells the end of a value
// and the JSON after it (`me",`) has other top tokens that change only the
// JSON (`me"}`): they are not alternatives to the value; one that changes
// the value (`ma`) is.
func TestAlternativesAtTheValuesEdge(t *testing.T) {
	tokens := []openai.LogProb{
		logProb(`{"a": {"value": `, 1, nil),
		logProb(`"Ac`, 0.9, map[string]float64{`"Ac`: 0.9, `"Ab`: 0.1}),
		logProb(`me",`, 0.3, map[string]float64{`me"}`: 0.5, `me",`: 0.3, `ma`: 0.2}),
		logProb(` "quote": "x"}}`, 1, nil),
	}
	content := `{"a": {"value": "Acme", "quote": "x"}}`
	aligned := alignTokens(content, tokens, []string{"a"})
	if aligned == nil {
		t.Fatal("tokens not aligned with the answer")
	}
	got := aligned.alternatives()["a"]
	want := countersign.TokenAlternatives{Mass: 0.2, Token: `me",`, Other: "ma", OtherProb: 0.2}
	if got != want {
		t.Errorf("alternatives = %+v, want %+v", got, want)
	}
	if p := aligned.probabilities()["a"]; p != round4(0.9*0.3) {
		t.Errorf("token probability = %v, want 0.27", p)
	}
}

// TestNullTokens: the null a model writes for a field it says the document
// does not state has a probability and alternatives like a value's, and a
// draft that leaves the field empty by the vote keeps those of the sample
// the vote took.
func TestNullTokens(t *testing.T) {
	tokens := []openai.LogProb{
		logProb(`{"a": `, 1, nil),
		logProb(`null`, 0.7, map[string]float64{`null`: 0.7, `{"`: 0.3}),
		logProb(`, "b": {"value": "x", "quote": "x"}}`, 1, nil),
	}
	content := `{"a": null, "b": {"value": "x", "quote": "x"}}`
	aligned := alignTokens(content, tokens, []string{"a", "b"})
	if aligned == nil {
		t.Fatal("tokens not aligned with the answer")
	}
	if p := aligned.probabilities()["a"]; p != 0.7 {
		t.Errorf("null's token probability = %v, want 0.7", p)
	}
	if got, want := aligned.alternatives()["a"], (countersign.TokenAlternatives{Mass: 0.3, Token: "null", Other: `{"`, OtherProb: 0.3}); got != want {
		t.Errorf("null's alternatives = %+v, want %+v", got, want)
	}

	tt := &countersign.TaskType{FieldOrder: []string{"a"}}
	answers := []answer{
		{usable: true, values: countersign.Fields{"a": "x"}, quotes: map[string]string{"a": "x"}, tokenProb: map[string]float64{"a": 0.4}},
		{usable: true, values: countersign.Fields{}, tokenProb: map[string]float64{"a": 0.6}},
		{usable: true, values: countersign.Fields{}, tokenProb: map[string]float64{"a": 0.9}},
	}
	draft := vote(tt, answers, "x")
	if _, ok := draft.Fields["a"]; ok || draft.TokenProb["a"] != 0.6 {
		t.Errorf("fields %v token probabilities %v, want a left empty with the first null's 0.6", draft.Fields, draft.TokenProb)
	}
}
