package llm_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/llm"
	"github.com/countersign/countersign/internal/llm/llmtest"
	"github.com/countersign/countersign/internal/tasktype"
)

var generatedSpec = strings.Replace(rankingSpec, "  judge_orders: 3\n", `  judge_orders: 3
  max_response_bytes: 40
  generators:
    - {name: a, model: gen-a, temperature: 0.5, count: 2, seed: 3}
`, 1)

// TestGenerateRefuses: a response over max_response_bytes, an empty one
// and a refusal fail for good, naming the generator and the candidate; a
// rate limit is temporary; a response cut at the token limit is kept with
// a note.
func TestGenerateRefuses(t *testing.T) {
	tt, err := tasktype.Parse([]byte(generatedSpec), "generated.yaml")
	if err != nil {
		t.Fatal(err)
	}
	doc := &countersign.Document{ID: "d1", Content: `{"id": "i1", "prompt": "2+2?"}`}
	for _, tc := range []struct {
		name      string
		second    llmtest.Reply
		want      string
		temporary bool
	}{
		{"too long", llmtest.Answer(strings.Repeat("4", 41)), "generator a (model gen-a), candidate a-2: the response is 41 bytes, over the 40 of comparison.max_response_bytes", false},
		{"empty", llmtest.Answer("  "), "generator a (model gen-a), candidate a-2: the response is empty", false},
		{"refusal", llmtest.Reply{Choices: []llmtest.Choice{{Refusal: "no"}}}, "generator a (model gen-a), candidate a-2: the model refused", false},
		{"rate limited", llmtest.Fail(429), "generator a (model gen-a), candidate a-2: the model endpoint answered 429", true},
	} {
		srv := llmtest.New(t)
		srv.Enqueue(llmtest.Answer("4"), tc.second)
		_, err := llm.NewOpenAI(llm.OpenAIConfig{BaseURL: srv.BaseURL()}).Generate(context.Background(), tt, doc)
		var temp interface{ Temporary() bool }
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.As(err, &temp) || temp.Temporary() != tc.temporary {
			t.Errorf("%s: %v, want %q (temporary %v)", tc.name, err, tc.want, tc.temporary)
		}
	}
	srv := llmtest.New(t)
	srv.Enqueue(llmtest.Answer("4"), llmtest.Reply{Choices: []llmtest.Choice{{Content: "four and", FinishReason: "length"}}})
	draft, err := llm.NewOpenAI(llm.OpenAIConfig{BaseURL: srv.BaseURL()}).Generate(context.Background(), tt, doc)
	if err != nil || !draft.CandidatesOnly() || len(draft.Candidates) != 2 || draft.Candidates[1].ID != "a-2" || draft.Candidates[1].Params["seed"] != 4 ||
		len(draft.Notes) != 1 || !strings.Contains(draft.Notes[0], "candidate a-2 (generator a) was cut at its token limit") {
		t.Fatalf("a cut response: %+v %v", draft, err)
	}
	if want := len(llmtest.Tokenize("4")) + len(llmtest.Tokenize("four and")); draft.Usage == nil || draft.Usage.CompletionTokens != want {
		t.Fatalf("the candidates' usage %+v, want %d completion tokens", draft.Usage, want)
	}
}
