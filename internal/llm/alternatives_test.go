package llm_test

import (
	"math"
	"testing"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/llm/llmtest"
)

// TestAlternatives: the extractor asks for top_logprobs, and per field keeps
// the position of the value where the other top tokens held the most
// probability. The year of the due date was nearly 2024, and the total's
// first token nearly 1520; the same tokens in the quotes do not count.
func TestAlternatives(t *testing.T) {
	srv := llmtest.New(t)
	srv.Enqueue(llmtest.Reply{Choices: []llmtest.Choice{{
		Content: goodAnswer(),
		Alternatives: map[string]map[string]float64{
			"2025": {"2024": math.Log(0.3), "2026": math.Log(0.05)},
			"07":   {"01": math.Log(0.1)},
			"1250": {"1520": math.Log(0.2)},
		},
	}}})
	draft, err := extractWith(t, srv, invoiceType(t, 1, 0), invoice)
	if err != nil {
		t.Fatal(err)
	}
	if req := srv.Requests()[0]; !req.LogProbs || req.TopLogProbs != 5 {
		t.Errorf("logprobs %v, top_logprobs %d; want both asked for, 5 a token", req.LogProbs, req.TopLogProbs)
	}
	want := map[string]countersign.TokenAlternatives{
		// The year, where 2024 and 2026 held 0.35, not the month (0.1).
		"due_date": {Mass: 0.35, Token: "2025", Other: "2024", OtherProb: 0.3},
		"total":    {Mass: 0.2, Token: "1250", Other: "1520", OtherProb: 0.2},
		// No position of the vendor had another top token.
		"vendor": {Mass: 0, Token: `"`},
	}
	if !countersign.SameValue(draft.Alternatives, want) {
		t.Errorf("alternatives = %+v\nwant %+v", draft.Alternatives, want)
	}
}

// TestNoTopLogprobs: an endpoint that sends logprobs without top_logprobs,
// or no logprobs at all, leaves the alternatives out rather than claiming
// the model saw none.
func TestNoTopLogprobs(t *testing.T) {
	for _, choice := range []llmtest.Choice{
		{Content: goodAnswer(), NoTopLogprobs: true, Alternatives: map[string]map[string]float64{"2025": {"2024": -1}}},
		{Content: goodAnswer(), NoLogprobs: true},
	} {
		srv := llmtest.New(t)
		srv.Enqueue(llmtest.Reply{Choices: []llmtest.Choice{choice}})
		draft, err := extractWith(t, srv, invoiceType(t, 1, 0), invoice)
		if err != nil {
			t.Fatal(err)
		}
		if draft.Alternatives != nil {
			t.Errorf("alternatives = %v without top_logprobs", draft.Alternatives)
		}
	}
}
